// paychan's facilitator for the batch-settlement scheme on EVM networks: /verify (deposit, voucher,
// refund), /settle (deposit, claim, settle, refund) and /supported, usable in-process by a gate
// (it implements gate::Facilitator: no HTTP hop) or behind FacilitatorService over HTTP.
//
// Every on-chain action goes through the TxJournal, keyed by what it settles (settlement_actions):
// a retried or concurrent /settle for the same action is answered with the first one's outcome,
// waiting for (or rebroadcasting) its transaction when that is still pending — never a second
// submission. A transaction mined but reverted did nothing: its key is forgotten, and the next
// request for the action is checked and simulated afresh. An action is checked, simulated
// (eth_estimateGas; a revert is the action's *_simulation_failed with the decoded reason), signed,
// journaled, sent and awaited; its answer carries the post-transaction channel snapshot. At
// start-up recover() resolves what a crash left pending.
//
// Thread-safety: verify/settle/recover may run concurrently from coroutines on any executors.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/facilitator/chain_view.hpp"
#include "engine/facilitator/journaled_sender.hpp"
#include "engine/facilitator/settlement_actions.hpp"
#include "engine/gate/facilitator.hpp"
#include "engine/log_throttle.hpp"
#include "persistence/tx_journal.hpp"

namespace paychan::engine::facilitator {

struct FacilitatorOptions {
  // How long a /settle waits for its transaction's receipt before answering
  // *_wait_for_receipt_failed (the transaction stays journaled; a retry keeps waiting for it).
  std::chrono::milliseconds receiptTimeout{60'000};
  std::chrono::milliseconds receiptPoll{200};
  // A transaction still unmined this long after it was sent, while the fee quote has risen above
  // what it offers, is replaced with higher fees (JournaledSender).
  std::chrono::seconds repriceAfter{60};
  std::optional<U256> maxFeePerGas;  // wei: no transaction offers more (JournaledSender); nullopt: no ceiling
  Fault fault = Fault::none;  // crash tests only
  // One line per on-chain action and per recovered entry (never keys or signatures); null: silent.
  std::function<void(const std::string&)> log;
};

struct RecoveryReport {
  std::size_t resolved = 0;   // receipt found: outcome recorded
  std::size_t dropped = 0;    // never to be mined, or mined and reverted: forgotten, the action may be retried
  std::size_t unresolved = 0;  // still pending (node unreachable, not mined yet)
};

class Facilitator final : public gate::Facilitator {
 public:
  // `receiverAuthorizer`: the key servers may delegate claim/refund authorizations to (advertised in
  // /supported); nullopt: servers must sign their own. `journal` must outlive the facilitator.
  Facilitator(std::vector<NetworkOptions> networks, PrivateKey signer, std::optional<PrivateKey> receiverAuthorizer,
              persistence::TxJournal& journal, FacilitatorOptions options = {});

  // Every network's node answers with its chain id (Error: invalid_config); what would make its
  // transactions fail (no contract, an unfunded signer, a collector deployed for other contracts)
  // is logged as a warning (ChainView::check_setup).
  [[nodiscard]] http::Awaitable<Status> check_nodes();
  // For /readyz: why each network whose node does not answer as it should now (eth_chainId within
  // 2 s) cannot be served; empty when all can. Asked of the nodes at most once a second (the
  // endpoint is open to anyone): askers within it get the last answer.
  [[nodiscard]] http::Awaitable<std::vector<std::string>> unready();
  // Resolves every pending journal entry by its receipt, rebroadcasting the same raw transaction
  // when the node does not know it. Error: the journal's.
  [[nodiscard]] http::Awaitable<Result<RecoveryReport>> recover();
  // How many journaled transactions are sent and not yet resolved (for /metrics). Error: the
  // journal's.
  [[nodiscard]] Result<std::size_t> pending_transactions();

