// Reads requests off one server connection: a fresh parser per message with the configured header
// and body limits, a timeout armed before every read.
//
// It feeds Beast's parser itself instead of calling http::async_read so that the session can ask
// whether the next pipelined request is already complete in the buffer, without touching the
// socket (that decides when queued responses must be flushed).
//
// Timeouts: while no byte of the next request has arrived the connection is idle (idle_timeout);
// from the first byte on, the whole request must arrive by one deadline (request_timeout), however
// the client spreads its bytes.
// Thread-safety: owned by one session, used on its I/O thread.
#pragma once

#include <chrono>
#include <optional>

#include "engine/http/beast.hpp"
#include "engine/http/server_options.hpp"

namespace paychan::engine::http::detail {

class RequestReader {
 public:
  enum class Outcome {
    complete,          // take() the request
    need_more,         // receive() more bytes, then parse again
    header_too_large,  // 431
    body_too_large,    // 413
    malformed,         // 400
  };

  explicit RequestReader(const ServerLimits& limits);

  // Starts the next message with a fresh parser.
  void begin();
  // Parses the bytes already received. Never does I/O.
  [[nodiscard]] Outcome parse_buffered();
  // Reads once from the socket into the buffer, with the timeout that applies now. The error is
  // the read's (end_of_stream, beast::error::timeout, operation_aborted …).
  [[nodiscard]] Awaitable<error_code> receive(beast::tcp_stream& stream);
  // No byte of the current message received yet: the connection is between requests.
  [[nodiscard]] bool idle() const noexcept;
  // True once per message, when its header asks `Expect: 100-continue` and the body is still to come.
  [[nodiscard]] bool wants_continue() noexcept;
  // The complete request; begin() before parsing the next one.
  [[nodiscard]] BeastRequest take();
  // A copy of the request's header, without its body: once the header is complete.
  [[nodiscard]] BeastRequest head() const;

 private:
  const ServerLimits& limits_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool continue_answered_ = false;
  bool head_checked_ = false;  // the header is complete and passed acceptable_head()
  std::size_t head_bytes_ = 0;  // of the current message's header, as parsed so far
  bool skipped_empty_line_ = false;  // the CRLF before this message's request line
};

}  // namespace paychan::engine::http::detail
