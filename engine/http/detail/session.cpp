#include "engine/http/detail/session.hpp"

#include <array>
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

// A lingering close reads at most this much before giving up on the client.
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;

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
        if (co_await answered_from_head()) co_return;
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
      case Next::read_next:
        continue;
      case Next::close:
        co_await linger_close();
        co_return;
      case Next::drop:
        co_return;
    }
  }
}

Awaitable<Session::Next> Session::answer() {
  fresh_response(request_.m, response_.m);
  streamed_ = StreamState::none;
  Exchange ex{*this, Request{request_}, Response{response_}};
  const bool threw = co_await handler_threw(worker_.handler(), ex);
  if (streamed_ != StreamState::none) {
    // The head is on the wire already: only a stream that ended leaves the connection usable.
    if (threw || streamed_ != StreamState::ended) co_return Next::drop;
    co_return stream_keep_alive_ ? Next::read_next : Next::close;
  }
  if (threw) answer_internal_error(request_.m, response_.m);
  bool keep_alive = keep_alive_after_answer();
  finalize(keep_alive);
  if (!co_await writer_.send(response_.m)) co_return Next::drop;
  co_return keep_alive ? Next::read_next : Next::close;
}

Awaitable<bool> Session::answered_from_head() {
  request_.m = reader_.head();
  if (!as_origin_form(request_.m)) {  // refused before the client sends its body, as it would be after
    co_await reject(RequestReader::Outcome::malformed);
    co_return true;
  }
  fresh_response(request_.m, response_.m);
  Exchange ex{*this, Request{request_}, Response{response_}};
  bool answered = false;
  try {
    answered = worker_.handler().answer_before_body(ex);
  } catch (...) {
    answered = false;  // handle() gets the whole request, and its own chance to fail
  }
  if (!answered) co_return false;
  finalize(false);  // the unread body cannot be told from a next request
  if (co_await writer_.send(response_.m)) co_await linger_close();
  co_return true;
}

bool Session::keep_alive_after_answer() noexcept {
  ++answered_;
  // Not response.keep_alive(): for HTTP/1.0 that is false until the header says otherwise.
  return request_.m.keep_alive() && !asks_to_close(response_.m) && !stopping_ &&
         answered_ < worker_.limits().max_requests_per_connection;
}

void Session::finalize(bool keep_alive) { frame_whole_answer(request_.m, response_.m, keep_alive); }

Awaitable<void> Session::reject(RequestReader::Outcome outcome) {
  auto [status, reason] = rejection(outcome);
  response_.m = {};
  response_.m.version(11);
  response_.m.result(status);
  response_.m.set(bhttp::field::content_type, "text/plain");
  response_.m.body() = reason;
  response_.m.keep_alive(false);  // the rest of the input cannot be trusted to frame a next request
  response_.m.prepare_payload();
  if (co_await writer_.send(response_.m)) co_await linger_close();
}

Awaitable<void> Session::linger_close() {
  if (!co_await writer_.flush()) co_return;
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  // Closing with unread input would reset the connection, and the client could lose the response
  // it has not read yet: read and discard until it closes too, within the linger limits.
  stream_.expires_after(worker_.limits().linger_timeout);
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  while (!ec && drained < kMaxLingerBytes) {
    drained += co_await stream_.async_read_some(asio::buffer(sink), use(ec));
  }
}

Awaitable<Status> Session::begin_stream() {
  if (streamed_ != StreamState::none) co_return fail(ErrorCode::http_bad_response, "stream already begun");
  streamed_ = StreamState::open;
  stream_keep_alive_ = keep_alive_after_answer();
  response_.m.keep_alive(stream_keep_alive_);
  Status sent = co_await writer_.begin_stream(response_.m, request_.m.method() == bhttp::verb::head);
  stream_keep_alive_ = stream_keep_alive_ && response_.m.keep_alive();  // close-delimited framing
  co_return sent;
}

Awaitable<Status> Session::write(std::string_view piece) {
  if (streamed_ != StreamState::open) co_return fail(ErrorCode::http_bad_response, "no stream open");
  co_return co_await writer_.write_piece(piece);
}

Awaitable<Status> Session::end_stream() {
  if (streamed_ != StreamState::open) co_return fail(ErrorCode::http_bad_response, "no stream open");
  Status ended = co_await writer_.end_stream();
  if (ended) streamed_ = StreamState::ended;
  co_return ended;
}

}  // namespace paychan::engine::http::detail
