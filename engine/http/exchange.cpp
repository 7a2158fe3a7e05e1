#include <utility>

#include "engine/http/detail/conduit.hpp"
#include "engine/http/handler.hpp"

namespace paychan::engine::http {

std::string_view Exchange::peer_address() const noexcept { return conduit_.peer_address(); }
ConnectionLocals& Exchange::connection_locals() noexcept { return conduit_.locals(); }
std::uint16_t Exchange::peer_port() const noexcept { return conduit_.peer_port(); }
Awaitable<Status> Exchange::begin_stream() {
  // A handler that tries again after a refusal must not stream what the refusal stopped.
  if (stream_refused_) co_return fail(ErrorCode::http_bad_response, "the stream was refused before its head");
  // Moved out first: the hook runs once, and its frame must outlive the member it came from.
  if (StreamHook hook = std::exchange(before_stream_, nullptr)) {
    if (Status allowed = co_await hook(response_); !allowed) {
      stream_refused_ = true;
      co_return allowed;
    }
  }
  co_return co_await conduit_.begin_stream();
}
Awaitable<Status> Exchange::write(std::string_view piece) { return conduit_.write(piece); }
Awaitable<Status> Exchange::end_stream() { return conduit_.end_stream(); }
bool Exchange::streaming() const noexcept { return conduit_.streaming(); }
bool Exchange::stream_unfinished() const noexcept { return conduit_.stream_unfinished(); }

}  // namespace paychan::engine::http
