// The operator's settle job (`paychan settle`): claims what the gate's store has charged, in
// batches, through a facilitator's /settle (`claim`, or `claimWithSignature` when the operator holds
// the receiver authorizer's key), records each claim back into the store, then sweeps the claimed
// funds to the receiver (`settle`). Same payloads as the reference server's channel manager, so any
// x402 batch-settlement facilitator will do.
//
// Crash safety: a batch is journaled (ClaimJournal) before it is sent; the next run resends every
// pending batch, byte for byte, before planning new ones, and records its outcome. Nothing is
// recorded as claimed until the facilitator said so, so a claim is never lost; resent bytes are
// deduplicated by the facilitator and claims are cumulative, so nothing is claimed twice.
// Thread-safety: one run at a time (the command holds a lock file); the gate may run alongside.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "channel/ecdsa.hpp"
#include "engine/gate/facilitator.hpp"
#include "engine/gate/gate_config.hpp"
#include "engine/settlement/claim_plan.hpp"
#include "persistence/channel_store.hpp"
#include "persistence/claim_journal.hpp"

namespace paychan::engine::settlement {

// The chain's own view of a channel (balance, totalClaimed, pending withdrawal, refund nonce).
// With one, the job refreshes every channel it would claim before planning: a payer's withdrawal
// the gate has not seen is caught (the watchtower duty), and a claim that landed but was never
// recorded (a crash in between) is recorded instead of sent again.
class ChainReader {
 public:
  virtual ~ChainReader() = default;
  [[nodiscard]] virtual http::Awaitable<Result<OnchainChannelState>> channel(const Bytes32& channelId) = 0;
};

struct SettleJobOptions {
  std::uint64_t chainId = 0;
  std::string network;  // CAIP-2
  Address receiver;     // the offers' payTo
  Address token;        // the offers' asset
  // Signs each batch (claimWithSignature); without it the facilitator must hold that key.
  std::optional<PrivateKey> receiverAuthorizerKey;
  ClaimPolicy policy;
  bool sweep = true;  // settle(receiver, token) at the end of every run
  ChainReader* chain = nullptr;  // optional; see ChainReader
  std::function<std::uint64_t()> now;  // unix seconds; empty: the wall clock
  // A claim mined and reverted spent gas and claimed nothing; sent again every run, it would spend
  // gas every run. Its channels wait revertBackoff, twice as long after each further revert (up to
  // revertBackoffCap), and are then claimed one per batch so that a bad one holds no other back.
  // A channel with a pending withdrawal does not wait: the watchtower claims it before the deadline.
  std::uint64_t revertBackoffSeconds = 600;
  std::uint64_t revertBackoffCapSeconds = 86'400;
  // With a chain: how many channels the gate saw refunded one run reads for the check that their
  // chain is not behind that refund (check_refunded): the set grows with use (a channel partly
  // refunded keeps its row until spent), so the runs take turns. A channel this run already read
  // for a claim or a pending refund costs no read. 0: no check (the journal's turns left as they are).
  std::size_t refundChecksPerRun = 100;
  // A deleted channel's record (its refund nonce and claimed total, which the gate judges a view of
  // its chain against) is forgotten this long after its deletion: no node lags, nor reorg reaches,
  // that far back. 0: kept for good. (A run that fails before its sweep forgets nothing, nor
  // checks refunds.)
  std::uint64_t forgetClosedAfterSeconds = 30 * 86'400;
};

// The facilitator request claiming `batch` as the job journals and sends it (JSON), signed for
// claimWithSignature when the options hold the receiverAuthorizer's key. `domain`: the scheme's
// EIP-712 domain on the options' chain.
[[nodiscard]] std::string claim_request(const SettleJobOptions& options, const Bytes32& domain,
                                        const std::vector<PlannedClaim>& batch);

// The options for settling what a gate with `config` served: its chain, network, payTo and asset,
// warning about withdrawals that end within its safety margin. The caller adds the rest.
[[nodiscard]] SettleJobOptions settle_job_options(const gate::GateConfig& config);

struct BatchOutcome {
  std::size_t channels = 0;
  Uint128 amount = 0;       // newly claimed by this batch (0 for a resent batch: already counted)
  std::string transaction;  // the claim transaction, "" when refused
  std::string error;        // the facilitator's reason when refused
  bool resumed = false;     // a batch journaled by an earlier run
  bool reverted = false;    // mined and reverted: gas spent, nothing claimed; its channels wait
  // Refused for a condition that passes (see passes()): the next run sends it again.
  bool transient = false;
};

// Whether a facilitator's refusal (its errorReason) is for a condition that passes: it or its node
// busy or unreachable, fees above its cap, a receipt not seen in time. Other refusals need a look.
[[nodiscard]] bool passes(std::string_view errorReason) noexcept;

struct SettleSummary {
  std::vector<BatchOutcome> batches;
  std::size_t alreadyClaimed = 0;  // found claimed on chain (ChainReader) and recorded, not resent
  std::size_t skippedChannels = 0;  // unclaimed but below the threshold
  std::size_t heldBackChannels = 0;  // waiting after a claim of theirs reverted on chain (revertBackoff)
  // Refunds of unknown outcome the gate held back, found settled on chain (ChainReader): no
  // longer held back, their channels deleted if spent.
  std::size_t resolvedRefunds = 0;
  std::size_t refundChecksLeft = 0;  // refunded channels the check leaves to later runs (refundChecksPerRun)
  std::size_t forgottenClosed = 0;   // deleted channels' records forgotten (forgetClosedAfterSeconds)
  std::vector<std::string> warnings;
  std::string sweepTransaction;  // "" when nothing was swept
  std::string sweepAmount;       // as the facilitator reported it
  std::string sweepError;        // the facilitator's reason when it refused the sweep
  bool sweepTransient = false;   // ...for a condition that passes
  [[nodiscard]] std::size_t claimedChannels() const;
  [[nodiscard]] Uint128 claimedAmount() const;
  [[nodiscard]] bool ok() const;  // every batch and the sweep succeeded
  // Not ok(), but only for conditions that pass: a later run may do without anyone's help.
  [[nodiscard]] bool retry_later() const;
};

class SettleJob {
 public:
  SettleJob(SettleJobOptions options, gate::Facilitator& facilitator, persistence::ChannelStore& store,
            persistence::ClaimJournal& journal);

