// A whole gate assembled from its configuration, as `paychan gate` runs it: the channel store,
// the facilitator client, the priced routes, the reverse proxy to the upstream and the HTTP server
// (the facilitator and the upstream service may be handed in instead, as the demo does).
// A provider embedding the gate in a C++ server hands in its own service (FunctionService), and
// either lets the runtime's server listen, or runs its own Beast server (options.listen false) and
// answers each request through handler() with serve_streaming() or serve_whole()
// (engine/http/beast_serve.hpp): examples/embedded_gate.cpp. Either way every start-up check below
// is made.
// Thread-safety: start, reload and stop from one controlling thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/gate/gate_config.hpp"
#include "engine/gate/metrics.hpp"
#include "engine/http/handler.hpp"

namespace paychan::engine::gate {

class Facilitator;
class Service;

struct RuntimeOptions {
  unsigned threads = 0;  // HTTP worker threads; 0: one per core
  bool durable = true;   // false only for benchmarks that measure what durability costs
  bool access_log = false;  // one logfmt line per paid request on stderr
  // How often the channels' claimed totals are read back from the store (the settle job records
  // its claims there): how long /metrics may show a claimed charge as unclaimed, and the gate hold
  // a channel the settle job deleted.
  std::chrono::milliseconds claimed_refresh = std::chrono::seconds(10);
  // In-process parts instead of what the config names (the demo's); both must outlive the runtime.
  Facilitator* facilitator = nullptr;  // instead of an HTTP client of config.facilitator
  Service* service = nullptr;          // instead of the reverse proxy to config.upstream
  // false: the runtime serves no API (config.metricsListen still gets its server); the provider's
  // own server answers through handler(), and stops taking requests before stop() (their states
  // are queued to the store, which stop() closes).
  bool listen = true;
};

// What GateRuntime::reload() changed.
struct ReloadOutcome {
  bool routes = false;  // the routes or enforceMinDeposit
  bool token = false;   // the token sent to the facilitator (facilitatorTokenFile's)
  // Said of a change made: a new token the facilitator could not be asked about.
  std::vector<std::string> warnings;
};

class GateRuntime {
 public:
  // Loads the receiver authorizer key when configured (it must match `receiverAuthorizer`), asks
  // the configured facilitator whether it takes the server's token (HttpFacilitator::check_token),
  // opens the store (restoring every channel), binds `listen` (with options.listen). `config` is
  // checked first (check_gate_config: one built in code too). Errors: invalid_config (no upstream
  // and no options.service, among others), facilitator_unauthorized, the store's,
  // http_listen_failed. A facilitator that does not answer is a warning (warnings()), not an error.
  [[nodiscard]] static Result<std::unique_ptr<GateRuntime>> start(const GateConfig& config, RuntimeOptions options = {});
  ~GateRuntime();  // stop()

  [[nodiscard]] std::uint16_t port() const noexcept;  // 0 without options.listen
  [[nodiscard]] std::uint16_t metrics_port() const noexcept;  // config.metricsListen's; 0 without
  // The gate's handler, for a provider's own server (serve_streaming(), serve_whole()); until stop().
  [[nodiscard]] http::Handler& handler() noexcept;
  [[nodiscard]] std::size_t channels() const;
  [[nodiscard]] const GateMetrics& metrics() const noexcept;
  // What start() found wrong but not fatal, one sentence each, for the operator's log.
  [[nodiscard]] const std::vector<std::string>& warnings() const noexcept;
  // Applies a changed configuration's routes (paths, prices, descriptions, minimum deposits) and
  // enforceMinDeposit while the gate serves: requests matched before finish on their offers, later
  // ones get the new (a client paying an offer that changed gets 402 with the new one). Reads
  // facilitatorTokenFile again (the same file rewritten, or another): a token other than the one in
  // use is asked about (renew_token) and then sent instead, so a token is rotated without a
  // restart; one the facilitator cannot be asked about is sent unchecked, with a warning. `next` is
  // checked as start() checks it. An outcome changing nothing: a SIGHUP with the files unchanged.
  // Errors: invalid_config from the checks (an unreadable token file too), or naming the members
  // that differ and need a restart (members_needing_restart); facilitator_unauthorized (the new
  // token refused); either way nothing changes, the routes neither. Blocks while it asks the
  // facilitator (up to its timeout): call it from a controlling thread, never an I/O thread.
  [[nodiscard]] Result<ReloadOutcome> reload(const GateConfig& next);
  // Stops accepting, lets requests in progress finish (up to `grace`), then closes the store
  // (every queued commit written). Afterwards only port(), channels() and metrics() may be used.
  // Returns how many connections were still open when the grace ran out (HttpServer::stop).
  std::size_t stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Ends a stop()'s grace now, from another thread (HttpServer::end_grace).
  void end_grace();

  struct Parts;

 private:
  explicit GateRuntime(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace paychan::engine::gate
