// How an answer given whole is framed for its request: the server's sessions and serve_whole().
#pragma once

#include "engine/http/beast.hpp"

namespace paychan::engine::http::detail {

// Sets keep-alive and the framing: no body nor Content-Length for 204 and 304 (RFC 9110 §8.6);
// otherwise Content-Length, and for HEAD the length a GET would have, without the body.
void frame_whole_answer(const BeastRequest& request, BeastResponse& response, bool keep_alive);

// Whether the handler asked to close the connection after this answer (Connection: close).
[[nodiscard]] bool asks_to_close(const BeastResponse& response) noexcept;

}  // namespace paychan::engine::http::detail
