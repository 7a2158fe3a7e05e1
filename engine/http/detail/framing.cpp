#include "engine/http/detail/framing.hpp"

namespace paychan::engine::http::detail {

void fresh_response(const BeastRequest& request, BeastResponse& response) {
  response = {};
  response.version(request.version());
}

Awaitable<bool> handler_threw(Handler& handler, Exchange& ex) {
  try {
    if (Handled more = handler.handle(ex)) co_await std::move(*more);
  } catch (...) {
    co_return true;
  }
  co_return false;
}

void answer_internal_error(const BeastRequest& request, BeastResponse& response) {
  fresh_response(request, response);
  response.result(bhttp::status::internal_server_error);
  response.set(bhttp::field::content_type, "text/plain");
  response.body() = "internal error\n";
}

void frame_whole_answer(const BeastRequest& request, BeastResponse& response, bool keep_alive) {
  response.keep_alive(keep_alive);
  const unsigned status = response.result_int();
  if (status == 204 || status == 304) {
    response.body().clear();
    response.erase(bhttp::field::content_length);
    response.erase(bhttp::field::transfer_encoding);
    return;
  }
  response.prepare_payload();
  if (request.method() == bhttp::verb::head) response.body().clear();
}

bool asks_to_close(const BeastResponse& response) noexcept {
  const auto connection = response.find(bhttp::field::connection);
  return connection != response.end() && bhttp::token_list{connection->value()}.exists("close");
}

bool keeps_alive(const BeastRequest& request, const BeastResponse& response) noexcept {
  return request.keep_alive() && !asks_to_close(response);
}

}  // namespace paychan::engine::http::detail
