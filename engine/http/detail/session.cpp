#include "engine/http/detail/session.hpp"

#include <utility>

#include "engine/http/detail/framing.hpp"
#include "engine/http/detail/worker.hpp"
#include "engine/http/handler.hpp"
#include "engine/http/target_form.hpp"

namespace paychan::engine::http::detail {
namespace {

// An absolute-form target made origin-form, its authority the Host (target_form.hpp); false: the
// request is refused.
bool as_origin_form(BeastRequest& request) {
  auto form = origin_form(request.target());
  if (!form) return false;
  if (*form) {
    request.target((*form)->target);
    request.set(bhttp::field::host, (*form)->host);
  }
  return true;
}

struct Rejection {
  bhttp::status status;
  std::string_view reason;
};

Rejection rejection(RequestReader::Outcome outcome) noexcept {
  switch (outcome) {
    case RequestReader::Outcome::header_too_large:
      return {bhttp::status::request_header_fields_too_large, "request header too large\n"};
    case RequestReader::Outcome::body_too_large:
      return {bhttp::status::payload_too_large, "request body too large\n"};
    default:
      return {bhttp::status::bad_request, "malformed request\n"};
  }
}

}  // namespace

Session::Session(tcp::socket socket, ConnectionSlot slot, Worker& worker)
    : worker_(worker),
      slot_(std::move(slot)),
      stream_(std::move(socket)),
      reader_(worker.limits()),
      writer_(stream_, worker.limits()) {
  error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);  // streamed pieces must not wait for ACKs
  auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    peer_address_ = peer.address().to_string();
    peer_port_ = peer.port();
  }
  registration_ = worker_.attach(this);
}

Session::~Session() { worker_.detach(registration_); }

void Session::start() {
  asio::co_spawn(stream_.get_executor(), [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void Session::stop() {
  stopping_ = true;
  if (waiting_idle_) stream_.cancel();
}

void Session::abort() { stream_.close(); }

Awaitable<void> Session::run() {
  try {
    co_await serve();
  } catch (...) {
    // Out of memory or a library bug: this connection ends, the server goes on.
  }
  error_code ec;
  stream_.socket().close(ec);
}

Awaitable<void> Session::serve() {
  for (;;) {
    reader_.begin();
    auto outcome = reader_.parse_buffered();
    while (outcome == RequestReader::Outcome::need_more) {
      // Everything answered so far goes out before waiting on the client again.
      if (!co_await writer_.flush()) co_return;
      if (stopping_ && reader_.idle()) co_return;
      if (reader_.wants_continue()) {
        if (co_await answered_from_head(&Handler::answer_before_body, std::nullopt)) co_return;
        if (!co_await writer_.send_continue()) co_return;
      }
      waiting_idle_ = reader_.idle();
      error_code ec = co_await reader_.receive(stream_);
      waiting_idle_ = false;
      if (ec) co_return;  // closed, reset, timed out or stopped: nobody is waiting for an answer
      outcome = reader_.parse_buffered();
    }
    if (outcome != RequestReader::Outcome::complete) {
      co_await reject(outcome);
      co_return;
    }
    request_.m = reader_.take();
    if (!as_origin_form(request_.m)) {
      co_await reject(RequestReader::Outcome::malformed);
      co_return;
    }
    switch (co_await answer()) {
      case AfterAnswer::read_next:
        continue;
      case AfterAnswer::close:
        co_await writer_.linger_close();
        co_return;
      case AfterAnswer::drop:
        co_return;
    }
  }
}

Awaitable<AfterAnswer> Session::answer() {
  fresh_response(request_.m, response_.m);
  streamed_.reset();
  Exchange ex{*this, Request{request_}, Response{response_}};
  const bool threw = co_await handler_threw(worker_.handler(), ex);
  if (streamed_.begun()) co_return streamed_.after(threw);
  if (threw) answer_internal_error(request_.m, response_.m);
  bool keep_alive = keep_alive_after_answer();
  finalize(keep_alive);
  if (!co_await writer_.send(response_.m)) co_return AfterAnswer::drop;
  co_return keep_alive ? AfterAnswer::read_next : AfterAnswer::close;
}

Awaitable<bool> Session::answered_from_head(bool (Handler::*ask)(Exchange&), std::optional<bhttp::status> status) {
  request_.m = reader_.head();
  if (!as_origin_form(request_.m)) {  // refused as it would be with the whole body
    co_await reject(RequestReader::Outcome::malformed);
    co_return true;
  }
  fresh_response(request_.m, response_.m);
  Exchange ex{*this, Request{request_}, Response{response_}};
  bool answered = false;
  try {
    answered = (worker_.handler().*ask)(ex);
  } catch (...) {
    answered = false;  // the server's own answer, or handle()'s with the whole request
  }
  if (!answered) co_return false;
  if (status) response_.m.result(*status);
  finalize(false);
  if (co_await writer_.send(response_.m)) co_await writer_.linger_close();
  co_return true;
}

bool Session::keep_alive_after_answer() noexcept {
  ++answered_;
  return keeps_alive(request_.m, response_.m) && !stopping_ && answered_ < worker_.limits().max_requests_per_connection;
}

void Session::finalize(bool keep_alive) { frame_whole_answer(request_.m, response_.m, keep_alive); }

Awaitable<void> Session::reject(RequestReader::Outcome outcome) {
  if (outcome == RequestReader::Outcome::body_too_large &&
      co_await answered_from_head(&Handler::answer_too_large, bhttp::status::payload_too_large))
    co_return;
  auto [status, reason] = rejection(outcome);
  response_.m = {};
  response_.m.version(11);
  response_.m.result(status);
  response_.m.set(bhttp::field::content_type, "text/plain");
  response_.m.body() = reason;
  response_.m.keep_alive(false);  // the rest of the input cannot be trusted to frame a next request
  response_.m.prepare_payload();
  if (co_await writer_.send(response_.m)) co_await writer_.linger_close();
}

Awaitable<Status> Session::begin_stream() {
  const bool keep_alive = !streamed_.begun() && keep_alive_after_answer();  // an answer counted once
  return streamed_.begin(response_.m, request_.m.method() == bhttp::verb::head, keep_alive);
}

Awaitable<Status> Session::write(std::string_view piece) { return streamed_.write(piece); }

Awaitable<Status> Session::end_stream() { return streamed_.end(); }

}  // namespace paychan::engine::http::detail
