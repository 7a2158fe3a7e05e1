#include "engine/gate/gate.hpp"

#include <chrono>
#include <ctime>
#include <unordered_map>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/unix_time.hpp"
#include "engine/gate/durable_commit.hpp"
#include "protocol/claim_batch.hpp"
#include "protocol/headers.hpp"
#include "protocol/offer_match.hpp"

namespace paychan::engine::gate {
namespace {

using Clock = std::chrono::steady_clock;

Refusal refusal(int status, Error error) { return Refusal{status, std::move(error), std::nullopt}; }
Refusal refusal(const Error& error) { return refusal(402, error); }

// The voucher against the channel's mirrored balance (plus `deposit`, one in flight), on the
// gate's own (no facilitator).
std::optional<Refusal> funding_refusal(PayloadType type, const SignedVoucher& voucher, const ChannelState& base,
                                       Uint128 deposit = 0) {
  if (Status funded = check_funding(type, base.onchain, deposit, voucher.voucher.maxClaimableAmount); !funded)
    return refusal(funded.error());
  return std::nullopt;
}

Result<protocol::SharedPayload> shared(Result<protocol::PaymentPayload> decoded) {
  if (!decoded) return decoded.failure();
  return protocol::SharedPayload{std::make_shared<const protocol::PaymentPayload>(std::move(*decoded))};
}

// The channel config and voucher every client payload carries, and its type.
struct ClientPayload {
  const ChannelConfig* config = nullptr;
  const SignedVoucher* voucher = nullptr;
  PayloadType type = PayloadType::voucher;
  Uint128 deposit = 0;
};

std::optional<ClientPayload> client_payload(const protocol::PaymentPayload& p) {
  const auto* batch = protocol::batch_payload(p);
  if (batch == nullptr) return std::nullopt;
  if (const auto* d = std::get_if<protocol::DepositPayload>(batch))
    return ClientPayload{&d->channelConfig, &d->voucher, PayloadType::deposit, d->deposit.amount};
  if (const auto* v = std::get_if<protocol::VoucherPayload>(batch))
    return ClientPayload{&v->channelConfig, &v->voucher, PayloadType::voucher, 0};
  if (const auto* r = std::get_if<protocol::RefundPayload>(batch))
    return ClientPayload{&r->channelConfig, &r->voucher, PayloadType::refund, 0};
  return std::nullopt;  // claim / settle are the server's own payloads, never a client's
}

protocol::ChannelSnapshot snapshot(const ChannelState& s) {
  return protocol::ChannelSnapshot{s.channelId,           s.onchain.balance,    s.onchain.totalClaimed,
                                   s.onchain.withdrawRequestedAt, s.onchain.refundNonce, s.chargedCumulativeAmount};
}

// A facilitator's reason string as a code; an unknown reason keeps its text in the detail.
Error facilitator_reason(const std::optional<std::string>& reason, const std::optional<std::string>& message) {
  ErrorCode code = ErrorCode::invalid_payload;
  const std::string text = reason.value_or("invalid_payload");
  const bool known = error_code_from_string(text, code);
  return Error{code, (known ? std::string{} : text + ": ") + message.value_or("refused by the facilitator")};
}

// A facilitator's refusal (a /verify isValid false, a /settle success false) as the gate's.
Refusal facilitator_refusal(const std::optional<std::string>& reason, const std::optional<std::string>& message) {
  Refusal r = refusal(facilitator_reason(reason, message));
  r.byFacilitator = true;
  return r;
}

// A /verify that found the payload invalid, as the refusal to send.
std::optional<Refusal> invalid_verdict(const protocol::VerifyResponse& verdict) {
  if (verdict.isValid) return std::nullopt;
  return facilitator_refusal(verdict.invalidReason, verdict.invalidMessage);
}

// Whether a channel's on-chain mirror is as it was: a deposit or refund through the gate changes
// it (or marks it stale, synced at 0, while the outcome is unknown) when its lease ends, so a
// snapshot of the chain read in between is not older than what the gate holds. A channel absent
// both times may have been created and forgotten (a deposit, then a full refund) in between: not
// the same.
bool same_mirror(const std::optional<ChannelState>& before, const std::optional<ChannelState>& now) {
  return before && now && before->onchainSyncedAt != 0 && before->onchainSyncedAt == now->onchainSyncedAt &&
         before->onchain == now->onchain;
}

// A view of the chain whose `what` is `seen`, below the `floor` the gate saw: nothing is judged on it.
Failure chain_behind(const std::string& what, const std::string& seen, const std::string& floor) {
  return fail(ErrorCode::facilitator_unavailable, "the facilitator's chain is behind this channel as the gate saw it (" +
                                                      what + " " + seen + ", not " + floor + "); ask again");
}

// A snapshot of the chain, judged against what the gate has seen of the channel: `seen`, the
// refund nonce of the last view it took, and a refund of unknown outcome. A refund nonce before
// either is a view behind the chain (a node lagging, a reorg): the refunds at the nonces in between
// may land again, so nothing is judged on it (error). A nonce past the pending refund's means it
// landed, or another refund took its place: it is forgotten. Until then it may still land, so the
// balance it would take is not counted on (else vouchers served on it could not be claimed once it
// lands). Otherwise, whether the balance was discounted.
Result<bool> judge_chain_view(std::optional<PendingRefund>& pending, const U256& seen, OnchainChannelState& onchain) {
  const U256 floor = pending ? std::max(seen, pending->nonce) : seen;
  if (onchain.refundNonce < floor) return chain_behind("refund nonce", onchain.refundNonce.to_decimal(), floor.to_decimal());
  if (!pending) return false;
  if (onchain.refundNonce > pending->nonce) {
    pending.reset();
    return false;
  }
  onchain.balance = checked_sub(onchain.balance, pending->amount).value_or(0);
  return true;
}

// A deposit or refund executed on chain, then reported on a view judge_chain_view() refused:
// nothing is committed on it, and the answer names the transaction.
Refusal executed_on_a_view_behind(std::string_view executed, const std::string& transaction, const Error& behind) {
  Refusal r = refusal(503, Error{behind.code, std::string(executed) + " (transaction " + transaction + "), but " + behind.detail});
  r.detailForClient = true;
  return r;
}

Refusal no_channel_to_refund() {
  return refusal(Error{ErrorCode::invalid_batch_settlement_evm_missing_channel, "no channel to refund"});
}

// Whether a refund the facilitator refused can no longer land: refused before any transaction,
// or its transaction reverted or dropped. Any other refusal (no reply, a transaction still
// unmined, a chain read failing while it waits) leaves its outcome unknown.
bool refund_never_lands(const Refusal& r) {
  switch (r.error.code) {
    case ErrorCode::invalid_batch_settlement_evm_channel_id_mismatch:
    case ErrorCode::invalid_batch_settlement_evm_receiver_authorizer_mismatch:
    case ErrorCode::invalid_batch_settlement_evm_refund_amount_invalid:
    case ErrorCode::invalid_batch_settlement_evm_refund_no_balance:
    case ErrorCode::invalid_batch_settlement_evm_refund_payload:
    case ErrorCode::invalid_batch_settlement_evm_refund_simulation_failed:
    case ErrorCode::invalid_batch_settlement_evm_refund_transaction_failed:
      return true;
    default:
      return false;
  }
}

// An unknown channel's charged total until the chain is read, as the reference server infers it:
// the client's voucher minus one price (paid payloads) or the voucher itself (refunds). Once
// /verify returns the channel, what was claimed on chain is the floor (Gate::verify): a guess
// below it would serve a voucher that adds nothing claimable.
Uint128 inferred_charged(PayloadType type, Uint128 signedMax, Uint128 price) {
  if (type == PayloadType::refund) return signedMax;
  return signedMax < price ? 0 : signedMax - price;
}

}  // namespace

Gate::Gate(GateOptions options, persistence::ChannelStore& store, Facilitator* facilitator, GateMetrics& metrics)
    : options_(std::move(options)),
      domain_(batch_settlement_domain_separator(options_.chainId)),
      store_(store),
      facilitator_(facilitator),
      metrics_(metrics) {
  if (!options_.now) {
    options_.now = unix_now;
  }
}

Status Gate::restore() {
  auto all = store_.load_all();
  if (!all) return all.failure();
  auto refunds = store_.pending_refunds();
  if (!refunds) return refunds.failure();
  std::unordered_map<Bytes32, PendingRefund, Bytes32Hash> pending(refunds->begin(), refunds->end());
  for (const ChannelState& s : *all) {
    const auto it = pending.find(s.channelId);
    table_.restore(s, it == pending.end() ? std::nullopt : std::optional<PendingRefund>{it->second});
  }
  return {};
}

Status Gate::refresh_claimed() {
  // Pages of this many channels hold the store's reader lock 0.07 ms each (bench_store's
  // BM_ClaimedTotals; 7.3 ms for 20,000 at once), so that an I/O thread's read waits no longer.
  constexpr std::size_t kPage = 512;
  std::optional<Bytes32> after;
  for (;;) {
    auto page = store_.claimed_totals(after ? ByteView(*after) : ByteView{}, kPage);
    if (!page) return page.failure();
    for (const auto& [id, total] : *page) table_.raise_claimed(id, total);
    if (page->size() < kPage) break;
    after = page->back().first;
  }
  return forget_deleted_channels();
}

Status Gate::forget_deleted_channels() {
  // Each pass reads again the records of the last minute before the newest it read: the records
  // are dated in whole seconds, by the deleting process when its statement ran, not when its
  // transaction committed. A record read twice is harmless (its channel is gone, or newer). The
  // dates are the host's clock (SQLite's), so the cursor never passes the clock's now: a record
  // dated ahead does not hide those dated after it. One dated back by a clock stepped back further
  // than the overlap is not read, and its channel is held until a restart.
  constexpr std::int64_t kOverlapSeconds = 60;
  constexpr std::size_t kPage = 512;
  std::int64_t newest = closedSince_;
  std::optional<persistence::ClosedRecord> last;
  for (;;) {
    auto page = last ? store_.closed_since(last->closedAt, last->channelId, kPage)
                     : store_.closed_since(closedSince_, ByteView{}, kPage);
    if (!page) return page.failure();
    for (const persistence::ClosedRecord& r : *page) {
      if (table_.forget_deleted(r.channelId, r.closed.totalClaimed, r.closed.refundNonce))
        metrics_.forgotten_channels.fetch_add(1, std::memory_order_relaxed);
      newest = std::max(newest, r.closedAt);
    }
    if (page->size() < kPage) break;
    last = page->back();
  }
  const auto clock = static_cast<std::int64_t>(std::time(nullptr));
  closedSince_ = std::max(closedSince_, std::min(newest, clock) - kOverlapSeconds);
  return {};
}

ChannelTotals Gate::totals() const {
  ChannelTotals t;
  table_.for_each([&](const ChannelState& s) {
    ++t.open;
    if (s.onchain.withdrawRequestedAt != 0) ++t.withdrawal_pending;
    if (s.chargedCumulativeAmount > s.onchain.totalClaimed) t.unclaimed += s.chargedCumulativeAmount - s.onchain.totalClaimed;
  });
  return t;
}

http::Awaitable<Decision<Authorization>> Gate::authorize(const Offer& offer, std::string_view paymentSignature,
                                                        protocol::PaymentSignatureDecoder* decoder) {
  // Every outcome counts, refusals included: the histogram is what a paying client waits for.
  struct Observe {
    LatencyHistogram& histogram;
    Clock::time_point started = Clock::now();
    ~Observe() { histogram.observe(Clock::now() - started); }
  } observe{metrics_.verification};
  auto decoded =
      decoder ? decoder->decode(paymentSignature) : shared(protocol::decode_payment_signature(paymentSignature));
  if (!decoded) co_return refusal(400, decoded.error());
  const protocol::SharedPayload payload = std::move(*decoded);
  if (auto matched = protocol::match_offer(payload->accepted, std::span(&offer.requirements, 1)); !matched)
    co_return refusal(matched.error());
  const auto client = client_payload(*payload);
  if (!client)
    co_return refusal(Error{ErrorCode::invalid_batch_settlement_evm_payload_type, "expected deposit, voucher or refund"});
  const ChannelConfig& config = *client->config;
  const SignedVoucher& voucher = *client->voucher;