  [[nodiscard]] protocol::SupportedResponse supported() const;
  [[nodiscard]] const Address& signer() const noexcept { return sender_.address(); }
  // A line for the operator's log (FacilitatorOptions::log): never a key, token or signature.
  void log(const std::string& line) const;
  // The same for a line any caller can cause, e.g. by a flood of forged payloads: as many as
  // `throttle` lets through (LogThrottle's default: 50 per 10 s), the rest counted.
  void log_caused_by_caller(LogThrottle& throttle, std::string line) const;

  // The answers as the HTTP API gives them: refusals and failed chain reads alike are answers
  // (isValid false / success false with the spec's code), as the reference facilitator does. The
  // receiverAuthorizer key signs only for receivers in the caller's `scope`, and channels that
  // delegate to it with a receiver outside the scope are refused (scope_refusal). Each refusal is
  // logged (but a sweep's nothing_to_settle, which is no failure), throttled (log_caused_by_caller).
  [[nodiscard]] http::Awaitable<protocol::VerifyResponse> verify_request(const protocol::FacilitatorRequest& request,
                                                                        ReceiverScope scope);
  [[nodiscard]] http::Awaitable<protocol::SettlementResponse> settle_request(
      const protocol::FacilitatorRequest& request, ReceiverScope scope);

  // gate::Facilitator: the same answers, except that a failed chain read (no trustworthy answer)
  // is facilitator_unavailable, which the gate treats as a facilitator that is down. An in-process
  // caller is the operator's own: its scope is every receiver.
  http::Awaitable<Result<protocol::VerifyResponse>> verify(const protocol::FacilitatorRequest& request) override;
  http::Awaitable<Result<protocol::SettlementResponse>> settle(const protocol::FacilitatorRequest& request) override;

 private:
  // verify_request's and settle_request's answers, unlogged.
  [[nodiscard]] http::Awaitable<protocol::VerifyResponse> verdict(const protocol::FacilitatorRequest& request,
                                                                 ReceiverScope scope);
  [[nodiscard]] http::Awaitable<protocol::SettlementResponse> settlement(const protocol::FacilitatorRequest& request,
                                                                        ReceiverScope scope);
  [[nodiscard]] ChainView* network(const std::string& name) noexcept;
  [[nodiscard]] Signers signers(ReceiverScope scope) const noexcept;
  // Runs (or joins) the action `request` asks for under `key`.
  [[nodiscard]] http::Awaitable<protocol::SettlementResponse> execute(ChainView& chain,
                                                                      const protocol::FacilitatorRequest& request,
                                                                      std::string key, ReceiverScope scope);
  // The answer for a journaled transaction: its recorded outcome, or its fate found within `timeout`,
  // described from the journaled request (`caller`'s only if that cannot be read); a refusal for a
  // `caller` that is another channel's deposit under the same key (deposit_of_another_channel).
  [[nodiscard]] http::Awaitable<protocol::SettlementResponse> finish(ChainView& chain,
                                                                     const protocol::FacilitatorRequest& caller,
                                                                     const persistence::JournalEntry& entry,
                                                                     std::chrono::milliseconds timeout);
  [[nodiscard]] bool claim_in_flight(const std::string& key);
  void release_in_flight(const std::string& key);
  // Forgets `latest` in the journal; says what became of it, for the log line.
  [[nodiscard]] std::string forget(const persistence::JournalEntry& latest);

  std::vector<std::unique_ptr<ChainView>> networks_;
  // verify_request's and settle_request's refusals, apart: a flood of forged payloads to /verify
  // must not hide the refusals of a gate's own claims.
  LogThrottle verify_refusals_;
  LogThrottle settle_refusals_;
  std::mutex readiness_mutex_;
  std::chrono::steady_clock::time_point readiness_at_{};  // when unready() last asked the nodes
  std::vector<std::string> readiness_;                    // what they said then
  std::optional<PrivateKey> authorizer_;
  persistence::TxJournal& journal_;
  FacilitatorOptions options_;
  JournaledSender sender_;
  std::mutex inFlightMutex_;
  std::set<std::string> inFlight_;  // keys whose action a request of this process is preparing
};

}  // namespace paychan::engine::facilitator