  using Progress = std::function<void(const std::string&)>;
  // One pass: resend pending batches, plan, claim, record, sweep. Errors (facilitator_unavailable,
  // store_failed) stop the pass; batches already sent stay journaled for the next run.
  [[nodiscard]] http::Awaitable<Result<SettleSummary>> run_once(Progress progress);

 private:
  // Sends a journaled batch and records its outcome in the store and the journal; a mined revert
  // holds its channels back, a claim that lands releases them.
  [[nodiscard]] http::Awaitable<Result<BatchOutcome>> send(const persistence::JournaledBatch& batch);
  // Journals and sends a planned batch. One bad row fails a whole batch, so a batch refused before
  // it reached the chain is split in halves and each sent again, down to single channels: only the
  // bad ones stay unclaimed. A reverted batch is not split: each half would spend gas again. Every
  // outcome goes to `summary`.
  [[nodiscard]] http::Awaitable<Status> claim(std::vector<PlannedClaim> batch, SettleSummary& summary,
                                              const Progress& progress);
  // settle(receiver, token): its transaction or refusal into `summary`. Errors: the facilitator
  // unreachable.
  [[nodiscard]] http::Awaitable<Status> sweep(SettleSummary& summary, const Progress& progress);
  // The refund nonce of each channel this run read on chain: a later check reuses it.
  using NoncesRead = std::map<Bytes32, U256>;
  // Overwrites each channel's on-chain mirror with the chain's, recording newer claims in the store.
  [[nodiscard]] http::Awaitable<Status> refresh(std::vector<ChannelState>& channels, NoncesRead& read);
  // Reads on chain every channel with a refund of unknown outcome in the store; those whose refund
  // nonce moved past it are resolved in the store (the gate forgets such a refund only when it next
  // reads the chain for the channel, which a payer who refunded everything never asks it to).
  // Counted in `summary`; a channel not read is a warning there, and so is one whose chain is
  // behind such a refund.
  [[nodiscard]] http::Awaitable<Status> resolve_refunds(SettleSummary& summary, const Progress& progress, NoncesRead& read);
  // Warns of a channel whose chain is behind the refund nonce the store mirrors for it (a refund the
  // gate saw land): the gate refuses it on such a view. Reads at most refundChecksPerRun channels,
  // in turns the journal keeps (refund_check_turns), and none that `read` already shows at or past
  // that nonce. Only warnings hang on it: nothing here fails the run.
  [[nodiscard]] http::Awaitable<void> check_refunded(SettleSummary& summary, const Progress& progress, const NoncesRead& read);
  // The batches to claim this run: `channels` planned together, except held-back ones, which are
  // left out until their wait ends and then planned alone.
  [[nodiscard]] Result<ClaimPlan> plan_run(std::vector<ChannelState> channels, SettleSummary& summary, const Progress& progress);
  // After `claims` reverted on chain: each channel's revert count and wait, grown (journaled with
  // the batch's outcome).
  [[nodiscard]] Result<std::vector<std::pair<Bytes32, persistence::HeldBack>>> backoff(
      const std::vector<protocol::VoucherClaimRow>& claims);

  SettleJobOptions options_;
  gate::Facilitator& facilitator_;
  persistence::ChannelStore& store_;
  persistence::ClaimJournal& journal_;
  Bytes32 domain_;
};

}  // namespace paychan::engine::settlement