  if (Status terms = check_offer_terms(offer.terms, config); !terms) co_return refusal(terms.error());
  if (client->type == PayloadType::deposit && offer.enforceMinDeposit && client->deposit < offer.minDeposit)
    co_return refusal(Error{ErrorCode::invalid_batch_settlement_evm_deposit_below_min_deposit,
                            "a deposit of " + to_decimal(client->deposit) + " is below the offer's minDeposit " +
                                to_decimal(offer.minDeposit)});

  // An EIP-1271 payer's signature only the chain can check. The facilitator is asked before the
  // channel's lease is taken: anyone can name a channel (its config is public on chain), and a
  // forged payload holding the lease through the round trip would keep the payer out with
  // channel_busy. The rules on the running total are applied under the lease, after it. (The
  // facilitator checks funding too: such a payer out of step beyond its balance, or below the
  // chain's claimed total, gets that refusal where an EOA payer gets the corrective state. A
  // payload on an unknown or changed channel is asked about twice, the second time under the lease.)
  const bool contract_payer = config.payerAuthorizer.is_zero();
  std::optional<FacilitatorVerdict> contract_verdict;
  std::optional<ChannelState> seen;  // the channel as it was when the facilitator was asked
  if (contract_payer) {
    if (Status id = check_channel_id(domain_, config, voucher.voucher.channelId); !id) co_return refusal(id.error());
    seen = table_.find(voucher.voucher.channelId);
    contract_verdict = co_await ask_facilitator(offer, *payload);
    if (!contract_verdict->response) co_return refusal(503, contract_verdict->response.error());
    if (auto invalid = invalid_verdict(*contract_verdict->response)) co_return std::move(*invalid);
  }

