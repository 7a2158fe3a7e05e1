#include "engine/client/payloads.hpp"

#include <algorithm>

#include "channel/eip712.hpp"

namespace paychan::engine::client {
namespace {

protocol::PaymentPayload wrap(const ChosenOffer& offer, protocol::BatchSettlementPayload payload) {
  protocol::PaymentPayload p;
  p.accepted = offer.requirements;
  p.payload = std::move(payload);
  return p;
}

}  // namespace

ChannelConfig channel_config_for(const ChosenOffer& offer, const ClientKeys& keys, const Bytes32& salt) {
  return ChannelConfig{keys.payer.address(),     keys.voucher_signer().address(), offer.payTo,
                       offer.extra.receiverAuthorizer, offer.asset, offer.extra.withdrawDelay, salt};
}

Bytes32 channel_salt(std::uint64_t index) {
  Bytes32 salt{};
  for (std::size_t i = 0; i < 8; ++i) salt[31 - i] = static_cast<std::uint8_t>(index >> (8 * i));
  return salt;
}

SignedVoucher sign_voucher(std::uint64_t chainId, const Bytes32& channelId, Uint128 cumulative, const ClientKeys& keys) {
  const Voucher v{channelId, cumulative};
  return SignedVoucher{v, keys.voucher_signer().sign(voucher_digest(batch_settlement_domain_separator(chainId), v))};
}

protocol::PaymentPayload voucher_payload(const ChosenOffer& offer, const ChannelConfig& config, const Bytes32& channelId,
                                         Uint128 cumulative, const ClientKeys& keys) {
  return wrap(offer, protocol::VoucherPayload{config, sign_voucher(offer.chainId, channelId, cumulative, keys)});
}

protocol::PaymentPayload deposit_payload(const ChosenOffer& offer, const ChannelConfig& config, const Bytes32& channelId,
                                         Uint128 cumulative, Uint128 amount, const ClientKeys& keys, std::uint64_t now,
                                         const Bytes32& authorizationSalt) {
  const U256 expiry{Uint128{now} + std::min(offer.requirements.maxTimeoutSeconds, kMaxAuthorizationSeconds)};
  const SignedVoucher voucher = sign_voucher(offer.chainId, channelId, cumulative, keys);
  if (offer.extra.assetTransferMethod == "permit2") {
    protocol::Permit2DepositAuthorization permit;
    permit.from = config.payer;
    permit.token = offer.asset;
    permit.amount = U256{amount};
    permit.spender = kPermit2CollectorAddress;
    permit.nonce = U256::from_be(authorizationSalt);  // Permit2's nonces are unordered: any unused one
    permit.deadline = expiry;
    permit.channelId = channelId;
    permit.signature = keys.payer.sign(permit2_deposit_digest(permit2_domain_separator(offer.chainId), permit.permit()));
    return wrap(offer, protocol::DepositPayload{config, voucher, protocol::Deposit{amount, std::nullopt, permit}});
  }
  protocol::Erc3009DepositAuthorization auth;
  auth.validAfter = U256{0};
  auth.validBefore = expiry;
  auth.salt = authorizationSalt;
  const Bytes32 token_domain =
      domain_separator(Eip712Domain{offer.extra.name, offer.extra.version, offer.chainId, offer.asset});
  const Erc3009Authorization message{config.payer,    kErc3009CollectorAddress, U256{amount}, auth.validAfter,
                                     auth.validBefore, deposit_nonce(channelId, authorizationSalt)};
  auth.signature = keys.payer.sign(receive_with_authorization_digest(token_domain, message));
  return wrap(offer, protocol::DepositPayload{config, voucher, protocol::Deposit{amount, auth, std::nullopt}});
}

protocol::PaymentPayload refund_payload(const ChosenOffer& offer, const ChannelConfig& config, const Bytes32& channelId,
                                        Uint128 charged, std::optional<Uint128> amount, const ClientKeys& keys) {
  protocol::RefundPayload r;
  r.channelConfig = config;
  r.voucher = sign_voucher(offer.chainId, channelId, charged, keys);
  r.amount = amount;
  return wrap(offer, r);
}

}  // namespace paychan::engine::client
