#include "engine/facilitator/verification.hpp"

#include "channel/eip712.hpp"
#include "engine/chain/abi.hpp"
#include "engine/chain/erc6492.hpp"

namespace paychan::engine::facilitator {
namespace {

// An ERC-3009 authorization must stay valid long enough for the deposit to be mined: the
// reference facilitator asks for the same few seconds.
constexpr std::uint64_t kValidBeforeMarginSeconds = 6;

Verdict refused(Verdict v, Error e) {
  v.refusal = std::move(e);
  return v;
}

// Rules 1–5: the config hashes to the voucher's channel and matches the offer.
Status check_config(const ChainView& chain, const protocol::PaymentRequirements& requirements,
                    const ChannelConfig& config, const Bytes32& channelId) {
  auto terms = offer_terms(requirements);
  if (!terms) return terms.failure();
  PAYCHAN_TRY(check_channel_id(chain.domain(), config, channelId));
  return check_offer_terms(*terms, config);
}

// Rule 6: ECDSA by the payerAuthorizer, or — payerAuthorizer zero — SignatureChecker on the payer.
http::Awaitable<Status> check_voucher_signer(ChainView& chain, const ChannelConfig& config, const SignedVoucher& voucher) {
  auto check = check_voucher_signature(chain.domain(), config, voucher.voucher.channelId, voucher);
  if (!check) co_return check.failure();
  if (*check == SignatureCheck::verified) co_return Status{};
  const Bytes32 digest = voucher_digest(chain.domain(), voucher.voucher);
  auto valid = co_await chain.signature_valid(config.payer, digest, voucher.signature);
  if (!valid) co_return valid.failure();
  if (!*valid)
    co_return fail(ErrorCode::invalid_batch_settlement_evm_voucher_signature,
                   "voucher is neither the payer's ECDSA signature nor accepted by its EIP-1271 wallet");
  co_return Status{};
}

// The payer's ERC-3009 signature as the token's SignatureChecker takes it, and, for a wallet not
// deployed yet (ERC-6492), the factory call that must come first.
struct DepositSignature {
  WalletSignature signature;
  std::optional<chain::MulticallCall> deployment;
};

http::Awaitable<Result<DepositSignature>> deposit_signature(ChainView& chain, const Address& payer,
                                                            const WalletSignature& signature) {
  auto wrapped = chain::unwrap_erc6492(signature);
  if (!wrapped) co_return fail(ErrorCode::invalid_batch_settlement_evm_receive_authorization_signature, wrapped.error().detail);
  if (!*wrapped) co_return DepositSignature{signature, std::nullopt};
  chain::Erc6492Signature& parts = **wrapped;
  // No factory is no deployment to make (as the reference reads it): the inner signature stands.
  if (parts.factory.is_zero()) co_return DepositSignature{std::move(parts.signature), std::nullopt};
  auto code = co_await chain.rpc().code(payer);
  if (!code) co_return code.failure();
  if (!code->empty()) co_return DepositSignature{std::move(parts.signature), std::nullopt};
  if (!chain.factory_allowed(parts.factory))
    co_return fail(ErrorCode::invalid_batch_settlement_evm_eip6492_factory_not_allowed,
                   "the payer's wallet is not deployed yet, and its factory " + to_checksum_hex(parts.factory) +
                       " is not in this facilitator's eip6492AllowedFactories for " + chain.network());
  co_return DepositSignature{std::move(parts.signature),
                             chain::MulticallCall{parts.factory, std::move(parts.factoryCalldata)}};
}

// The deposit's simulation from `relayer`: the call itself, or, for a wallet not deployed yet,
// its factory call and then the deposit within one Multicall3 tryAggregate. Returns the
// transaction that makes it: {to, data}.
http::Awaitable<Result<chain::MulticallCall>> simulate_deposit(ChainView& chain, const DepositSignature& signature,
                                                               Bytes deposit, const Address& relayer) {
  using E = ErrorCode;
  if (!signature.deployment) {
    auto simulated = co_await chain.rpc().call(chain.contract(), deposit, relayer);
    if (!simulated) {
      if (simulated.error().code != E::invalid_batch_settlement_evm_transaction_reverted) co_return simulated.failure();
      co_return fail(E::invalid_batch_settlement_evm_deposit_simulation_failed, simulated.error().detail);
    }
    co_return chain::MulticallCall{chain.contract(), std::move(deposit)};
  }
  const chain::MulticallCall calls[] = {*signature.deployment, {chain.contract(), std::move(deposit)}};
  auto reply = co_await chain.rpc().call(chain.multicall3(), chain::try_aggregate_call(false, calls), relayer);
  if (!reply) co_return reply.failure();
  if (reply->empty())
    co_return fail(E::invalid_batch_settlement_evm_deposit_simulation_failed,
                   "no Multicall3 at " + to_checksum_hex(chain.multicall3()) + " on " + chain.network() +
                       " to deploy the payer's wallet with its deposit (configure \"multicall3\")");
  auto outcomes = chain::decode_try_aggregate(*reply, 2);
  if (!outcomes) co_return outcomes.failure();
  if (!(*outcomes)[0].success)
    co_return fail(E::invalid_batch_settlement_evm_smart_wallet_deployment_failed,
                   "the factory's call reverted: " + chain::describe_revert((*outcomes)[0].returnData));
  if (!(*outcomes)[1].success)
    co_return fail(E::invalid_batch_settlement_evm_deposit_simulation_failed,
                   "after the wallet's deployment, the deposit reverted: " +
                       chain::describe_revert((*outcomes)[1].returnData));
  // Sent, one failed call reverts both: never a wallet deployed at our gas without its deposit.
  co_return chain::MulticallCall{chain.multicall3(), chain::try_aggregate_call(true, calls)};
}

}  // namespace

Result<OfferTerms> offer_terms(const protocol::PaymentRequirements& requirements) {
  auto extra = protocol::batch_settlement_extra(requirements);
  if (!extra) return extra.failure();
  auto asset = parse_address(requirements.asset);
  if (!asset) return fail(ErrorCode::invalid_payment_requirements, "asset: " + asset.error().detail);
  auto payTo = parse_address(requirements.payTo);
  if (!payTo) return fail(ErrorCode::invalid_payment_requirements, "payTo: " + payTo.error().detail);
  auto amount = parse_uint128(requirements.amount);
  if (!amount) return fail(ErrorCode::invalid_payment_requirements, "amount: " + amount.error().detail);
  if (extra->receiverAuthorizer.is_zero())
    return fail(ErrorCode::invalid_batch_settlement_evm_receiver_authorizer_mismatch,
                "extra.receiverAuthorizer must not be the zero address");
  return OfferTerms{*asset, *payTo, extra->receiverAuthorizer, extra->withdrawDelay, *amount};
}

http::Awaitable<Verdict> verify_voucher(ChainView& chain, const protocol::PaymentRequirements& requirements,
                                        const ChannelConfig& config, const SignedVoucher& voucher, PayloadType type) {
  Verdict v;
  v.payer = config.payer;
  if (Status s = check_config(chain, requirements, config, voucher.voucher.channelId); !s)
    co_return refused(std::move(v), s.error());
  if (Status s = co_await check_voucher_signer(chain, config, voucher); !s) co_return refused(std::move(v), s.error());
  auto snapshot = co_await chain.snapshot(voucher.voucher.channelId);
  if (!snapshot) co_return refused(std::move(v), snapshot.error());
  v.snapshot = *snapshot;
  if (Status s = check_funding(type, protocol::onchain_state(*snapshot), 0, voucher.voucher.maxClaimableAmount); !s)
    co_return refused(std::move(v), s.error());
  co_return v;
}

http::Awaitable<Verdict> verify_deposit(ChainView& chain, const protocol::PaymentRequirements& requirements,
                                        const protocol::DepositPayload& d, const Address& relayer) {
  Verdict v;
  const ChannelConfig& config = d.channelConfig;
  const Bytes32& channelId = d.voucher.voucher.channelId;
  v.payer = config.payer;
  if (!d.deposit.erc3009Authorization)
    co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_erc3009_authorization_required,
                                          "this facilitator executes ERC-3009 deposits only (no Permit2)"});
  const auto& auth = *d.deposit.erc3009Authorization;
  auto extra = protocol::batch_settlement_extra(requirements);
  if (!extra) co_return refused(std::move(v), extra.error());
  if (extra->assetTransferMethod && *extra->assetTransferMethod != "eip3009")
    co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_erc3009_authorization_required,
                                          "assetTransferMethod " + *extra->assetTransferMethod + " is not supported"});
  if (d.deposit.amount == 0)
    co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_deposit_payload, "deposit amount is zero"});
  if (Status s = check_config(chain, requirements, config, channelId); !s) co_return refused(std::move(v), s.error());

  auto now = co_await chain.now();
  if (!now) co_return refused(std::move(v), now.error());
  if (auth.validBefore < U256{Uint128{*now} + kValidBeforeMarginSeconds})
    co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_payload_authorization_valid_before,
                                          "validBefore " + auth.validBefore.to_decimal() + " has passed (chain time " +
                                              std::to_string(*now) + ")"});
  if (auth.validAfter > U256{Uint128{*now}})
    co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_payload_authorization_valid_after,
                                          "validAfter " + auth.validAfter.to_decimal() + " is after chain time " +
                                              std::to_string(*now)});

  const Bytes32 token_domain = domain_separator(Eip712Domain{extra->name, extra->version, chain.chain_id(), config.token});
  const Erc3009Authorization message{config.payer, chain.erc3009_collector(), U256{d.deposit.amount},
                                     auth.validAfter, auth.validBefore, deposit_nonce(channelId, auth.salt)};
  const Bytes32 digest = receive_with_authorization_digest(token_domain, message);
  auto signature = co_await deposit_signature(chain, config.payer, auth.signature);
  if (!signature) co_return refused(std::move(v), signature.error());
  // A wallet not deployed yet cannot be asked: the simulation below has the token ask it, after
  // its factory call.
  if (!signature->deployment) {
    auto authorized = co_await chain.signature_valid(config.payer, digest, signature->signature);
    if (!authorized) co_return refused(std::move(v), authorized.error());
    if (!*authorized)
      co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_receive_authorization_signature,
                                            "not the payer's ReceiveWithAuthorization to the collector under the "
                                            "token's domain (" + extra->name + ", " + extra->version + ")"});
  }
  if (Status s = co_await check_voucher_signer(chain, config, d.voucher); !s) co_return refused(std::move(v), s.error());

  auto snapshot = co_await chain.snapshot(channelId);
  if (!snapshot) co_return refused(std::move(v), snapshot.error());
  v.snapshot = *snapshot;
  auto balance = co_await chain.token_balance(config.token, config.payer);
  if (!balance) co_return refused(std::move(v), balance.error());
  if (*balance < U256{d.deposit.amount})
    co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_insufficient_balance,
                                          "payer holds " + balance->to_decimal() + " of the token"});
  if (Status s = check_funding(PayloadType::deposit, protocol::onchain_state(*snapshot), d.deposit.amount, d.voucher.voucher.maxClaimableAmount); !s)
    co_return refused(std::move(v), s.error());

  Bytes deposit = chain::deposit_call(
      config, d.deposit.amount, chain.erc3009_collector(),
      chain::erc3009_collector_data(auth.validAfter, auth.validBefore, auth.salt, signature->signature.bytes()));
  auto transaction = co_await simulate_deposit(chain, *signature, std::move(deposit), relayer);
  if (!transaction) co_return refused(std::move(v), transaction.error());
  v.depositTransaction = std::move(*transaction);
  co_return v;
}

}  // namespace paychan::engine::facilitator
