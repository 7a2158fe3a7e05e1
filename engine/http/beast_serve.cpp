#include "engine/http/beast_serve.hpp"

#include <string>
#include <utility>

#include "engine/http/detail/conduit.hpp"
#include "engine/http/detail/framing.hpp"
#include "engine/http/detail/messages.hpp"

namespace paychan::engine::http::detail {

// An Exchange's connection whose answer is sent whole by someone else: streamed pieces gather in
// the response's body.
class WholeAnswer final : public Conduit {
 public:
  WholeAnswer(RequestMessage& request, ResponseMessage& response, Peer peer, ConnectionLocals& locals,
              std::size_t max_stream_bytes) noexcept
      : request_(request), response_(response), peer_(peer), locals_(locals), max_stream_bytes_(max_stream_bytes) {}

  Awaitable<bool> serve(Handler& handler) {
    fresh_response(request_.m, response_.m);
    Exchange ex{*this, Request{request_}, Response{response_}};
    const bool threw = co_await handler_threw(handler, ex);
    if (state_ != State::none && (threw || state_ != State::ended)) co_return false;
    if (threw) answer_internal_error(request_.m, response_.m);
    const bool keep_alive = request_.m.keep_alive() && !asks_to_close(response_.m);
    // A stream that announced its length (a relayed upstream's) keeps it: for HEAD it is the length
    // a GET would have; otherwise the pieces must have made it up, or the answer is not whole.
    if (state_ == State::ended) {
      if (auto announced = response_.m.find(bhttp::field::content_length); announced != response_.m.end()) {
        if (request_.m.method() == bhttp::verb::head) {
          response_.m.body().clear();  // pieces a handler wrote anyway
          response_.m.keep_alive(keep_alive);
          co_return true;
        }
        if (announced->value() != std::to_string(response_.m.body().size())) co_return false;
      }
    }
    frame_whole_answer(request_.m, response_.m, keep_alive);
    co_return true;
  }

  Awaitable<Status> begin_stream() override {
    if (state_ != State::none) co_return fail(ErrorCode::http_bad_response, "stream already begun");
    state_ = State::open;
    co_return Status{};
  }
  Awaitable<Status> write(std::string_view piece) override {
    if (state_ != State::open) co_return fail(ErrorCode::http_bad_response, "no stream open");
    if (piece.size() > max_stream_bytes_ - response_.m.body().size())
      co_return fail(ErrorCode::http_response_too_large, "a stream gathered whole may hold " +
                                                             std::to_string(max_stream_bytes_) + " bytes");
    response_.m.body().append(piece);
    co_return Status{};
  }
  Awaitable<Status> end_stream() override {
    if (state_ != State::open) co_return fail(ErrorCode::http_bad_response, "no stream open");
    state_ = State::ended;
    co_return Status{};
  }
  bool streaming() const noexcept override { return state_ != State::none; }
  bool stream_unfinished() const noexcept override { return state_ == State::open; }
  std::string_view peer_address() const noexcept override { return peer_.address; }
  std::uint16_t peer_port() const noexcept override { return peer_.port; }
  ConnectionLocals& locals() noexcept override { return locals_; }

 private:
  enum class State { none, open, ended };
  RequestMessage& request_;
  ResponseMessage& response_;
  Peer peer_;
  ConnectionLocals& locals_;
  const std::size_t max_stream_bytes_;
  State state_ = State::none;
};

}  // namespace paychan::engine::http::detail

namespace paychan::engine::http {

Awaitable<bool> serve_whole(Handler& handler, BeastRequest& request, BeastResponse& response, Peer peer,
                            ConnectionLocals& locals, std::size_t max_stream_bytes) {
  // The views (Request, Response) read the server's own message types: the provider's messages
  // are moved in and back out, which moves their bodies' buffers, never copies them.
  detail::RequestMessage in{std::move(request)};
  detail::ResponseMessage out;
  detail::WholeAnswer answer(in, out, peer, locals, max_stream_bytes);
  const bool whole = co_await answer.serve(handler);  // throws only when out of memory
  request = std::move(in.m);
  response = std::move(out.m);
  co_return whole;
}

}  // namespace paychan::engine::http
