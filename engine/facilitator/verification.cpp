#include "engine/facilitator/verification.hpp"

#include <functional>
#include <string>

#include "channel/eip712.hpp"
#include "engine/chain/abi.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/chain/erc6492.hpp"
#include "engine/chain/multicall3.hpp"

namespace paychan::engine::facilitator {
namespace {

// An ERC-3009 authorization (or a Permit2 permit's deadline) must stay valid long enough for the
// deposit to be mined: the reference facilitator asks for the same few seconds.
constexpr std::uint64_t kValidBeforeMarginSeconds = 6;
// The most gas a wallet's deployment with its deposit may take, as estimated: the factory's
// calldata is the payer's to choose, its gas the facilitator's to pay. Wallets deploy for
// 0.2–0.4 M gas; a deposit takes about 0.1 M, more when the token's check of a passkey signature
// runs without a P-256 precompile.
constexpr std::uint64_t kMaxDeploymentGas = 1'000'000;
// The simulation's gas: the deployment and the deposit, and the new wallet's check of the signature.
constexpr std::uint64_t kSimulationGas = 2 * kMaxDeploymentGas;

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

// The payer's deposit signature as the token's (or Permit2's) signature check takes it, and, for a
// wallet not deployed yet (ERC-6492), the factory call that must come first.
struct DepositSignature {
  WalletSignature signature;
  std::optional<Action> deployment;
};

// What a deposit's authorization method (ERC-3009, Permit2) makes of it: the digest the payer
// signed, what that signature is called in refusals and the code that refuses it, and the collector
// that pulls the deposit with the data it takes (built once the signature is unwrapped).
struct DepositAuthorization {
  Bytes32 digest{};
  WalletSignature signature;  // as it came, possibly wrapped (ERC-6492)
  ErrorCode refusal;
  std::string what;
  ChainView::EcdsaRule rule;  // how the pulling contract takes an account's ECDSA signature
  Address collector;
  std::function<Bytes(ByteView signature)> collectorData;
};

http::Awaitable<Result<DepositSignature>> deposit_signature(ChainView& chain, const Address& payer,
                                                            const DepositAuthorization& authorization) {
  const WalletSignature& signature = authorization.signature;
  auto wrapped = chain::unwrap_erc6492(signature);
  if (!wrapped) co_return fail(authorization.refusal, wrapped.error().detail);
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
  co_return DepositSignature{std::move(parts.signature), Action{parts.factory, std::move(parts.factoryCalldata)}};
}

// A simulation's error as /verify answers it: a revert is the deposit's (deposit_simulation_failed,
// after `context`); any other error is the chain read's, as it came.
Failure simulation_failure(const Error& e, const std::string& context = "") {
  if (e.code != ErrorCode::invalid_batch_settlement_evm_transaction_reverted) return Failure{e};
  return fail(ErrorCode::invalid_batch_settlement_evm_deposit_simulation_failed, context + e.detail);
}

// A wallet not deployed yet: its factory call, then the deposit, in one Multicall3 aggregate3. The
// simulation also asks the new wallet about the payer's signature between the two, as the token
// will: a factory call that deploys anything but the payer's wallet is refused, so the facilitator
// pays for no deployment a deposit does not need.
http::Awaitable<Result<Action>> simulate_deployment_and_deposit(ChainView& chain, const Address& payer,
                                                                const DepositAuthorization& authorization,
                                                                const DepositSignature& signature, Bytes deposit,
                                                                const Address& relayer) {
  const Bytes32& digest = authorization.digest;
  using E = ErrorCode;
  const Action& deployment = *signature.deployment;
  const std::string multicall = "Multicall3 at " + to_checksum_hex(chain.multicall3()) + " on " + chain.network();
  const chain::Call3 simulated[] = {
      {deployment.to, true, deployment.data},
      {payer, true, chain::erc1271_is_valid_signature_call(digest, signature.signature.bytes())},
      {chain.contract(), true, deposit}};
  // Bounded, so a /verify never has the node run a payer's calldata for tens of millions of gas:
  // whatever fits the limit below runs in this.
  auto reply = co_await chain.rpc().call(chain.multicall3(), chain::aggregate3_call(simulated), relayer,
                                         kSimulationGas);
  if (!reply) co_return simulation_failure(reply.error(), multicall + " reverted: ");
  if (reply->empty())
    co_return fail(E::invalid_batch_settlement_evm_deposit_simulation_failed,
                   "no " + multicall + " to deploy the payer's wallet with its deposit (configure \"multicall3\")");
  auto outcomes = chain::decode_aggregate3(*reply, 3);
  if (!outcomes) co_return outcomes.failure();
  const chain::Call3Outcome& deployed = (*outcomes)[0];
  const chain::Call3Outcome& authorized = (*outcomes)[1];
  const chain::Call3Outcome& deposited = (*outcomes)[2];
  if (!deployed.success)
    co_return fail(E::invalid_batch_settlement_evm_smart_wallet_deployment_failed,
                   "the factory's call reverted: " + chain::describe_revert(deployed.returnData));
  if (!authorized.success || !chain::is_erc1271_magic(authorized.returnData))
    co_return fail(authorization.refusal,
                   "after the factory's call, the payer " + to_checksum_hex(payer) + " does not accept its " +
                       authorization.what + " (EIP-1271): the factory does not deploy the payer's wallet, or the "
                       "signature is not the wallet's");
  if (!deposited.success)
    co_return fail(E::invalid_batch_settlement_evm_deposit_simulation_failed,
                   "after the wallet's deployment, the deposit reverted: " + chain::describe_revert(deposited.returnData));
  // Sent, the factory call may fail (some factories revert for a wallet that exists, deployed
  // meanwhile by another transaction); the deposit may not, and it needs the wallet.
  const chain::Call3 sent[] = {{deployment.to, true, deployment.data}, {chain.contract(), false, std::move(deposit)}};
  Action transaction{chain.multicall3(), chain::aggregate3_call(sent)};
  auto gas = co_await chain.rpc().estimate_gas(relayer, transaction.to, transaction.data);
  if (!gas) co_return simulation_failure(gas.error(), multicall + " reverted: ");
  if (*gas > kMaxDeploymentGas)
    co_return fail(E::invalid_batch_settlement_evm_smart_wallet_deployment_failed,
                   "the wallet's deployment with its deposit takes " + std::to_string(*gas) +
                       " gas, more than this facilitator pays for (" + std::to_string(kMaxDeploymentGas) + ")");
  transaction.gas = *gas;  // sent with it: a second estimate could pass the limit
  co_return transaction;
}

// The deposit's simulation from `relayer`, after its wallet's deployment if it has one; the
// transaction that makes it.
http::Awaitable<Result<Action>> simulate_deposit(ChainView& chain, const Address& payer,
                                                 const DepositAuthorization& authorization,
                                                 const DepositSignature& signature, Bytes deposit,
                                                 const Address& relayer) {
  if (signature.deployment)
    co_return co_await simulate_deployment_and_deposit(chain, payer, authorization, signature, std::move(deposit),
                                                       relayer);
  auto simulated = co_await chain.rpc().call(chain.contract(), deposit, relayer);
  if (!simulated) co_return simulation_failure(simulated.error());
  co_return Action{chain.contract(), std::move(deposit)};
}

// ERC-3009: ReceiveWithAuthorization under the token's domain (extra.name/version) to the
// collector, nonce keccak256(abi.encode(channelId, salt)), validAfter ≤ chain time < validBefore
// (with a few seconds' margin for inclusion).
Result<DepositAuthorization> erc3009_authorization(const ChainView& chain, const protocol::BatchSettlementExtra& extra,
                                                   const protocol::DepositPayload& d, std::uint64_t now) {
  if (!d.deposit.erc3009Authorization)
    return fail(ErrorCode::invalid_batch_settlement_evm_erc3009_authorization_required,
                "the offer's deposits go by ERC-3009 (assetTransferMethod eip3009)");
  const auto& auth = *d.deposit.erc3009Authorization;
  if (auth.validBefore < U256{Uint128{now} + kValidBeforeMarginSeconds})
    return fail(ErrorCode::invalid_batch_settlement_evm_payload_authorization_valid_before,
                "validBefore " + auth.validBefore.to_decimal() + " has passed (chain time " + std::to_string(now) + ")");
  if (auth.validAfter > U256{Uint128{now}})
    return fail(ErrorCode::invalid_batch_settlement_evm_payload_authorization_valid_after,
                "validAfter " + auth.validAfter.to_decimal() + " is after chain time " + std::to_string(now));
  const ChannelConfig& config = d.channelConfig;
  const Bytes32 token_domain = domain_separator(Eip712Domain{extra.name, extra.version, chain.chain_id(), config.token});
  const Erc3009Authorization message{config.payer,    chain.erc3009_collector(), U256{d.deposit.amount},
                                     auth.validAfter, auth.validBefore,          deposit_nonce(d.voucher.voucher.channelId, auth.salt)};
  return DepositAuthorization{
      receive_with_authorization_digest(token_domain, message),
      auth.signature,
      ErrorCode::invalid_batch_settlement_evm_receive_authorization_signature,
      "ReceiveWithAuthorization to the collector under the token's domain (" + extra.name + ", " + extra.version + ")",
      ChainView::EcdsaRule::low_s,
      chain.erc3009_collector(),
      [validAfter = auth.validAfter, validBefore = auth.validBefore, salt = auth.salt](ByteView signature) {
        return chain::erc3009_collector_data(validAfter, validBefore, salt, signature);
      }};
}

// Permit2: PermitWitnessTransferFrom under Permit2's domain from the payer, of exactly the
// deposit in the offer's asset, to the Permit2 collector, witnessing the channel, its deadline
// a few seconds past chain time (the reference's checks, in its order).
// (The offer's asset is the config's token: check_config saw to it.)
Result<DepositAuthorization> permit2_authorization(const ChainView& chain, const protocol::DepositPayload& d,
                                                   std::uint64_t now) {
  using E = ErrorCode;
  if (!d.deposit.permit2Authorization)
    return fail(E::invalid_batch_settlement_evm_payload_type,
                "the offer's deposits go by Permit2 (assetTransferMethod permit2): a permit2Authorization is needed");
  const auto& p = *d.deposit.permit2Authorization;
  if (p.from != d.channelConfig.payer)
    return fail(E::invalid_batch_settlement_evm_permit2_invalid_signature, "the permit's owner is not the payer");
  if (p.spender != chain.permit2_collector())
    return fail(E::invalid_batch_settlement_evm_permit2_invalid_spender,
                "the permit's spender must be the Permit2 collector " + to_checksum_hex(chain.permit2_collector()));
  if (p.token != d.channelConfig.token) return fail(E::invalid_batch_settlement_evm_token_mismatch, "the permit is for another token");
  if (p.amount != U256{d.deposit.amount})
    return fail(E::invalid_batch_settlement_evm_permit2_amount_mismatch,
                "the permit is for " + p.amount.to_decimal() + ", the deposit " + to_decimal(d.deposit.amount));
  if (p.channelId != d.voucher.voucher.channelId)
    return fail(E::invalid_batch_settlement_evm_channel_id_mismatch, "the permit witnesses another channel");
  if (p.deadline < U256{Uint128{now} + kValidBeforeMarginSeconds})
    return fail(E::invalid_batch_settlement_evm_permit2_deadline_expired,
                "deadline " + p.deadline.to_decimal() + " has passed (chain time " + std::to_string(now) + ")");
  return DepositAuthorization{
      permit2_deposit_digest(permit2_domain_separator(chain.chain_id(), chain.permit2()), p.permit()),
      p.signature,
      E::invalid_batch_settlement_evm_permit2_invalid_signature,
      "PermitWitnessTransferFrom to the Permit2 collector under Permit2's domain",
      ChainView::EcdsaRule::either_s,  // Permit2 calls bare ecrecover
      chain.permit2_collector(),
      [nonce = p.nonce, deadline = p.deadline](ByteView signature) {
        return chain::permit2_collector_data(nonce, deadline, signature);
      }};
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
  auto extra = protocol::batch_settlement_extra(requirements);
  if (!extra) co_return refused(std::move(v), extra.error());
  if (d.deposit.amount == 0)
    co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_deposit_payload, "deposit amount is zero"});
  if (Status s = check_config(chain, requirements, config, channelId); !s) co_return refused(std::move(v), s.error());

