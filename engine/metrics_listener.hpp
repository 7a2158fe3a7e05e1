// Listen addresses, and the listener that serves /metrics apart from a service's API (metricsListen
// in the gate's and the facilitator's configurations): scraped without the API's credentials or
// its routes, from an address the operator keeps private.
// Thread-safety: MetricsListener is started and stopped from one controlling thread; its answers
// run on its one I/O thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "channel/result.hpp"
#include "engine/http/handler.hpp"
#include "engine/http/server.hpp"

namespace paychan::engine {

using ListenAddress = std::pair<std::string, std::uint16_t>;

// "host:port" → (host, port): an IP address (IPv6 in brackets) or "localhost" (127.0.0.1). Error:
// invalid_config.
[[nodiscard]] Result<ListenAddress> parse_listen(std::string_view text);

// metricsListen parsed beside the API's `listen`; nullopt when empty. Error: invalid_config, also
// for `listen`'s own address (unless both ask for any port, 0).
[[nodiscard]] Result<std::optional<ListenAddress>> parse_metrics_listen(std::string_view metrics_listen,
                                                                        const ListenAddress& listen);

class MetricsListener {
 public:
  // Fills ex.response() for what the listener serves (GET /metrics, GET /healthz); false for
  // anything else, which is answered 404.
  using Answer = std::function<bool(http::Exchange&)>;

  // Listening on `address` with one I/O thread. Error: http_listen_failed.
  [[nodiscard]] static Result<std::unique_ptr<MetricsListener>> start(const ListenAddress& address, Answer answer);
  [[nodiscard]] std::uint16_t port() const noexcept { return server_->port(); }
  // Closes it at once: a scrape cut short is simply retried.
  void stop() { server_->stop(std::chrono::milliseconds(0)); }

 private:
  MetricsListener(std::unique_ptr<http::Handler> handler, std::unique_ptr<http::HttpServer> server)
      : handler_(std::move(handler)), server_(std::move(server)) {}
  std::unique_ptr<http::Handler> handler_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace paychan::engine
