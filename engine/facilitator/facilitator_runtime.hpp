// A whole facilitator assembled from its configuration, as `paychan facilitator` runs it: the keys,
// the clients' tokens, the transaction journal, the Facilitator (its nodes checked, what a crash left pending
// recovered) and the HTTP server in front of it.
// Thread-safety: start, reload and stop from one controlling thread.
#pragma once

#include <chrono>
#include <memory>

#include "engine/facilitator/facilitator.hpp"
#include "engine/facilitator/facilitator_config.hpp"

namespace paychan::engine::facilitator {

struct FacilitatorRuntimeOptions {
  unsigned threads = 0;       // HTTP worker threads; 0: one per core
  Fault fault = Fault::none;  // crash tests only
  bool log = true;            // one line per on-chain action on stderr
};

class FacilitatorRuntime {
 public:
  // Loads the keys and tokens (files readable by their owner only), opens the journal, checks that
  // every network's node answers with its chain id, resolves pending journal entries, binds
  // `metricsListen` (when set) and `listen`.
  // Errors: invalid_config, the journal's, http_listen_failed.
  [[nodiscard]] static Result<std::unique_ptr<FacilitatorRuntime>> start(const FacilitatorConfig& config,
                                                                         FacilitatorRuntimeOptions options = {});
  ~FacilitatorRuntime();  // stop()

  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] std::uint16_t metrics_port() const noexcept;  // config.metricsListen's; 0 without
  [[nodiscard]] Facilitator& facilitator() noexcept;
  [[nodiscard]] const RecoveryReport& recovered() const noexcept;
  // Applies a changed configuration's clients while the facilitator serves: clients added or
  // removed, token files read again (a leaked token revoked), receivers changed. Requests already
  // authenticated finish as their client; later ones need a token of the new table. `next` comes
  // checked (load_facilitator_config). False: the clients and their tokens are the same as before
  // (or there are none), and nothing changes. Errors: invalid_config naming the members that differ
  // and need a restart (members_needing_restart), or a client's unreadable or weak token
  // (ClientAuth::load); either way nothing changes.
  [[nodiscard]] Result<bool> reload(const FacilitatorConfig& next);
  // Stops accepting and lets requests in progress finish (up to `grace`); how many connections
  // were still open then (closed).
  std::size_t stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Ends a stop()'s grace now, from another thread (HttpServer::end_grace).
  void end_grace();

  struct Parts;

 private:
  explicit FacilitatorRuntime(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace paychan::engine::facilitator
