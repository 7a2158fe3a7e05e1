#include "engine/http/client.hpp"

#include <algorithm>

#include "engine/http/detail/client_stream_state.hpp"
#include "engine/http/detail/connection_pool.hpp"
#include "engine/http/url.hpp"

namespace paychan::engine::http {
namespace {

using detail::ClientConnection;

// Methods a server must treat as safe to receive twice (RFC 9110 §9.2.2).
bool idempotent(bhttp::verb v) noexcept {
  switch (v) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
      return true;
    default:
      return false;
  }
}

Result<BeastRequest> build(const std::string& method, const Url& url, const std::vector<Header>& headers,
                           std::string body) {
  BeastRequest m;
  m.version(11);
  bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb != bhttp::verb::unknown) {
    m.method(verb);
  } else {
    if (!valid_header(method, "")) return fail(ErrorCode::http_invalid_request, "bad method");
    m.method_string(method);
  }
  m.target(url.target);
  m.set(bhttp::field::host, url.authority());
  for (const auto& h : headers) {
    if (!valid_header(h.name, h.value)) return fail(ErrorCode::http_invalid_request, "bad header " + h.name);
    if (iequals(h.name, "host") || iequals(h.name, "content-length") || iequals(h.name, "transfer-encoding")) {
      continue;  // framing and routing are the client's
    }
    m.insert(h.name, h.value);
  }
  // Beast refuses a body where HTTP forbids one (TRACE) by throwing: a typed error instead.
  if (verb == bhttp::verb::trace && !body.empty())
    return fail(ErrorCode::http_invalid_request, "a TRACE request has no body");
  m.body() = std::move(body);
  m.prepare_payload();
  return m;
}

// One client context for the process: peers are checked against the system's certificate
// authorities (Debian: ca-certificates), or those of $SSL_CERT_FILE / $SSL_CERT_DIR, as OpenSSL's
// default paths are.
asio::ssl::context& tls_context() {
  static asio::ssl::context context = [] {
    asio::ssl::context c(asio::ssl::context::tls_client);
    error_code ec;
    c.set_default_verify_paths(ec);  // none found: every peer fails verification, as it should
    c.set_verify_mode(asio::ssl::verify_peer);
    return c;
  }();
  return context;
}

// TLS over a connected stream: the server's certificate must chain to a trusted authority and
// name the host (or its IP address).
Awaitable<Status> handshake(ClientConnection& connection, const Url& url) {
  auto& tls = connection.tls.emplace(connection.stream, tls_context());
  error_code ec;
  (void)asio::ip::make_address(url.host, ec);
  // SNI, by which a server hosting many names picks the certificate (never an IP literal).
  if (ec && SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str()) != 1)
    co_return fail(ErrorCode::http_connect_failed, "TLS: cannot name " + url.host);
  tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
  co_await tls.async_handshake(asio::ssl::stream_base::client, use(ec));
  if (ec == beast::error::timeout) co_return fail(ErrorCode::http_timeout, "TLS handshake with " + url.authority());
  if (ec) co_return fail(ErrorCode::http_connect_failed, "TLS handshake with " + url.authority() + ": " + ec.message());
  co_return Status{};
}

Awaitable<Result<std::unique_ptr<ClientConnection>>> connect(const asio::any_io_executor& executor, const Url& url,
                                                             std::chrono::milliseconds timeout) {
  auto connection = std::make_unique<ClientConnection>(executor);
  auto where = " " + url.authority();
  error_code ec;
  connection->stream.expires_after(timeout);
  auto address = asio::ip::make_address(url.host, ec);
  if (!ec) {
    co_await connection->stream.async_connect(tcp::endpoint{address, url.port}, use(ec));
  } else {
    tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(url.host, std::to_string(url.port), use(ec));
    if (ec) co_return fail(ErrorCode::http_connect_failed, "resolving" + where + ": " + ec.message());
    co_await connection->stream.async_connect(endpoints, use(ec));
  }
  if (ec == beast::error::timeout) co_return fail(ErrorCode::http_timeout, "connecting to" + where);
  if (ec) co_return fail(ErrorCode::http_connect_failed, "connecting to" + where + ": " + ec.message());
  connection->stream.socket().set_option(tcp::no_delay(true), ec);
  if (url.tls) {
    if (Status secured = co_await handshake(*connection, url); !secured) co_return secured.failure();
  }
  co_return connection;
}

// Whether a failed exchange on a reused connection is the server having closed it while idle:
// nothing came back at all.
bool closed_while_idle(const error_code& ec, const detail::ClientStreamState& s) noexcept {
  return !s.parser->got_some() && s.connection->buffer.size() == 0 &&
         (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
          ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated);
}

}  // namespace