  auto lease = table_.acquire(voucher.voucher.channelId);
  if (!lease) co_return refusal(lease.error());
  const bool known = lease->state().has_value();
  // A refund is reckoned on the running total only the gate holds: the facilitator is not asked
  // about a channel it does not.
  if (!known && client->type == PayloadType::refund) co_return no_channel_to_refund();
  // The verdict's snapshot of the chain is older than a deposit or refund the gate made on the
  // channel meanwhile (or one whose outcome it does not know): the facilitator is asked again,
  // under the lease, the signature being the payer's.
  if (contract_verdict && !same_mirror(seen, lease->state())) contract_verdict.reset();
  // A known channel's id was derived from its stored config when it was first paid: an identical
  // config needs no second keccak (a different one is checked, and fails, as for a new channel).
  // An EIP-1271 payer's was checked before the facilitator was asked.
  if (!contract_payer && (!known || !(lease->state()->config == config))) {
    if (Status id = check_channel_id(domain_, config, voucher.voucher.channelId); !id) co_return refusal(id.error());
  }
  ChannelState base = known ? *lease->state() : ChannelState{voucher.voucher.channelId, config};
  if (!known)
    base.chargedCumulativeAmount = inferred_charged(client->type, voucher.voucher.maxClaimableAmount, offer.terms.amount);

