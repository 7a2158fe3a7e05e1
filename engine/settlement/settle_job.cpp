#include "engine/settlement/settle_job.hpp"

#include <algorithm>
#include <limits>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/unix_time.hpp"
#include "protocol/claim_batch.hpp"
#include "protocol/facilitator_api.hpp"

namespace paychan::engine::settlement {
namespace {

// A facilitator's refusal as the operator reads it: its reason, then its message.
std::string refusal_text(const protocol::SettlementResponse& r) {
  return r.errorReason.value_or("refused") + (r.errorMessage ? ": " + *r.errorMessage : "");
}

// The reference channel manager's requirements for its own operations: no price, no offer terms.
protocol::PaymentRequirements requirements(const SettleJobOptions& options) {
  protocol::PaymentRequirements r;
  r.scheme = std::string{protocol::kBatchSettlementScheme};
  r.network = options.network;
  r.amount = "0";
  r.asset = to_checksum_hex(options.token);
  r.payTo = to_checksum_hex(options.receiver);
  r.maxTimeoutSeconds = 0;
  r.extra = protocol::Json::trusted("{}");
  return r;
}

// Adds `warning` to the run's summary and reports it as it comes.
void warn(SettleSummary& summary, const SettleJob::Progress& progress, std::string warning) {
  summary.warnings.push_back(std::move(warning));
  progress("warning: " + summary.warnings.back());
}

}  // namespace

std::size_t SettleSummary::claimedChannels() const {
  std::size_t n = 0;
  for (const BatchOutcome& b : batches)
    if (!b.transaction.empty()) n += b.channels;
  return n;
}

Uint128 SettleSummary::claimedAmount() const {
  Uint128 sum = 0;
  for (const BatchOutcome& b : batches) sum += b.amount;
  return sum;
}

bool SettleSummary::ok() const {
  return sweepError.empty() &&
         std::all_of(batches.begin(), batches.end(), [](const BatchOutcome& b) { return b.error.empty(); });
}

bool SettleSummary::retry_later() const {
  return !ok() && (sweepError.empty() || sweepTransient) &&
         std::all_of(batches.begin(), batches.end(), [](const BatchOutcome& b) { return b.error.empty() || b.transient; });
}

bool passes(std::string_view errorReason) noexcept {
  constexpr ErrorCode kPassing[] = {
      ErrorCode::facilitator_unavailable,  // also fees above the facilitator's cap
      ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
      ErrorCode::invalid_batch_settlement_evm_channel_state_read_failed,
      ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed,
      ErrorCode::invalid_batch_settlement_evm_channel_busy,
  };
  ErrorCode code{};
  return error_code_from_string(errorReason, code) && std::find(std::begin(kPassing), std::end(kPassing), code) != std::end(kPassing);
}

SettleJob::SettleJob(SettleJobOptions options, gate::Facilitator& facilitator, persistence::ChannelStore& store,
                     persistence::ClaimJournal& journal)
    : options_(std::move(options)),
      facilitator_(facilitator),
      store_(store),
      journal_(journal),
      domain_(batch_settlement_domain_separator(options_.chainId)) {
  if (!options_.now) {
    options_.now = unix_now;
  }
}

SettleJobOptions settle_job_options(const gate::GateConfig& config) {
  SettleJobOptions o;
  o.chainId = config.chainId;
  o.network = config.network;
  o.receiver = config.payTo;
  o.token = config.asset;
  o.policy.withdrawalWarningSeconds = config.withdrawalSafetyMarginSeconds;
  return o;
}

std::string claim_request(const SettleJobOptions& options, const Bytes32& domain, const std::vector<PlannedClaim>& batch) {
  protocol::ClaimPayload claim;
  for (const PlannedClaim& p : batch) claim.claims.push_back(p.row);
  if (options.receiverAuthorizerKey)
    claim.claimAuthorizerSignature = options.receiverAuthorizerKey->sign(protocol::claim_batch_digest(domain, claim.claims));
  protocol::FacilitatorRequest request;
  request.paymentRequirements = requirements(options);
  request.paymentPayload.accepted = request.paymentRequirements;
  request.paymentPayload.payload = protocol::BatchSettlementPayload{std::move(claim)};
  return protocol::encode_facilitator_request(request);
}

http::Awaitable<Result<BatchOutcome>> SettleJob::send(const persistence::JournaledBatch& batch) {
  auto request = protocol::decode_facilitator_request(batch.request);
  const auto* payload = request ? protocol::batch_payload(request->paymentPayload) : nullptr;
  const auto* claim = payload ? std::get_if<protocol::ClaimPayload>(payload) : nullptr;
  if (!claim) {
    // Only this job writes the journal; an unreadable entry means the file was damaged. Finish it
    // so that it does not block every later run, and say so.
    std::string why = request ? "not a claim" : request.error().to_string();
    if (Status finished = journal_.finish(batch.id, "", "unreadable journal entry: " + why, options_.now()); !finished)
      why += " (and it stays pending: " + finished.error().to_string() + ")";
    co_return BatchOutcome{0, 0, "", "unreadable journal entry " + std::to_string(batch.id) + ": " + why};
  }
  auto response = co_await facilitator_.settle(*request);
  if (!response) co_return response.failure();  // stays pending: the next run resends it

  BatchOutcome outcome;
  outcome.channels = claim->claims.size();
  std::vector<std::pair<Bytes32, persistence::HeldBack>> hold_back;
  if (!response->success) {
    outcome.error = refusal_text(*response);
    outcome.transient = passes(response->errorReason.value_or(""));
    // A refusal naming a transaction with the claim's transaction_failed: it was mined and reverted,
    // and its gas spent. A refusal before the chain, or for a dropped transaction, names none.
    outcome.reverted = !response->transaction.empty() &&
                       response->errorReason == to_string(ErrorCode::invalid_batch_settlement_evm_claim_transaction_failed);
    if (outcome.reverted) {
      auto waits = backoff(claim->claims);
      if (!waits) co_return waits.failure();
      hold_back = std::move(*waits);
    }
  } else {
    outcome.transaction = response->transaction;
    // The claim is on chain: a failure to record it says so (the batch stays journaled, and the next
    // run, resending it, is answered with this transaction and records it).
    const auto unrecorded = [&](const Error& e) {
      return fail(e.code, "the claim landed in " + outcome.transaction + ", but recording it failed (" + e.detail +
                              "): the next run records it");
    };
    std::vector<Bytes32> landed;
    for (const protocol::VoucherClaimRow& row : claim->claims) {
      const Bytes32 id = channel_id(domain_, row.channel);
      auto stored = store_.get(id);
      if (!stored) co_return unrecorded(stored.error());
      if (*stored && row.totalClaimed > (*stored)->onchain.totalClaimed)
        outcome.amount += row.totalClaimed - (*stored)->onchain.totalClaimed;
      if (Status recorded = store_.record_claimed(id, row.totalClaimed); !recorded) co_return unrecorded(recorded.error());
      landed.push_back(id);
    }
    if (Status released = journal_.release(landed); !released) co_return unrecorded(released.error());
  }
  if (Status finished = journal_.finish(batch.id, outcome.transaction, outcome.error, options_.now(), hold_back);
      !finished)
    co_return finished.failure();
  co_return outcome;
}

http::Awaitable<Status> SettleJob::claim(std::vector<PlannedClaim> batch, SettleSummary& summary,
                                         const Progress& progress) {
  std::string request = claim_request(options_, domain_, batch);
  auto id = journal_.begin(request, options_.now());
  if (!id) co_return id.failure();
  // Named, not a temporary inside co_await (g++ 12, see engine/http/asio.hpp).
  const persistence::JournaledBatch journaled{*id, std::move(request)};
  auto outcome = co_await send(journaled);
  if (!outcome) co_return outcome.failure();
  progress(outcome->error.empty() ? "  claimed " + to_decimal(outcome->amount) + " in " + outcome->transaction
            : outcome->reverted   ? "  reverted on chain: " + outcome->error + "; its channels wait before the next try"
                                  : "  refused: " + outcome->error);
  // Split to find the bad row, unless nothing is wrong with the rows: a refusal for a condition
  // that passes (a node down; no receipt in time, whose transaction may yet land) goes again whole
  // next run.
  const bool split = !outcome->error.empty() && !outcome->reverted && !outcome->transient && batch.size() > 1;
  const bool reverted_batch = outcome->reverted && batch.size() > 1;
  summary.batches.push_back(std::move(*outcome));
  if (reverted_batch) {
    // The watchtower's channels cannot wait out the back-off with their deadline near: each of them
    // goes again alone, now (one bad row elsewhere reverted the batch).
    for (PlannedClaim& p : batch) {
      if (p.withdrawalDeadline == 0) continue;
      progress("  claiming withdrawing channel " + to_hex(p.channelId) + " alone");
      std::vector<PlannedClaim> alone{std::move(p)};
      if (Status claimed = co_await claim(std::move(alone), summary, progress); !claimed) co_return claimed;
    }
  }
  if (!split) co_return Status{};
  const auto middle = batch.begin() + static_cast<std::ptrdiff_t>(batch.size() / 2);
  std::vector<PlannedClaim> first(std::make_move_iterator(batch.begin()), std::make_move_iterator(middle));
  std::vector<PlannedClaim> second(std::make_move_iterator(middle), std::make_move_iterator(batch.end()));
  progress("  splitting it: " + std::to_string(first.size()) + " + " + std::to_string(second.size()) + " channels");
  if (Status claimed = co_await claim(std::move(first), summary, progress); !claimed) co_return claimed;
  co_return co_await claim(std::move(second), summary, progress);
}

Result<std::vector<std::pair<Bytes32, persistence::HeldBack>>> SettleJob::backoff(
    const std::vector<protocol::VoucherClaimRow>& claims) {
  auto held = journal_.held_back();
  if (!held) return held.failure();
  const std::uint64_t now = options_.now();
  std::vector<std::pair<Bytes32, persistence::HeldBack>> entries;
  for (const protocol::VoucherClaimRow& row : claims) {
    const Bytes32 id = channel_id(domain_, row.channel);
    const auto found = held->find(id);
    const std::uint32_t reverts = found == held->end() ? 1 : found->second.reverts + 1;
    // base · 2^(reverts − 1), up to the cap (doubled while below it: no overflow).
    std::uint64_t wait = std::min(options_.revertBackoffSeconds, options_.revertBackoffCapSeconds);
    for (std::uint32_t i = 1; i < reverts && wait < options_.revertBackoffCapSeconds; ++i)
      wait = std::min(wait * 2, options_.revertBackoffCapSeconds);
    entries.emplace_back(id, persistence::HeldBack{reverts, now + wait});
  }
  return entries;
}

Result<ClaimPlan> SettleJob::plan_run(std::vector<ChannelState> channels, SettleSummary& summary, const Progress& progress) {
  auto held = journal_.held_back();
  if (!held) return held.failure();
  const std::uint64_t now = options_.now();
  // A channel no longer unclaimed (claimed by a refund, or found claimed on chain) waits no more.
  std::vector<Bytes32> gone;
  for (const auto& [id, h] : *held)
    if (std::none_of(channels.begin(), channels.end(), [&](const ChannelState& c) { return c.channelId == id; }))
      gone.push_back(id);
  if (Status released = journal_.release(gone); !released) return released.failure();
  std::vector<ChannelState> alone;  // held back, their wait over (or a withdrawal pending): one per batch
  std::optional<std::uint64_t> next_try;
  std::erase_if(channels, [&](ChannelState& c) {
    const auto found = held->find(c.channelId);
    if (found == held->end()) return false;
    if (found->second.notBefore <= now || c.onchain.withdrawRequestedAt != 0) {
      alone.push_back(std::move(c));
    } else {
      ++summary.heldBackChannels;
      next_try = std::min(next_try.value_or(found->second.notBefore), found->second.notBefore);
    }
    return true;
  });
  if (next_try)
    progress(std::to_string(summary.heldBackChannels) + " channels wait after a claim of theirs reverted on chain (next try in " +
             std::to_string(*next_try - now) + " s)");
  ClaimPlan plan = plan_claims(channels, options_.policy, domain_, now);
  for (const ChannelState& c : alone) {
    ClaimPlan single = plan_claims(std::span(&c, 1), options_.policy, domain_, now);
    for (auto& batch : single.batches) plan.batches.push_back(std::move(batch));
    for (auto& warning : single.warnings) plan.warnings.push_back(std::move(warning));
    plan.skipped += single.skipped;
  }
  // Withdrawals first, soonest deadline first, as plan_claims orders its own batches (stable: the
  // rest keep their order).
  const auto deadline = [](const std::vector<PlannedClaim>& batch) {
    std::uint64_t soonest = std::numeric_limits<std::uint64_t>::max();
    for (const PlannedClaim& p : batch)
      if (p.withdrawalDeadline != 0) soonest = std::min(soonest, p.withdrawalDeadline);
    return soonest;
  };
  std::stable_sort(plan.batches.begin(), plan.batches.end(),
                   [&](const auto& a, const auto& b) { return deadline(a) < deadline(b); });
  // A channel opened to another receiver (the gate's payTo changed since) is claimed into that
  // receiver's balance in the contract, which this run's sweep, to its own payTo, leaves there.
  std::vector<std::pair<Address, std::size_t>> others;
  for (const auto& batch : plan.batches) {
    for (const PlannedClaim& p : batch) {
      const Address& receiver = p.row.channel.receiver;
      if (receiver == options_.receiver) continue;
      auto it = std::find_if(others.begin(), others.end(), [&](const auto& o) { return o.first == receiver; });
      if (it == others.end()) others.emplace_back(receiver, 1);
      else ++it->second;
    }
  }
  for (const auto& [receiver, n] : others)
    plan.warnings.push_back(std::to_string(n) + (n == 1 ? " channel" : " channels") + " to receiver " +
                            to_checksum_hex(receiver) + " claimed here, but this run sweeps only to payTo " +
                            to_checksum_hex(options_.receiver) + ": run settle with a config whose payTo is " +
                            to_checksum_hex(receiver) + " to sweep them");
  return plan;
}

http::Awaitable<Status> SettleJob::sweep(SettleSummary& summary, const Progress& progress) {
  progress("sweeping claimed funds to " + to_checksum_hex(options_.receiver));
  protocol::FacilitatorRequest request;
  request.paymentRequirements = requirements(options_);
  request.paymentPayload.accepted = request.paymentRequirements;
  request.paymentPayload.payload = protocol::BatchSettlementPayload{protocol::SettlePayload{options_.receiver, options_.token}};
  auto swept = co_await facilitator_.settle(request);
  if (!swept) co_return swept.failure();
  // With nothing claimed and unswept the facilitator answers nothing_to_settle (after a
  // simulation, without a transaction), which is no failure.
  const bool nothing = !swept->success && swept->errorReason == to_string(ErrorCode::invalid_batch_settlement_evm_nothing_to_settle);
  if (nothing) {
    progress("  nothing to sweep");
  } else if (!swept->success) {
    summary.sweepError = refusal_text(*swept);
    summary.sweepTransient = passes(swept->errorReason.value_or(""));
  } else {
    summary.sweepTransaction = swept->transaction;
    summary.sweepAmount = swept->amount.value_or("");
  }
  co_return Status{};
}

http::Awaitable<Status> SettleJob::refresh(std::vector<ChannelState>& channels, NoncesRead& read) {
  for (ChannelState& c : channels) {
    auto onchain = co_await options_.chain->channel(c.channelId);
    if (!onchain) co_return onchain.failure();
    if (onchain->totalClaimed > c.onchain.totalClaimed)
      if (Status recorded = store_.record_claimed(c.channelId, onchain->totalClaimed); !recorded) co_return recorded;
    c.onchain = *onchain;
    read[c.channelId] = onchain->refundNonce;
  }
  co_return Status{};
}

http::Awaitable<Status> SettleJob::resolve_refunds(SettleSummary& summary, const Progress& progress, NoncesRead& read) {
  auto pending = store_.pending_refunds();
  if (!pending) co_return pending.failure();
  for (const auto& [channelId, refund] : *pending) {
    // Not worth failing the run over (the claims are sent): the next run reads it again.
    auto onchain = co_await options_.chain->channel(channelId);
    if (!onchain) {
      warn(summary, progress, "channel " + to_hex(channelId) + " not read on chain, its refund of unknown outcome kept: " +
                                  onchain.error().to_string());
      continue;
    }
    read[channelId] = onchain->refundNonce;
    // Only a nonce past the refund's settles it: a node behind (or not yet holding the channel)
    // reports an older one, and the refund may still land. Behind it, the gate refuses the
    // channel: the operator is told, since a refund undone by a reorg for good keeps it so.
    if (onchain->refundNonce < refund.nonce)
      warn(summary, progress, "channel " + to_hex(channelId) + ": the chain's refund nonce " + onchain->refundNonce.to_decimal() +
                                  " is behind its refund of unknown outcome (nonce " + refund.nonce.to_decimal() +
                                  "); the gate refuses the channel until the refunds before it land or the node catches up");
    if (onchain->refundNonce <= refund.nonce) continue;
    auto resolved = store_.resolve_pending_refund(channelId, refund, *onchain);
    if (!resolved) co_return resolved.failure();
    if (*resolved) ++summary.resolvedRefunds;
  }
  co_return Status{};
}

namespace {

// A refunded channel the check may read, in turn: `rank` 0 when this run read it behind the gate's
// refund nonce (the gate may have refunded it since, else it is the likeliest warning), 1 when no
// read has shown the chain at that nonce (never read, behind or failed at the last read, refunded
// again since), 2 otherwise; within a rank, the longest ago read (never: 0) first.
struct DueCheck {
  int rank = 2;
  std::uint64_t lastRead = 0;
  Bytes32 channelId{};
  U256 seen;       // the gate's refund nonce
  U256 lastShown;  // the refund nonce the latest read showed (none: 0)
  [[nodiscard]] auto turn() const { return std::tie(rank, lastRead, channelId); }
};

constexpr std::size_t kFailedReadsBeforeStopping = 3;

// A channel and the refund nonce a read of it showed, as the journal records it.
using Checked = std::pair<Bytes32, U256>;

struct RefundCheckTurns {
  std::vector<Checked> checked;  // read by this run at or past the gate's nonce: no read needed
  std::vector<DueCheck> due;
  std::vector<Bytes32> gone;  // in the journal, no longer refunded
};

// `read_now`: what this run read, behind `seen`; `last`: the journal's latest check.
DueCheck due_check(const Bytes32& channelId, const U256& seen, const std::optional<U256>& read_now,
                   const std::optional<persistence::RefundCheck>& last) {
  DueCheck d{2, last ? last->at : 0, channelId, seen, read_now ? *read_now : last ? last->refundNonce : U256{}};
  if (read_now) d.rank = 0;
  else if (d.lastShown < seen) d.rank = 1;
  return d;
}

RefundCheckTurns refund_check_turns(const std::vector<std::pair<Bytes32, U256>>& refunded,
                                    std::map<Bytes32, persistence::RefundCheck> journaled,
                                    const std::map<Bytes32, U256>& read) {
  RefundCheckTurns t;
  for (const auto& [channelId, seen] : refunded) {
    std::optional<persistence::RefundCheck> last;
    if (const auto it = journaled.find(channelId); it != journaled.end()) {
      last = it->second;
      journaled.erase(it);  // what is left below is no longer refunded
    }
    const auto now_read = read.find(channelId);
    if (now_read != read.end() && now_read->second >= seen) {
      t.checked.emplace_back(channelId, now_read->second);
      continue;
    }
    t.due.push_back(due_check(channelId, seen, now_read != read.end() ? std::optional(now_read->second) : std::nullopt, last));
  }
  for (const auto& [channelId, check] : journaled) t.gone.push_back(channelId);
  return t;
}

}  // namespace

http::Awaitable<void> SettleJob::check_refunded(SettleSummary& summary, const Progress& progress, const NoncesRead& read) {
  auto refunded = store_.refunded_channels();
  if (!refunded) {
    warn(summary, progress, "the refunded channels were not read from the store: " + refunded.error().to_string());
    co_return;
  }
  auto journaled = journal_.refund_checks();
  if (!journaled) {
    warn(summary, progress, "the refunded channels were not checked: " + journaled.error().to_string());
    co_return;
  }
  RefundCheckTurns turns = refund_check_turns(*refunded, std::move(*journaled), read);
  const std::size_t reads = std::min(turns.due.size(), options_.refundChecksPerRun);
  std::partial_sort(turns.due.begin(), turns.due.begin() + static_cast<std::ptrdiff_t>(reads), turns.due.end(),
                    [](const DueCheck& a, const DueCheck& b) { return a.turn() < b.turn(); });
  summary.refundChecksLeft = turns.due.size() - reads;
  if (reads != 0) progress("checking " + std::to_string(reads) + " of " + std::to_string(turns.due.size()) + " refunded channels on chain");
  std::size_t failed_in_a_row = 0;
  for (std::size_t i = 0; i < reads; ++i) {
    const DueCheck& d = turns.due[i];
    // A node that is down would cost every read left its timeout: those keep their turns.
    if (failed_in_a_row == kFailedReadsBeforeStopping) {
      summary.refundChecksLeft += reads - i;
      warn(summary, progress, "the refund check stopped after " + std::to_string(failed_in_a_row) +
                                  " failed reads in a row (is the node down?); the next run goes on");
      break;
    }
    auto onchain = co_await options_.chain->channel(d.channelId);
    if (!onchain) {
      // Its turn is taken all the same, journaled with what the last read showed (none: 0, behind),
      // so that channels whose reads keep failing go to the back of their rank.
      turns.checked.emplace_back(d.channelId, d.lastShown);
      ++failed_in_a_row;
      warn(summary, progress, "channel " + to_hex(d.channelId) + " not read on chain: " + onchain.error().to_string());
      continue;
    }
    failed_in_a_row = 0;
    // Journaled behind, it keeps its place among the first turns (rank 1), and is warned of again.
    turns.checked.emplace_back(d.channelId, onchain->refundNonce);
    // Behind a refund the gate saw land, the gate refuses the channel too, while its facilitator's
    // node is as behind as this one; for good if a reorg undid the refund.
    if (onchain->refundNonce < d.seen)
      warn(summary, progress, "channel " + to_hex(d.channelId) + ": this node's refund nonce " + onchain->refundNonce.to_decimal() +
                                  " is behind the " + d.seen.to_decimal() + " the gate saw a refund take it to; the gate refuses the channel" +
                                  " on a view as behind (for good, if a reorg undid the refund)");
  }
  if (Status kept = journal_.record_refund_checks(turns.checked, turns.gone, options_.now()); !kept)
    warn(summary, progress, "when the refunded channels were read was not journaled (the next run reads the same ones): " +
                                kept.error().to_string());
}

http::Awaitable<Result<SettleSummary>> SettleJob::run_once(Progress progress) {
  SettleSummary summary;
  auto pending = journal_.pending();
  if (!pending) co_return pending.failure();
  for (const persistence::JournaledBatch& batch : *pending) {
    progress("resending claim batch " + std::to_string(batch.id) + " left pending by an earlier run");
    auto outcome = co_await send(batch);
    if (!outcome) co_return outcome.failure();
    outcome->resumed = true;
    summary.batches.push_back(std::move(*outcome));
  }

  auto channels = store_.unclaimed();
  if (!channels) co_return channels.failure();
  NoncesRead read;
  if (options_.chain) {
    progress("reading " + std::to_string(channels->size()) + " channels on chain");
    if (Status refreshed = co_await refresh(*channels, read); !refreshed) co_return refreshed.failure();
    summary.alreadyClaimed = static_cast<std::size_t>(std::count_if(channels->begin(), channels->end(), [](const ChannelState& c) {
      return c.chargedCumulativeAmount <= c.onchain.totalClaimed;
    }));
  }
  auto planned = plan_run(std::move(*channels), summary, progress);
  if (!planned) co_return planned.failure();
  ClaimPlan& plan = *planned;
  summary.skippedChannels = plan.skipped;
  summary.warnings = std::move(plan.warnings);
  for (const std::string& w : summary.warnings) progress("warning: " + w);
  for (std::size_t i = 0; i < plan.batches.size(); ++i) {
    // After a refusal for a condition that passes, the next batches would meet it too: they wait
    // for the next run.
    if (!summary.batches.empty() && summary.batches.back().transient) {
      progress(std::to_string(plan.batches.size() - i) + " more batches wait for the next run");
      break;
    }
    progress("claim batch " + std::to_string(i + 1) + "/" + std::to_string(plan.batches.size()) + ": " +
             std::to_string(plan.batches[i].size()) + " channels");
    if (Status claimed = co_await claim(std::move(plan.batches[i]), summary, progress); !claimed)
      co_return claimed.failure();
  }

  if (options_.chain) {
    if (Status resolved = co_await resolve_refunds(summary, progress, read); !resolved) co_return resolved.failure();
  }

  // Swept every run, not only after this run's claims: refunds and earlier runs claim too.
  Status swept;
  if (options_.sweep) swept = co_await sweep(summary, progress);  // not inside ?: (that crashed under GCC 12)
  // Last, whatever the sweep did (a run that failed earlier skips them): only warnings hang on
  // these, and the money's moves come first.
  if (options_.chain && options_.refundChecksPerRun != 0) co_await check_refunded(summary, progress, read);
  if (options_.forgetClosedAfterSeconds != 0) {
    auto forgotten = store_.forget_closed(options_.forgetClosedAfterSeconds);
    if (forgotten) summary.forgottenClosed = *forgotten;
    else warn(summary, progress, "the records of long-deleted channels were not forgotten: " + forgotten.error().to_string());
  }
  if (!swept) co_return swept.failure();
  co_return summary;
}

}  // namespace paychan::engine::settlement
