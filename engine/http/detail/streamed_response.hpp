// A handler's streamed answer on a connection (Exchange::begin_stream and the rest), written
// through the connection's ResponseWriter: where the stream is, and what the connection can do
// once the handler returns. The server's sessions and serve_streaming() (beast_serve.hpp) both
// stream through it.
// Thread-safety: the connection's I/O thread only.
#pragma once

#include <string_view>

#include "channel/result.hpp"
#include "engine/http/beast.hpp"
#include "engine/http/detail/response_writer.hpp"

namespace paychan::engine::http::detail {

// What a connection does after an answer: read the next request; close (the answer written, a
// lingering close: ResponseWriter::linger_close); or drop it at once (the answer is broken off, or
// could not be written).
enum class AfterAnswer { read_next, close, drop };

class StreamedResponse {
 public:
  explicit StreamedResponse(ResponseWriter& writer) noexcept : writer_(writer) {}

  // Forgets the last request's stream.
  void reset() noexcept { state_ = State::none; }
  // Sends `head` (ResponseWriter::begin_stream frames it); `keep_alive`: whether the request, the
  // handler and the server let the connection take another request once the stream ends.
  [[nodiscard]] Awaitable<Status> begin(BeastResponse& head, bool head_only, bool keep_alive);
  [[nodiscard]] Awaitable<Status> write(std::string_view piece);
  [[nodiscard]] Awaitable<Status> end();
  [[nodiscard]] bool begun() const noexcept { return state_ != State::none; }
  [[nodiscard]] bool unfinished() const noexcept { return state_ == State::open; }
  // Once the handler has returned, having begun a stream (and thrown or not): its head is on the
  // wire, so only a stream that ended leaves the connection usable.
  [[nodiscard]] AfterAnswer after(bool threw) const noexcept;

 private:
  enum class State { none, open, ended };
  ResponseWriter& writer_;
  State state_ = State::none;
  bool keep_alive_ = false;
};

}  // namespace paychan::engine::http::detail