  if (Status cumulative = check_cumulative(client->type, base.chargedCumulativeAmount, offer.terms.amount,
                                           voucher.voucher.maxClaimableAmount);
      !cumulative) {
    Refusal r = refusal(cumulative.error());
    if (known) {
      // The corrective state (the running total, the balance, our last voucher) goes only to the
      // payer: anyone can name a channel, its config being public on chain. An EOA payer proves it
      // with the voucher's signature here; an EIP-1271 payer's was checked through the chain above.
      if (!contract_payer) {
        if (auto signature = check_voucher_signature(domain_, base.config, base.channelId, voucher, lease->payer_key());
            !signature)
          co_return refusal(signature.error());
      }
      // The client checks the voucherState it is sent back by recovering its own signer.
      r.corrective = base;
      if (auto signature = stored_voucher_signature(domain_, base)) r.corrective->signature = *signature;
    }
    co_return r;
  }

  if (auto refused = co_await verify(offer, *payload, client->type, voucher, *lease, base, std::move(contract_verdict)))
    co_return std::move(*refused);
  co_return Authorization(std::make_unique<Authorization::Held>(
      Authorization::Held{std::move(*lease), std::move(base), payload, &offer, client->type}));
}

std::optional<Refusal> Gate::verify_locally(PayloadType type, const SignedVoucher& voucher, const ChannelState& base,
                                            std::optional<PublicKey>& payerKey) {
  auto signature = check_voucher_signature(domain_, base.config, base.channelId, voucher, payerKey);
  if (!signature) return refusal(signature.error());
  return funding_refusal(type, voucher, base);
}

http::Awaitable<Gate::FacilitatorVerdict> Gate::ask_facilitator(const Offer& offer,
                                                                const protocol::PaymentPayload& payload, bool briefly) {
  const std::uint64_t asked_at = now();
  const std::uint64_t silent_from = std::max<std::uint64_t>(asked_at, 1);  // 0 means "answering"
  if (facilitator_ == nullptr)
    co_return FacilitatorVerdict{fail(ErrorCode::facilitator_unavailable, "no facilitator configured"), asked_at};
  // A facilitator that went silent is probed by one request at a time: the first after a rest
  // claims the probe, which starts the next rest should it fail too; the others meanwhile are
  // served on their mirrors without asking.
  if (std::uint64_t silent = facilitatorSilentAt_.load(std::memory_order_relaxed); briefly && silent != 0) {
    if (asked_at < silent + kFacilitatorRestSeconds ||
        !facilitatorSilentAt_.compare_exchange_strong(silent, silent_from))
      co_return FacilitatorVerdict{fail(ErrorCode::facilitator_unavailable, "resting after it gave no answer"), asked_at};
  }
  protocol::FacilitatorRequest request{protocol::kX402Version, payload, offer.requirements};
  Result<protocol::VerifyResponse> response = fail(ErrorCode::facilitator_unavailable, "not asked");
  if (briefly) response = co_await facilitator_->verify_briefly(request);  // g++ 12: no co_await in ?:
  else response = co_await facilitator_->verify(request);
  if (response) facilitatorSilentAt_.store(0, std::memory_order_relaxed);
  else if (briefly && response.error().code == ErrorCode::facilitator_unavailable)  // no usable answer
    facilitatorSilentAt_.store(silent_from, std::memory_order_relaxed);
  FacilitatorVerdict verdict{std::move(response), asked_at};
  if (verdict.response) metrics_.facilitator_verifications.fetch_add(1, std::memory_order_relaxed);
  co_return verdict;
}

http::Awaitable<std::optional<Refusal>> Gate::verify(const Offer& offer, const protocol::PaymentPayload& payload,
                                                     PayloadType type, const SignedVoucher& voucher, Lease& lease,
                                                     ChannelState& base, std::optional<FacilitatorVerdict> asked) {
  const std::uint64_t t = now();
  const bool known = lease.state().has_value();
  const bool eoa = !base.config.payerAuthorizer.is_zero();
  const bool covered = known && mirror_covers_withdrawals(base, t, options_.withdrawalSafetyMarginSeconds);
  const bool fresh = covered && t - base.onchainSyncedAt <= options_.onchainStateTtlSeconds;
  std::optional<Refusal> refused;
  bool refreshed = false;  // base.onchain is the facilitator's view of the chain

  if (type == PayloadType::voucher && eoa && fresh) {
    const auto started = Clock::now();
    refused = verify_locally(type, voucher, base, lease.payer_key());
    metrics_.local_verification.observe(Clock::now() - started);
  } else {
    // An EOA payer's signature is checked here first: anyone can name a channel (its config is
    // public on chain), and a forged payload must not hold the channel's lease, keeping its payer
    // out with channel_busy, through a facilitator round trip.
    if (eoa) {
      if (auto signature = check_voucher_signature(domain_, base.config, base.channelId, voucher, lease.payer_key());
          !signature)
        co_return refusal(signature.error());
    }
    // Known EOA channels keep being served on their last mirror while the facilitator is away:
    // the signature needs no chain, and the balance only grows between refreshes unless the payer
    // withdraws, which a mirror that covers withdrawals rules out.
    const bool served_without = type == PayloadType::voucher && eoa && known && covered;
    if (!asked) asked = co_await ask_facilitator(offer, payload, served_without);
    const Result<protocol::VerifyResponse>& verdict = asked->response;
    if (!verdict) {
      if (type != PayloadType::voucher || !eoa || !known) co_return refusal(503, verdict.error());
      if (!covered)
        co_return refusal(503, Error{ErrorCode::facilitator_unavailable,
                                     "the channel's on-chain state is too old to serve on without the facilitator (" +
                                         verdict.error().detail + ")"});
      metrics_.stale_state_fallbacks.fetch_add(1, std::memory_order_relaxed);
      refused = funding_refusal(type, voucher, base);  // its signature was checked above
    } else {
      if (auto invalid = invalid_verdict(*verdict)) co_return std::move(*invalid);
      auto onchain = protocol::verify_snapshot(*verdict);
      if (!onchain) co_return refusal(503, Error{ErrorCode::facilitator_unavailable, onchain.error().to_string()});
      if (onchain->channelId != base.channelId)
        co_return refusal(503, Error{ErrorCode::facilitator_unavailable, "/verify described another channel"});
      // A channel the gate does not hold may have been deleted from its store (refunded in full, or
      // spent and claimed): a view behind what its row last had shows money refunded, or a claimed
      // total the running total would restart below. (Read once the payload is authenticated.)
      std::optional<persistence::ClosedChannel> closed;
      if (!known) {
        auto read = store_.closed_channel(base.channelId);
        if (!read) co_return refusal(503, Error{ErrorCode::store_failed, read.error().to_string()});
        closed = *read;
      }
      const U256 seen = closed ? closed->refundNonce : base.onchain.refundNonce;  // else the mirror's (0: none)
      base.onchain = protocol::onchain_state(*onchain);
      if (closed && base.onchain.totalClaimed < closed->totalClaimed)
        co_return refusal(503, chain_behind("claimed total", to_decimal(base.onchain.totalClaimed),
                                            to_decimal(closed->totalClaimed)).error);
      const auto discounted = judge_chain_view(lease.pending_refund(), seen, base.onchain);
      if (!discounted) co_return refusal(503, discounted.error());
      base.onchainSyncedAt = asked->asked_at;
      refreshed = true;
      if (!known && base.chargedCumulativeAmount < base.onchain.totalClaimed) {
        // Server state loss (or a channel deleted from the store, refunded in full or spent and
        // claimed): the running total starts from what was claimed on chain, not from the client's
        // guess.
        base.chargedCumulativeAmount = base.onchain.totalClaimed;
        if (Status cumulative = check_cumulative(type, base.chargedCumulativeAmount, offer.terms.amount,
                                                 voucher.voucher.maxClaimableAmount);
            !cumulative)
          co_return refusal(Error{cumulative.error().code, "the channel's claimed total on chain is " +
                                                               to_decimal(base.onchain.totalClaimed) + ": " +
                                                               cumulative.error().detail});
      }
      // The facilitator judged funding on the balance the refund may take back. (A refund payload
      // is judged in refund(), on the chain's balance: it may be the same refund asked again.)
      if (*discounted && type != PayloadType::refund)
        refused = funding_refusal(type, voucher, base, client_payload(payload)->deposit);
    }
  }
  if (!refused && type != PayloadType::refund) {
    if (Status margin = check_withdrawal_margin(base, t, options_.withdrawalSafetyMarginSeconds); !margin)
      refused = refusal(margin.error());
  }
  // A known channel refused on a new view of the chain keeps that view (its charges are unchanged):
  // a withdrawal it shows flags the channel for claim in the store the settle job reads, and its next
  // requests are judged on it without asking again. Were it lost, the flag would be too; a store
  // that cannot keep it is the answer (503, which the operator's log shows), not the refusal.
  if (refused && refreshed && known && base.onchain != lease.state()->onchain) {
    if (Status durable = co_await make_durable(lease, base); !durable) co_return refusal(503, durable.error());
    lease.stage(base);
  }
  co_return refused;
}

http::Awaitable<Decision<Gate::OnchainSettlement>> Gate::settle_onchain(const protocol::PaymentPayload& payload,
                                                                         const Offer& offer, const Bytes32& channelId) {
  if (facilitator_ == nullptr) co_return refusal(503, Error{ErrorCode::facilitator_unavailable, "no facilitator configured"});
  protocol::FacilitatorRequest request{protocol::kX402Version, payload, offer.requirements};
  auto settled = co_await facilitator_->settle(request);
  if (!settled) co_return refusal(503, settled.error());
  if (!settled->success) co_return facilitator_refusal(settled->errorReason, settled->errorMessage);
  auto extra = protocol::batch_response_extra(*settled);
  if (!extra || !extra->channelState || extra->channelState->channelId != channelId)
    co_return refusal(503, Error{ErrorCode::facilitator_unavailable, "/settle reply lacks the channel's state"});
  std::optional<Uint128> amount;
  if (settled->amount)
    if (auto parsed = parse_uint128(*settled->amount)) amount = *parsed;
  co_return OnchainSettlement{std::move(settled->transaction), protocol::onchain_state(*extra->channelState), amount};
}

http::Awaitable<Status> Gate::make_durable(Lease& lease, const ChannelState& next, persistence::ChannelStore::Write write) {
  const auto started = Clock::now();
  Status durable = co_await commit_durably(store_, next, write, lease.pending_refund());
  metrics_.store_commit.observe(Clock::now() - started);
  co_return durable;
}

http::Awaitable<Status> Gate::distrust_mirror(Lease& lease, const ChannelState& base, bool for_refund) {
  if (!lease.state() || (lease.state()->onchainSyncedAt == 0 && !for_refund)) co_return Status{};
  ChannelState stale = base;
  stale.onchainSyncedAt = 0;
  if (Status durable = co_await make_durable(lease, stale, persistence::ChannelStore::Write::mark_stale); !durable)
    co_return durable;
  lease.stage(stale);
  co_return Status{};
}

protocol::SettlementResponse Gate::response(const ChannelState& state, std::string transaction, std::string amount,
                                            std::optional<Uint128> chargedAmount) const {
  protocol::SettlementResponse r;
  r.success = true;
  r.payer = to_hex(state.config.payer.bytes);  // lower case, as the reference server reports it
  r.transaction = std::move(transaction);
  r.network = options_.network;
  r.amount = std::move(amount);
  r.extra = protocol::make_response_extra(
      protocol::BatchSettlementResponseExtra{chargedAmount, snapshot(state), std::nullopt});
  return r;
}

http::Awaitable<Decision<protocol::SettlementResponse>> Gate::settle(Authorization authorization, Uint128 actual) {
  Authorization::Held& auth = *authorization.held_;
  const auto client = client_payload(*auth.payload);
  ChannelState base = std::move(auth.base);
  std::string transaction;
  std::string deposited;
  if (auth.type == PayloadType::deposit) {
    if (Status distrusted = co_await distrust_mirror(auth.lease, base, false); !distrusted)
      co_return refusal(503, Error{ErrorCode::store_failed, distrusted.error().to_string()});
    auto settled = co_await settle_onchain(*auth.payload, *auth.offer, base.channelId);
    if (auto* refused = std::get_if<Refusal>(&settled)) co_return std::move(*refused);
    auto& onchain = std::get<OnchainSettlement>(settled);
    metrics_.deposits.fetch_add(1, std::memory_order_relaxed);
    const U256 seen = base.onchain.refundNonce;
    base.onchain = onchain.onchain;
    // Nothing is committed on a view behind (the mirror was marked stale above): the next request
    // reads the chain again, the deposit in it.
    if (auto judged = judge_chain_view(auth.lease.pending_refund(), seen, base.onchain); !judged)
      co_return executed_on_a_view_behind("the deposit landed", onchain.transaction, judged.error());
    base.onchainSyncedAt = now();
    transaction = std::move(onchain.transaction);
    deposited = to_decimal(client->deposit);
  }
  auto next = commit_charge(base, *client->voucher, auth.offer->terms.amount, actual, now());
  if (!next) co_return refusal(next.error());
  if (Status durable = co_await make_durable(auth.lease, *next); !durable) co_return refusal(503, durable.error());
  auth.lease.commit(*next);
  metrics_.paid_requests.fetch_add(1, std::memory_order_relaxed);
  co_return response(*next, std::move(transaction), std::move(deposited), actual);
}

http::Awaitable<Decision<protocol::SettlementResponse>> Gate::refund(Authorization authorization) {
  Authorization::Held& auth = *authorization.held_;
  const ChannelState& base = auth.base;
  if (!auth.lease.state()) co_return no_channel_to_refund();  // authorize() refused it already
  // The client's payload, completed below for the facilitator: a copy, the decoder may share it.
  protocol::PaymentPayload completed = *auth.payload;
  auto& payload = std::get<protocol::RefundPayload>(std::get<protocol::BatchSettlementPayload>(completed.payload));

  // A refund of unknown outcome is at this nonce (verify() forgot one the chain is past and
  // refused a view behind one) and discounted from `base`'s balance; what is left to
  // refund is reckoned on the chain's, so that the same refund can be asked again (the
  // facilitator's journal then answers with its transaction's fate) instead of nothing.
  const std::optional<PendingRefund> previous = auth.lease.pending_refund();
  const bool pending = previous && previous->nonce == base.onchain.refundNonce;
  const Uint128 balance = pending ? saturating_add(base.onchain.balance, previous->amount) : base.onchain.balance;
  const auto remainder = checked_sub(balance, base.chargedCumulativeAmount);
  if (!remainder || *remainder == 0)
    co_return refusal(Error{ErrorCode::invalid_batch_settlement_evm_refund_no_balance, "nothing left to refund"});
  // More than is left refunds what is left, as the reference facilitator clamps it (its client
  // treats an oversized request as one for everything).
  const Uint128 amount = std::min(payload.amount.value_or(*remainder), *remainder);
  if (amount == 0)
    co_return refusal(Error{ErrorCode::invalid_batch_settlement_evm_refund_amount_invalid, "a refund of 0"});

  // Completed by the server: the nonce it mirrors, and a claim of everything charged so that the
  // refund cannot take back what was earned.
  payload.amount = amount;
  payload.refundNonce = base.onchain.refundNonce;
  payload.claims = {protocol::VoucherClaimRow{base.config, payload.voucher.voucher.maxClaimableAmount,
                                              payload.voucher.signature, base.chargedCumulativeAmount}};
  // The receiverAuthorizer's signatures are the server's to give, never the client's (as the
  // reference server strips them): without the key, the facilitator signs as the authorizer.
  payload.refundAuthorizerSignature.reset();
  payload.claimAuthorizerSignature.reset();
  if (options_.receiverAuthorizerKey) {
    const PrivateKey& key = *options_.receiverAuthorizerKey;
    payload.refundAuthorizerSignature = key.sign(refund_digest(domain_, base.channelId, base.onchain.refundNonce, amount));
    payload.claimAuthorizerSignature = key.sign(protocol::claim_batch_digest(domain_, payload.claims));
  }
  // Remembered until its outcome is known, and recorded in the store before the facilitator is
  // asked: a gate restarted while the refund may still land must not count on its money. One
  // refund per nonce can land, so the larger of two asked at the same nonce is what may be taken.
  const PendingRefund recorded{base.onchain.refundNonce, pending ? std::max(previous->amount, amount) : amount};
  auth.lease.pending_refund() = recorded;
  if (Status distrusted = co_await distrust_mirror(auth.lease, base, true); !distrusted) {
    // A failed write is rolled back (or, its fsync failing, may have landed: the safe side).
    auth.lease.pending_refund() = previous;
    co_return refusal(503, Error{ErrorCode::store_failed, distrusted.error().to_string()});
  }
  auto settled = co_await settle_onchain(completed, *auth.offer, base.channelId);
  if (auto* refused = std::get_if<Refusal>(&settled)) {
    if (refund_never_lands(*refused)) {
      // This refund will not land. An earlier one at the nonce still may, unless it was this same
      // refund, asked again, whose transaction failed. Should recording that fail, the store keeps
      // the larger amount: a restarted gate then holds back more than it must until the nonce moves.
      const bool same_failed = refused->error.code == ErrorCode::invalid_batch_settlement_evm_refund_transaction_failed &&
                               pending && previous->amount == amount;
      auth.lease.pending_refund() = pending && !same_failed ? previous : std::nullopt;
      if (auth.lease.pending_refund() != recorded) (void)co_await distrust_mirror(auth.lease, base, true);
    }
    co_return std::move(*refused);
  }
  auto& onchain = std::get<OnchainSettlement>(settled);

  metrics_.refunds.fetch_add(1, std::memory_order_relaxed);
  ChannelState next = base;
  next.onchain = onchain.onchain;
  // Executed: a view of the chain showing it has a nonce past it, and it is forgotten. One that does
  // not yet (a node lagging) keeps holding it back; on one behind, nothing is written (the mirror
  // is stale, the refund recorded as pending: the next request reads the chain again).
  if (auto judged = judge_chain_view(auth.lease.pending_refund(), base.onchain.refundNonce, next.onchain); !judged)
    co_return executed_on_a_view_behind("the refund was executed", onchain.transaction, judged.error());
  next.onchainSyncedAt = now();
  // Written like any outcome (group commit, off the I/O thread). A channel refunded in full with
  // everything charged claimed has nothing left to serve or claim: its row is deleted and it leaves
  // the table. Should the facilitator report the refund without the claim, the row and its voucher
  // stay for the settle job; so does a refund the view does not show yet (its row holds it back
  // until the gate reads a view past it, or `paychan settle --rpc` does).
  const bool closed = !auth.lease.pending_refund() && next.onchain.balance <= next.chargedCumulativeAmount &&
                      next.onchain.totalClaimed >= next.chargedCumulativeAmount;
  using Write = persistence::ChannelStore::Write;
  if (Status durable = co_await make_durable(auth.lease, next, closed ? Write::erase : Write::keep); !durable)
    co_return refusal(503, durable.error());
  if (closed) auth.lease.erase();
  else auth.lease.commit(next);
  // What the refund took, as the facilitator read it from the chain (the contract takes less than
  // was asked if the balance moved meanwhile, nothing if nothing was left); what was asked if it
  // does not say, or says more.
  const Uint128 refunded = std::min(onchain.amount.value_or(amount), amount);
  co_return response(next, std::move(onchain.transaction), to_decimal(refunded), std::nullopt);
}

}  // namespace paychan::engine::gate
