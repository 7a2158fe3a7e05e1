// One request's answer as the server's sessions and beast_serve.hpp's both make it: begun fresh, the
// handler run to its end, a 500 in place of what a handler that threw wrote, framed whole.
#pragma once

#include "engine/http/beast.hpp"
#include "engine/http/handler.hpp"

namespace paychan::engine::http::detail {

// A fresh answer to `request`: empty, in its HTTP version.
void fresh_response(const BeastRequest& request, BeastResponse& response);

// Runs `handler` on `ex` to its end; whether it threw. No exception leaves a connection: unless a
// stream began, the caller answers answer_internal_error() instead.
[[nodiscard]] Awaitable<bool> handler_threw(Handler& handler, Exchange& ex);

// What a handler that threw is answered, in place of whatever it wrote.
void answer_internal_error(const BeastRequest& request, BeastResponse& response);

// Sets keep-alive and the framing: no body nor Content-Length for 204 and 304 (RFC 9110 §8.6);
// otherwise Content-Length, and for HEAD the length a GET would have, without the body.
void frame_whole_answer(const BeastRequest& request, BeastResponse& response, bool keep_alive);

// Whether the handler asked to close the connection after this answer (Connection: close).
[[nodiscard]] bool asks_to_close(const BeastResponse& response) noexcept;

// Whether the request and the handler's answer to it let the connection take another request.
// Not response.keep_alive(): for HTTP/1.0 that is false until the header says otherwise.
[[nodiscard]] bool keeps_alive(const BeastRequest& request, const BeastResponse& response) noexcept;

}  // namespace paychan::engine::http::detail
