#include "engine/facilitator/settlement_actions.hpp"

#include <algorithm>
#include <set>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "engine/chain/batch_settlement_events.hpp"
#include "engine/facilitator/verification.hpp"
#include "protocol/claim_batch.hpp"

namespace paychan::engine::facilitator {
namespace {

using protocol::BatchSettlementPayload;

std::vector<chain::VoucherClaim> voucher_claims(const std::vector<protocol::VoucherClaimRow>& rows) {
  std::vector<chain::VoucherClaim> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(chain::VoucherClaim{r.channel, r.maxClaimableAmount, r.signature, r.totalClaimed});
  return out;
}

Error refusal(ErrorCode code, std::string detail) { return Error{code, std::move(detail)}; }

// A sweep is refused without a transaction when the receiver's totals show nothing to move.
std::optional<Error> nothing_to_settle(const chain::ReceiverTotals& totals) {
  if (totals.totalClaimed > totals.totalSettled) return std::nullopt;
  return refusal(ErrorCode::invalid_batch_settlement_evm_nothing_to_settle,
                 "nothing claimed and unsettled for this receiver and token");
}

// Whether our receiverAuthorizer key may sign for a channel: the channel delegated to it, and the
// caller may act for the channel's receiver.
enum class Delegation { none, out_of_scope, granted };

Delegation delegation(const ChannelConfig& channel, Signers signers) {
  if (signers.authorizer == nullptr || channel.receiverAuthorizer != signers.authorizer->address())
    return Delegation::none;
  return signers.scope.covers(channel.receiver) ? Delegation::granted : Delegation::out_of_scope;
}

Error not_delegated(Delegation d, const ChannelConfig& channel, const char* missing) {
  if (d == Delegation::out_of_scope)
    return refusal(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch,
                   std::string("no ") + missing + ", and this client may not have the facilitator sign for receiver " +
                       to_checksum_hex(channel.receiver));
  return refusal(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch,
                 std::string("no ") + missing + ", and the channel's receiverAuthorizer is not this facilitator's");
}

// The claimWithSignature authorization: the payload's, or ours when every row may be signed for.
std::variant<Signature, Error> claim_authorization(const ChainView& chain,
                                                   const std::vector<protocol::VoucherClaimRow>& rows,
                                                   const std::optional<Signature>& given, Signers signers) {
  if (given) return *given;
  for (const auto& r : rows)
    if (const Delegation d = delegation(r.channel, signers); d != Delegation::granted)
      return not_delegated(d, r.channel, "claimAuthorizerSignature");
  return signers.authorizer->sign(protocol::claim_batch_digest(chain.domain(), rows));
}

std::variant<Action, Error> prepare_claim(const ChainView& chain, const protocol::ClaimPayload& p, Signers signers) {
  if (p.claims.empty()) return refusal(ErrorCode::invalid_batch_settlement_evm_claim_payload, "no claims");
  // A channel twice in one batch: the contract takes it, and its second row claims nothing for gas.
  std::set<Bytes32> channels;
  for (const auto& row : p.claims)
    if (const Bytes32 id = channel_id(chain.domain(), row.channel); !channels.insert(id).second)
      return refusal(ErrorCode::invalid_batch_settlement_evm_claim_payload, "channel " + to_hex(id) + " has more than one row");
  const auto claims = voucher_claims(p.claims);
  auto authorization = claim_authorization(chain, p.claims, p.claimAuthorizerSignature, signers);
  if (const auto* sig = std::get_if<Signature>(&authorization))
    return Action{chain.contract(), chain::claim_with_signature_call(claims, *sig)};
  // No authorization to relay: a plain claim works when we are the receiver side of every row. It
  // needs no client scope: a claim only moves what the payers signed to their receivers.
  const bool receiver_side = std::all_of(p.claims.begin(), p.claims.end(), [&](const auto& r) {
    return r.channel.receiver == signers.relayer || r.channel.receiverAuthorizer == signers.relayer;
  });
  if (!receiver_side) return std::get<Error>(authorization);
  return Action{chain.contract(), chain::claim_call(claims)};
}

http::Awaitable<std::variant<Action, Error>> prepare_settle(ChainView& chain, const protocol::SettlePayload& p) {
  auto totals = co_await chain.receiver_totals(p.receiver, p.token);
  if (!totals) co_return totals.error();
  if (auto nothing = nothing_to_settle(*totals)) co_return std::move(*nothing);
  co_return Action{chain.contract(), chain::settle_call(p.receiver, p.token)};
}

http::Awaitable<std::variant<Action, Error>> prepare_refund(ChainView& chain, const protocol::RefundPayload& p,
                                                            Signers signers) {
  const Bytes32 id = channel_id(chain.domain(), p.channelConfig);
  if (p.voucher.voucher.channelId != id)
    co_return refusal(ErrorCode::invalid_batch_settlement_evm_channel_id_mismatch,
                      "channelConfig does not hash to the voucher's channelId");
  if (!p.amount || !p.refundNonce)
    co_return refusal(ErrorCode::invalid_batch_settlement_evm_refund_payload,
                      "a refund to settle must be completed by the server with amount and refundNonce");
  if (*p.amount == 0) co_return refusal(ErrorCode::invalid_batch_settlement_evm_refund_amount_invalid, "amount is zero");
  auto state = co_await chain.snapshot(id);
  if (!state) co_return state.error();
  // Rule 11: signed for the nonce the contract expects now.
  if (*p.refundNonce != state->refundNonce)
    co_return refusal(ErrorCode::invalid_batch_settlement_evm_refund_payload,
                      "refundNonce " + p.refundNonce->to_decimal() + " is not the channel's " +
                          state->refundNonce.to_decimal());
  Uint128 claimed = state->totalClaimed;
  for (const auto& row : p.claims)
    if (channel_id(chain.domain(), row.channel) == id) claimed = std::max(claimed, row.totalClaimed);
  if (claimed >= state->balance)
    co_return refusal(ErrorCode::invalid_batch_settlement_evm_refund_no_balance,
                      "nothing unclaimed remains in the channel");

  std::optional<Signature> refund_sig = p.refundAuthorizerSignature;
  if (!refund_sig) {
    if (const Delegation d = delegation(p.channelConfig, signers); d != Delegation::granted)
      co_return not_delegated(d, p.channelConfig, "refundAuthorizerSignature");
    // The signature covers only (channel, nonce, amount): sent on its own, ahead of the claim it
    // came with, it would refund up to what is unclaimed on chain, charges included. So the key
    // signs no more than what stays unclaimed once this request's claims are in.
    if (const Uint128 unclaimed = state->balance - claimed; *p.amount > unclaimed)
      co_return refusal(ErrorCode::invalid_batch_settlement_evm_refund_amount_invalid,
                        "amount " + to_decimal(*p.amount) + " is more than the " + to_decimal(unclaimed) +
                            " left unclaimed once the claims are in");
    refund_sig = signers.authorizer->sign(refund_digest(chain.domain(), id, *p.refundNonce, *p.amount));
  }
  Bytes refund = chain::refund_with_signature_call(p.channelConfig, *p.amount, *p.refundNonce, *refund_sig);
  if (p.claims.empty()) co_return Action{chain.contract(), std::move(refund)};

  // The claim first, in the same transaction: a refund never takes back what was earned.
  auto claim_sig = claim_authorization(chain, p.claims, p.claimAuthorizerSignature, signers);
  if (auto* e = std::get_if<Error>(&claim_sig)) co_return std::move(*e);
  const auto claims = voucher_claims(p.claims);
  const std::vector<Bytes> calls{chain::claim_with_signature_call(claims, std::get<Signature>(claim_sig)),
                                 std::move(refund)};
  co_return Action{chain.contract(), chain::multicall_call(calls)};
}

protocol::SettlementResponse answer(const ChainView& chain, const chain::Receipt& receipt) {
  protocol::SettlementResponse r;
  r.success = receipt.success;
  r.transaction = to_hex(receipt.transactionHash);
  r.network = chain.network();
  return r;
}

protocol::Json snapshot_extra(const protocol::ChannelSnapshot& s) {
  return protocol::make_response_extra(protocol::BatchSettlementResponseExtra{std::nullopt, s, std::nullopt});
}

}  // namespace

std::optional<Error> scope_refusal(const BatchSettlementPayload& payload, Signers signers) {
  const ChannelConfig* channel = nullptr;
  if (const auto* d = std::get_if<protocol::DepositPayload>(&payload)) channel = &d->channelConfig;
  if (const auto* v = std::get_if<protocol::VoucherPayload>(&payload)) channel = &v->channelConfig;
  if (const auto* r = std::get_if<protocol::RefundPayload>(&payload)) channel = &r->channelConfig;
  if (channel == nullptr || delegation(*channel, signers) != Delegation::out_of_scope) return std::nullopt;
  return refusal(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch,
                 "the channel's receiverAuthorizer is this facilitator's, and this client may not have it sign "
                 "claims or refunds for receiver " + to_checksum_hex(channel->receiver));
}

ActionCodes action_codes(const BatchSettlementPayload& payload) noexcept {
  using E = ErrorCode;
  if (std::holds_alternative<protocol::DepositPayload>(payload))
    return {E::invalid_batch_settlement_evm_deposit_simulation_failed, E::invalid_batch_settlement_evm_deposit_transaction_failed};
  if (std::holds_alternative<protocol::ClaimPayload>(payload))
    return {E::invalid_batch_settlement_evm_claim_simulation_failed, E::invalid_batch_settlement_evm_claim_transaction_failed};
  if (std::holds_alternative<protocol::SettlePayload>(payload))
    return {E::invalid_batch_settlement_evm_settle_simulation_failed, E::invalid_batch_settlement_evm_settle_transaction_failed};
  return {E::invalid_batch_settlement_evm_refund_simulation_failed, E::invalid_batch_settlement_evm_refund_transaction_failed};
}

std::optional<Error> deposit_of_another_channel(const BatchSettlementPayload& journaled,
                                                const BatchSettlementPayload& payload) {
  const auto* ours = std::get_if<protocol::DepositPayload>(&payload);
  const auto* theirs = std::get_if<protocol::DepositPayload>(&journaled);
  if (ours == nullptr || theirs == nullptr || theirs->voucher.voucher.channelId == ours->voucher.voucher.channelId)
    return std::nullopt;
  return Error{ErrorCode::invalid_batch_settlement_evm_deposit_simulation_failed,
               "the payer's authorization (its Permit2 nonce) is spent by a deposit to channel " +
                   to_hex(theirs->voucher.voucher.channelId)};
}

http::Awaitable<Result<std::string>> action_key(ChainView& chain, const BatchSettlementPayload& payload) {
  const std::string prefix = chain.network() + "/";
  if (const auto* d = std::get_if<protocol::DepositPayload>(&payload)) {
    const Bytes32& id = d->voucher.voucher.channelId;
    // What the payer's authorization can move once: its ERC-3009 nonce (which hashes the
    // channel in), or its Permit2 nonce, which is the owner's across all its channels: a second
    // channel's deposit under the same nonce meets the first's entry (deposit_of_another_channel).
    if (const auto& permit = d->deposit.permit2Authorization)
      co_return prefix + "deposit/permit2/" + to_hex(permit->from.bytes) + "/" + to_hex(permit->nonce.to_be());
    if (!d->deposit.erc3009Authorization)
      co_return fail(ErrorCode::invalid_batch_settlement_evm_erc3009_authorization_required, "no erc3009Authorization");
    co_return prefix + "deposit/" + to_hex(id) + "/" + to_hex(deposit_nonce(id, d->deposit.erc3009Authorization->salt));
  }
  if (const auto* c = std::get_if<protocol::ClaimPayload>(&payload))
    // The rows' ClaimBatch digest: the same rows are the same claim whoever signed its authorization.
    co_return prefix + "claim/" + to_hex(protocol::claim_batch_digest(chain.domain(), c->claims));
  if (const auto* s = std::get_if<protocol::SettlePayload>(&payload)) {
    auto totals = co_await chain.receiver_totals(s->receiver, s->token);
    if (!totals) co_return totals.failure();
    // Both totals: a retry while the sweep is pending meets it, but once it is mined the next
    // sweep is another action, answered nothing_to_settle when nothing new was claimed (the
    // claimed total alone made every later sweep answer with the last one's transfer, which a
    // settle job then reported as swept again). Refused on this read: prepare_settle's own read
    // could come from a node behind this one (a load-balanced endpoint) and send a sweep of nothing.
    if (auto nothing = nothing_to_settle(*totals)) co_return Failure{std::move(*nothing)};
    co_return prefix + "settle/" + to_hex(s->receiver.bytes) + "/" + to_hex(s->token.bytes) + "/" +
        to_decimal(totals->totalClaimed) + "/" + to_decimal(totals->totalSettled);
  }
  if (const auto* r = std::get_if<protocol::RefundPayload>(&payload)) {
    if (!r->refundNonce)
      co_return fail(ErrorCode::invalid_batch_settlement_evm_refund_payload, "refundNonce is missing");
    co_return prefix + "refund/" + to_hex(channel_id(chain.domain(), r->channelConfig)) + "/" + r->refundNonce->to_decimal();
  }
  co_return fail(ErrorCode::invalid_batch_settlement_evm_unknown_settle_action, "a voucher is not settled on chain");
}

http::Awaitable<std::variant<Action, Error>> prepare_action(ChainView& chain, const protocol::FacilitatorRequest& request,
                                                            Signers signers) {
  const BatchSettlementPayload& payload = *protocol::batch_payload(request.paymentPayload);
  if (const auto* d = std::get_if<protocol::DepositPayload>(&payload)) {
    Verdict verdict = co_await verify_deposit(chain, request.paymentRequirements, *d, signers.relayer);
    if (verdict.refusal) co_return std::move(*verdict.refusal);
    co_return std::move(verdict.depositTransaction);
  }
  if (const auto* c = std::get_if<protocol::ClaimPayload>(&payload)) co_return prepare_claim(chain, *c, signers);
  if (const auto* s = std::get_if<protocol::SettlePayload>(&payload)) co_return co_await prepare_settle(chain, *s);
  if (const auto* r = std::get_if<protocol::RefundPayload>(&payload)) co_return co_await prepare_refund(chain, *r, signers);
  co_return refusal(ErrorCode::invalid_batch_settlement_evm_unknown_settle_action, "a voucher is not settled on chain");
}

http::Awaitable<Result<protocol::SettlementResponse>> describe_outcome(ChainView& chain,
                                                                       const protocol::FacilitatorRequest& request,
                                                                       const chain::Receipt& receipt) {
  const BatchSettlementPayload& payload = *protocol::batch_payload(request.paymentPayload);
  protocol::SettlementResponse r = answer(chain, receipt);
  if (const auto* d = std::get_if<protocol::DepositPayload>(&payload)) r.payer = to_checksum_hex(d->channelConfig.payer);
  if (const auto* f = std::get_if<protocol::RefundPayload>(&payload)) r.payer = to_checksum_hex(f->channelConfig.payer);
  if (!receipt.success) {
    r.errorReason = std::string(to_string(action_codes(payload).transaction_failed));
    r.errorMessage = "the transaction was mined and reverted";
    co_return r;
  }

  if (const auto* d = std::get_if<protocol::DepositPayload>(&payload)) {
    auto state = co_await chain.snapshot(d->voucher.voucher.channelId);
    if (!state) co_return state.failure();
    r.amount = to_decimal(d->deposit.amount);
    r.extra = snapshot_extra(*state);
  } else if (const auto* c = std::get_if<protocol::ClaimPayload>(&payload)) {
    // No amount, as the reference's answer has none: a claim moves no tokens, it only updates accounting.
    std::set<Bytes32> ids;
    for (const auto& row : c->claims) ids.insert(channel_id(chain.domain(), row.channel));
    if (ids.size() == 1) {  // one channel: its snapshot; a batch has no single channel to report
      auto state = co_await chain.snapshot(*ids.begin());
      if (!state) co_return state.failure();
      r.extra = snapshot_extra(*state);
    }
  } else if (const auto* s = std::get_if<protocol::SettlePayload>(&payload)) {
    auto settled = chain::settled_amount(receipt.logs, chain.contract(), s->receiver, s->token);
    if (!settled) co_return settled.failure();
    r.amount = to_decimal(settled->value_or(0));
  } else if (const auto* f = std::get_if<protocol::RefundPayload>(&payload)) {
    const Bytes32 id = channel_id(chain.domain(), f->channelConfig);
    auto refunded = chain::refunded_amount(receipt.logs, chain.contract(), id);
    if (!refunded) co_return refunded.failure();
    auto state = co_await chain.snapshot(id);
    if (!state) co_return state.failure();
    r.amount = to_decimal(refunded->value_or(0));
    r.extra = snapshot_extra(*state);
  }
  co_return r;
}

}  // namespace paychan::engine::facilitator