HttpClient::HttpClient(ClientOptions options) : options_(options) {}

Awaitable<Result<ClientStream>> HttpClient::open(ClientRequest request) {
  auto url = parse_url(request.url_);
  if (!url) co_return url.failure();
  auto message = build(request.method_, *url, request.headers_, std::move(request.body_));
  if (!message) co_return message.failure();
  bool replayable = idempotent(message->method());
  const auto response_timeout = request.wait_.value_or(options_.response_timeout);

  auto executor = co_await asio::this_coro::executor;
  auto& pool = detail::ConnectionPool::of(executor);
  detail::PoolKey key{url->host, url->port, url->tls};
  for (bool retried = false;; retried = true) {
    auto connection = pool.take(key, options_.idle_expiry);
    bool reused = connection != nullptr;
    if (!reused) {
      auto fresh = co_await connect(executor, *url, options_.connect_timeout);
      if (!fresh) co_return fresh.failure();
      connection = std::move(*fresh);
    }
    auto state = std::make_unique<detail::ClientStreamState>(pool, key, std::move(connection),
                                                             options_.max_idle_per_host);
    state->read_timeout = request.wait_.value_or(options_.read_timeout);
    bool head_request = message->method() == bhttp::verb::head;
    state->new_parser(options_, head_request);

    auto& link = *state->connection;
    error_code ec;
    link.stream.expires_after(response_timeout);  // one deadline for sending and the whole head
    co_await link.over([&](auto& stream) { return bhttp::async_write(stream, *message, use(ec)); });
    bool write_failed = static_cast<bool>(ec);
    // Interim 1xx answers (100 Continue, 103 Early Hints) may precede the final one (RFC 9110 §15.2).
    while (!ec) {
      co_await link.over([&](auto& stream) {
        return bhttp::async_read_header(stream, link.buffer, *state->parser, use(ec));
      });
      if (ec || state->parser->get().result_int() >= 200) break;
      state->new_parser(options_, head_request);
    }
    if (ec) {
      if (reused && !retried && closed_while_idle(ec, *state) && (replayable || write_failed)) continue;
      state->connection.reset();
      if (ec == beast::error::timeout) co_return fail(ErrorCode::http_timeout, "no response within response_timeout");
      if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow)
        co_return fail(ErrorCode::http_response_too_large, "response header");
      co_return fail(ErrorCode::http_bad_response, ec.message());
    }
    const auto& head = state->parser->get();
    state->status = static_cast<int>(head.result_int());
    for (const auto& f : head) state->headers.push_back({std::string(f.name_string()), std::string(f.value())});
    co_return ClientStream{std::move(state)};
  }
}

Awaitable<Status> HttpClient::connect_only(std::string url) {
  auto parsed = parse_url(url);
  if (!parsed) co_return parsed.failure();
  auto connection = co_await connect(co_await asio::this_coro::executor, *parsed, options_.connect_timeout);
  if (!connection) co_return connection.failure();
  co_return Status{};
}

Awaitable<Result<ClientResponse>> HttpClient::request(ClientRequest request, SinkFor sink_for) {
  const auto body_timeout = std::max(options_.body_timeout, request.wait_.value_or(options_.body_timeout));
  auto stream = co_await open(std::move(request));
  if (!stream) co_return stream.failure();
  ClientResponse response;
  response.status = stream->status();
  response.headers = stream->headers();
  if (const BodySink sink = sink_for ? sink_for(response) : nullptr) {
    for (;;) {
      auto piece = co_await stream->read_some();
      if (!piece) {
        response.cut = piece.error();  // what came is the caller's already: the head stays its answer
        co_return response;
      }
      if (piece->empty() || !sink(*piece)) co_return response;  // a stream left early closes its connection
    }
  }
  auto length = stream->content_length();
  if (length && *length > options_.max_body_bytes) {
    co_return fail(ErrorCode::http_response_too_large, "Content-Length " + std::to_string(*length));
  }
  if (length) response.body.reserve(*length);
  const auto deadline = std::chrono::steady_clock::now() + body_timeout;
  for (;;) {
    auto piece = co_await stream->read_some();
    if (!piece) co_return piece.failure();
    if (piece->empty()) break;
    if (std::chrono::steady_clock::now() > deadline)
      co_return fail(ErrorCode::http_timeout, "body not whole within body_timeout");
    if (response.body.size() + piece->size() > options_.max_body_bytes) {
      co_return fail(ErrorCode::http_response_too_large, "body over max_body_bytes");
    }
    response.body.append(*piece);
  }
  co_return response;
}

std::optional<std::string_view> ClientResponse::header(std::string_view name) const noexcept {
  return find_header(headers, name);
}

}  // namespace paychan::engine::http
