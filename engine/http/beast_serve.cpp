#include "engine/http/beast_serve.hpp"

#include <string>
#include <utility>

#include "engine/http/detail/conduit.hpp"
#include "engine/http/detail/framing.hpp"
#include "engine/http/detail/messages.hpp"
#include "engine/http/detail/response_writer.hpp"
#include "engine/http/detail/streamed_response.hpp"
#include "engine/http/server_options.hpp"

namespace paychan::engine::http::detail {

// What both kinds of answer share: the provider's request, its peer and the connection's locals.
class ProvidersConnection : public Conduit {
 public:
  std::string_view peer_address() const noexcept override { return peer_.address; }
  std::uint16_t peer_port() const noexcept override { return peer_.port; }
  ConnectionLocals& locals() noexcept override { return locals_; }

 protected:
  ProvidersConnection(RequestMessage& request, ResponseMessage& response, Peer peer, ConnectionLocals& locals) noexcept
      : request_(request), response_(response), peer_(peer), locals_(locals) {}
  ~ProvidersConnection() = default;

  // Runs `handler` on a fresh answer; whether it threw.
  Awaitable<bool> run(Handler& handler) {
    fresh_response(request_.m, response_.m);
    Exchange ex{*this, Request{request_}, Response{response_}};
    co_return co_await handler_threw(handler, ex);
  }
  bool keeps_alive() const noexcept { return detail::keeps_alive(request_.m, response_.m); }
  bool is_head() const noexcept { return request_.m.method() == bhttp::verb::head; }

  RequestMessage& request_;
  ResponseMessage& response_;

 private:
  Peer peer_;
  ConnectionLocals& locals_;
};

// An Exchange's connection whose answer is sent whole by someone else: streamed pieces gather in
// the response's body.
class WholeAnswer final : public ProvidersConnection {
 public:
  WholeAnswer(RequestMessage& request, ResponseMessage& response, Peer peer, ConnectionLocals& locals,
              std::size_t max_stream_bytes) noexcept
      : ProvidersConnection(request, response, peer, locals), max_stream_bytes_(max_stream_bytes) {}

  Awaitable<bool> serve(Handler& handler) {
    const bool threw = co_await run(handler);
    if (state_ != State::none && (threw || state_ != State::ended)) co_return false;
    if (threw) answer_internal_error(request_.m, response_.m);
    const bool keep_alive = keeps_alive();
    // A stream that announced its length (a relayed upstream's) keeps it: for HEAD it is the length
    // a GET would have; otherwise the pieces must have made it up, or the answer is not whole.
    if (state_ == State::ended) {
      if (auto announced = response_.m.find(bhttp::field::content_length); announced != response_.m.end()) {
        if (is_head()) {
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

 private:
  enum class State { none, open, ended };
  const std::size_t max_stream_bytes_;
  State state_ = State::none;
};

// An Exchange's connection that writes its answer itself, onto the provider's stream: a whole
// answer at once, a stream piece by piece, framed as HttpServer's sessions frame them.
class StreamedAnswer final : public ProvidersConnection {
 public:
  StreamedAnswer(RequestMessage& request, ResponseMessage& response, beast::tcp_stream& stream, Peer peer,
                 ConnectionLocals& locals, std::chrono::milliseconds write_timeout)
      : ProvidersConnection(request, response, peer, locals), stream_(stream),
        limits_{.write_timeout = write_timeout}, writer_(stream, limits_) {}

  // Whether the connection may take another request; when not, it has been closed as it must be.
  Awaitable<bool> serve(Handler& handler) {
    const bool threw = co_await run(handler);
    AfterAnswer next = AfterAnswer::drop;
    if (streamed_.begun()) {
      next = streamed_.after(threw);
    } else {
      if (threw) answer_internal_error(request_.m, response_.m);
      const bool keep_alive = keeps_alive();
      frame_whole_answer(request_.m, response_.m, keep_alive);
      Status sent = co_await writer_.send(response_.m);
      if (sent) sent = co_await writer_.flush();
      if (sent) next = keep_alive ? AfterAnswer::read_next : AfterAnswer::close;
    }
    if (next == AfterAnswer::close) co_await writer_.linger_close();
    if (next != AfterAnswer::read_next) co_return false;
    stream_.expires_never();  // the writes' timer must not cut the provider's next read
    co_return true;
  }

  Awaitable<Status> begin_stream() override {
    error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);  // pieces must not wait for the client's ACKs
    return streamed_.begin(response_.m, is_head(), keeps_alive());
  }
  Awaitable<Status> write(std::string_view piece) override { return streamed_.write(piece); }
  Awaitable<Status> end_stream() override { return streamed_.end(); }
  bool streaming() const noexcept override { return streamed_.begun(); }
  bool stream_unfinished() const noexcept override { return streamed_.unfinished(); }

 private:
  beast::tcp_stream& stream_;
  const ServerLimits limits_;  // the writer's: write_timeout, linger_timeout and pipeline_depth
  ResponseWriter writer_;
  StreamedResponse streamed_{writer_};
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

Awaitable<bool> serve_streaming(Handler& handler, BeastRequest& request, beast::tcp_stream& stream, Peer peer,
                                ConnectionLocals& locals, std::chrono::milliseconds write_timeout) {
  detail::RequestMessage in{std::move(request)};
  detail::ResponseMessage out;
  detail::StreamedAnswer answer(in, out, stream, peer, locals, write_timeout);
  const bool keep = co_await answer.serve(handler);  // throws only when out of memory
  request = std::move(in.m);
  co_return keep;
}

}  // namespace paychan::engine::http
