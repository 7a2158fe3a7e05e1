// Writes responses onto one server connection, with a write timeout before every write.
//
// Buffered responses are serialized into one output buffer and sent together: the responses to
// several pipelined requests leave in one write. Streamed responses go out piece by piece with the
// framing chosen from their head (Content-Length, chunked, or close-delimited).
// Thread-safety: owned by one session, used on its I/O thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "channel/result.hpp"
#include "engine/http/beast.hpp"
#include "engine/http/server_options.hpp"

namespace paychan::engine::http::detail {

class ResponseWriter {
 public:
  ResponseWriter(beast::tcp_stream& stream, const ServerLimits& limits) : stream_(stream), limits_(limits) {}

  // Appends a complete, prepared response to the batch (small ones are copied, see send()).
  [[nodiscard]] Awaitable<Status> send(const BeastResponse& response);
  [[nodiscard]] std::size_t queued() const noexcept { return queued_; }
  // Writes the batch.
  [[nodiscard]] Awaitable<Status> flush();
  // "100 Continue", for a client waiting to send its body.
  [[nodiscard]] Awaitable<Status> send_continue();

  // Streaming: the head (flushing the batch before it), body pieces, the end. begin_stream() sets
  // the framing headers on `head`; after it, head.keep_alive() tells whether the connection can be
  // reused once the stream ends.
  [[nodiscard]] Awaitable<Status> begin_stream(BeastResponse& head, bool head_only);
  [[nodiscard]] Awaitable<Status> write_piece(std::string_view piece);
  [[nodiscard]] Awaitable<Status> end_stream();

  // The last answer given: writes the batch, shuts the sending side and reads and discards what the
  // client still sends, until it closes too or the linger limits end it. Closing with unread input
  // would reset the connection, and the client could lose the answer it has not read yet.
  [[nodiscard]] Awaitable<void> linger_close();

 private:
  enum class Framing { none, length, chunked, close };

  void serialize(const BeastResponse& response, bool header_only);
  template <typename Buffers>
  Awaitable<Status> write(const Buffers& buffers);

  beast::tcp_stream& stream_;
  const ServerLimits& limits_;
  beast::flat_buffer out_;
  std::size_t queued_ = 0;
  Framing framing_ = Framing::none;
  std::uint64_t remaining_ = 0;  // Framing::length: bytes still owed
};

}  // namespace paychan::engine::http::detail
