#include "engine/http/proxy.hpp"

#include <algorithm>

#include "engine/http/hop_by_hop.hpp"
#include "engine/http/text.hpp"

namespace paychan::engine::http {
namespace {

bool listed(const std::vector<std::string>& names, std::string_view name) noexcept {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return iequals(n, name); });
}

// Fields the proxy sets itself, whatever the client sent.
bool replaced_by_proxy(std::string_view name) noexcept {
  return iequals(name, "Host") || iequals(name, "Content-Length") || iequals(name, "Expect") ||
         iequals(name, "X-Forwarded-For") || iequals(name, "X-Forwarded-Host") ||
         iequals(name, "X-Forwarded-Proto");
}

// Whether the target's path climbs with a ".." segment in a spelling some server reads so
// (percent-encoded, however many times; between backslashes; with ";params", as servlet
// containers drop them): joined to the upstream's base path it could leave it ("/api" +
// "/..;/admin"), for a route the gate never priced.
bool climbs(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path.find_first_of(".%") == std::string_view::npos) return false;
  // An escape is '%' and two hex digits: decoding never takes away a '.' or a separator, so a ".."
  // segment that any decoding reveals stays in every later one. Decoded until nothing changes; no
  // server decodes a path more than twice, and a path still changing after eight decodings (each
  // linear in the path) is refused as climbing: what it hides is unknown.
  constexpr int kDecodings = 8;
  std::string decoded(path);
  for (int i = 0; decoded.find('%') != std::string::npos; ++i) {
    std::string next = percent_decode(decoded);
    if (next == decoded) break;
    if (i == kDecodings) return true;
    decoded = std::move(next);
  }
  bool dot_dot = false;
  for_each_path_segment(decoded, [&](std::string_view segment) {
    dot_dot = segment == "..";
    return !dot_dot;
  });
  return dot_dot;
}

}  // namespace

Result<ReverseProxy> ReverseProxy::create(HttpClient& client, ProxyOptions options) {
  auto base = parse_url(options.upstream);
  if (!base) return base.failure();
  if (base->target.find('?') != std::string::npos) {
    return fail(ErrorCode::http_invalid_request, "an upstream base URL takes no query");
  }
  while (!base->target.empty() && base->target.back() == '/') base->target.pop_back();
  return ReverseProxy{client, std::move(*base), std::move(options)};
}

Awaitable<Result<ClientStream>> ReverseProxy::open(Exchange& ex) const {
  const Request& in = ex.request();
  if (in.target().empty() || in.target().front() != '/') {
    co_return fail(ErrorCode::http_invalid_request, "target is not origin-form");
  }
  if (climbs(in.target())) co_return fail(ErrorCode::http_invalid_request, "target has a \"..\" segment");
  ClientRequest out{std::string(in.method()), base_.origin() + base_.target + std::string(in.target())};

  std::string_view connection = in.header("Connection").value_or("");
  for (auto [name, value] : in.headers()) {
    if (is_hop_by_hop(name, connection) || replaced_by_proxy(name) || listed(options_.strip_request_headers, name)) {
      continue;
    }
    out.header(name, value);
  }
  // Appended to what earlier proxies recorded, so the upstream sees the whole path.
  std::string forwarded_for{in.header("X-Forwarded-For").value_or("")};
  forwarded_for += forwarded_for.empty() ? "" : ", ";
  forwarded_for += ex.peer_address();
  out.header("X-Forwarded-For", forwarded_for);
  if (auto host = in.header("Host")) out.header("X-Forwarded-Host", *host);
  out.header("X-Forwarded-Proto", options_.scheme);
  out.body(std::string(in.body()));

  auto upstream = co_await client_->open(std::move(out));
  if (!upstream) co_return upstream.failure();

  Response& res = ex.response();
  res.set_status(upstream->status());
  std::string_view upstream_connection = upstream->header("Connection").value_or("");
  for (const auto& h : upstream->headers()) {
    // Content-Length stays: it frames the relayed body exactly as the upstream framed it.
    if (!is_hop_by_hop(h.name, upstream_connection)) res.add_header(h.name, h.value);
  }
  co_return upstream;
}

Awaitable<Status> ReverseProxy::relay(ClientStream& upstream, Exchange& ex) {
  if (Status begun = co_await ex.begin_stream(); !begun) co_return begun;
  for (;;) {
    auto piece = co_await upstream.read_some();
    if (!piece) co_return piece.failure();
    if (piece->empty()) break;
    if (Status written = co_await ex.write(*piece); !written) co_return written;
  }
  co_return co_await ex.end_stream();
}

Awaitable<void> ReverseProxy::forward(Exchange& ex) const {
  auto upstream = co_await open(ex);
  if (!upstream) {
    // The details (upstream addresses) are for the operator's logs, not for the client.
    int status = gateway_status(upstream.error());
    ex.response().set(status, "text/plain", status == 504 ? "upstream timed out\n" : "bad gateway\n");
    co_return;
  }
  // A failure here has already been made visible to the client by the truncated stream.
  (void)co_await relay(*upstream, ex);
}

int gateway_status(const Error& error) noexcept {
  switch (error.code) {
    case ErrorCode::http_timeout:
      return 504;
    case ErrorCode::http_invalid_request:
      return 400;
    default:
      return 502;
  }
}

}  // namespace paychan::engine::http