  auto now = co_await chain.now();
  if (!now) co_return refused(std::move(v), now.error());
  // As the reference resolves it: the offer's hint, else the payload's kind; Permit2 or ERC-3009.
  const bool permit2 = extra->assetTransferMethod ? *extra->assetTransferMethod == "permit2"
                                                  : d.deposit.permit2Authorization.has_value();
  auto authorization = permit2 ? permit2_authorization(chain, d, *now) : erc3009_authorization(chain, *extra, d, *now);
  if (!authorization) co_return refused(std::move(v), authorization.error());

  auto signature = co_await deposit_signature(chain, config.payer, *authorization);
  if (!signature) co_return refused(std::move(v), signature.error());
  if (signature->deployment) {
    // A wallet not deployed yet cannot be asked now: the simulation below asks it once its
    // factory has run. Nor could a voucher of its own be checked before the deposit deploys it.
    if (config.payerAuthorizer.is_zero())
      co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_voucher_signature,
                                            "a wallet not deployed yet cannot sign its vouchers (EIP-1271 needs the "
                                            "wallet): its channel needs a payerAuthorizer (a session key)"});
  } else {
    auto authorized =
        co_await chain.signature_valid(config.payer, authorization->digest, signature->signature, authorization->rule);
    if (!authorized) co_return refused(std::move(v), authorized.error());
    if (!*authorized)
      co_return refused(std::move(v), Error{authorization->refusal, "not the payer's " + authorization->what});
  }
  if (permit2) {
    // Permit2 pulls only what the payer approved it for: without the approval the deposit would
    // revert, and this says why (checked where the reference checks it, a token that cannot say
    // included).
    auto allowance = co_await chain.token_allowance(config.token, config.payer, chain.permit2());
    if (!allowance && allowance.error().code != ErrorCode::invalid_batch_settlement_evm_transaction_reverted)
      co_return refused(std::move(v), allowance.error());
    if (!allowance || *allowance < U256{d.deposit.amount})
      co_return refused(std::move(v), Error{ErrorCode::invalid_batch_settlement_evm_permit2_allowance_required,
                                            "the payer has approved Permit2 (" + to_checksum_hex(chain.permit2()) +
                                                ") for " + (allowance ? allowance->to_decimal() : std::string{"none"}) +
                                                " of the token, below the deposit " + to_decimal(d.deposit.amount)});
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

  Bytes deposit = chain::deposit_call(config, d.deposit.amount, authorization->collector,
                                      authorization->collectorData(signature->signature.bytes()));
  auto transaction =
      co_await simulate_deposit(chain, config.payer, *authorization, *signature, std::move(deposit), relayer);
  if (!transaction) co_return refused(std::move(v), transaction.error());
  v.depositTransaction = std::move(*transaction);
  co_return v;
}

}  // namespace paychan::engine::facilitator
