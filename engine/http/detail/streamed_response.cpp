#include "engine/http/detail/streamed_response.hpp"

namespace paychan::engine::http::detail {

Awaitable<Status> StreamedResponse::begin(BeastResponse& head, bool head_only, bool keep_alive) {
  if (state_ != State::none) co_return fail(ErrorCode::http_bad_response, "stream already begun");
  state_ = State::open;
  head.keep_alive(keep_alive);
  Status sent = co_await writer_.begin_stream(head, head_only);
  keep_alive_ = keep_alive && head.keep_alive();  // false when the close delimits the body
  co_return sent;
}

Awaitable<Status> StreamedResponse::write(std::string_view piece) {
  if (state_ != State::open) co_return fail(ErrorCode::http_bad_response, "no stream open");
  co_return co_await writer_.write_piece(piece);
}

Awaitable<Status> StreamedResponse::end() {
  if (state_ != State::open) co_return fail(ErrorCode::http_bad_response, "no stream open");
  Status ended = co_await writer_.end_stream();
  if (ended) state_ = State::ended;
  co_return ended;
}

AfterAnswer StreamedResponse::after(bool threw) const noexcept {
  if (threw || state_ != State::ended) return AfterAnswer::drop;
  return keep_alive_ ? AfterAnswer::read_next : AfterAnswer::close;
}

}  // namespace paychan::engine::http::detail
