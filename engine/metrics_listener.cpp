#include "engine/metrics_listener.hpp"

#include <charconv>

namespace paychan::engine {

Result<ListenAddress> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return fail(ErrorCode::invalid_config, "listen must be HOST:PORT, e.g. 127.0.0.1:8402");
  std::string host{text.substr(0, colon)};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  // The one name taken: it means loopback everywhere, and a listener binds an address, not a name
  // that could resolve to several.
  if (host == "localhost") host = "127.0.0.1";
  unsigned port = 0;
  const auto digits = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || end != digits.data() + digits.size() || port > 65535)
    return fail(ErrorCode::invalid_config, "listen port must be 0..65535");
  return ListenAddress{host, static_cast<std::uint16_t>(port)};
}

Result<std::optional<ListenAddress>> parse_metrics_listen(std::string_view metrics_listen,
                                                          const ListenAddress& listen) {
  if (metrics_listen.empty()) return std::optional<ListenAddress>{};
  auto parsed = parse_listen(metrics_listen);
  if (!parsed) return fail(ErrorCode::invalid_config, "metricsListen: " + parsed.error().detail);
  if (*parsed == listen && listen.second != 0)
    return fail(ErrorCode::invalid_config, "metricsListen is listen's own address: give /metrics a port of its own");
  return std::optional<ListenAddress>{std::move(*parsed)};
}

Result<std::unique_ptr<MetricsListener>> MetricsListener::start(const ListenAddress& address, Answer answer) {
  auto answer_or_404 = [answer = std::move(answer)](http::Exchange& ex) -> http::Handled {
    if (!answer(ex))
      ex.response().set(404, "text/plain", "not found: this port serves GET /metrics and GET /healthz\n");
    return std::nullopt;
  };
  auto handler = std::make_unique<http::FunctionHandler<decltype(answer_or_404)>>(std::move(answer_or_404));
  http::ServerOptions options;
  options.address = address.first;
  options.port = address.second;
  options.threads = 1;
  auto server = std::make_unique<http::HttpServer>(*handler, options);
  PAYCHAN_TRY(server->start());
  return std::unique_ptr<MetricsListener>(new MetricsListener(std::move(handler), std::move(server)));
}

}  // namespace paychan::engine
