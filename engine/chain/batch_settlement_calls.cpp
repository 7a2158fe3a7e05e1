#include "engine/chain/batch_settlement_calls.hpp"

namespace paychan::engine::chain {
namespace {

// Canonical signatures: tuple types spelled out as the ABI hashes them.
constexpr std::string_view kConfig = "(address,address,address,address,address,uint40,bytes32)";

std::string sig(std::string_view name, std::string_view params) {
  std::string s{name};
  s += '(';
  s += params;
  s += ')';
  return s;
}

std::string with_config(std::string_view name, std::string_view rest = {}) {
  std::string params{kConfig};
  params += rest;
  return sig(name, params);
}

std::string voucher_claims_param() {
  return "((" + std::string{kConfig} + ",uint128),bytes,uint128)[]";
}

AbiValue config_value(const ChannelConfig& c) {
  return AbiValue::tuple({AbiValue::address(c.payer), AbiValue::address(c.payerAuthorizer),
                          AbiValue::address(c.receiver), AbiValue::address(c.receiverAuthorizer),
                          AbiValue::address(c.token), AbiValue::uint(Uint128{c.withdrawDelay}), AbiValue::word(c.salt)});
}

AbiValue claims_value(std::span<const VoucherClaim> claims) {
  std::vector<AbiValue> rows;
  rows.reserve(claims.size());
  for (const auto& c : claims)
    rows.push_back(AbiValue::tuple({AbiValue::tuple({config_value(c.channel), AbiValue::uint(c.maxClaimableAmount)}),
                                    AbiValue::bytes(c.signature.bytes()), AbiValue::uint(c.totalClaimed)}));
  return AbiValue::array(std::move(rows));
}

}  // namespace

Bytes erc3009_collector_data(const U256& validAfter, const U256& validBefore, const Bytes32& salt,
                             ByteView signature) {
  Bytes out;
  AbiValue::tuple({AbiValue::uint(validAfter), AbiValue::uint(validBefore), AbiValue::word(salt),
                   AbiValue::bytes(signature)})
      .encode_to(out);
  return out;
}

Bytes permit2_collector_data(const U256& nonce, const U256& deadline, ByteView signature) {
  Bytes out;
  AbiValue::tuple({AbiValue::uint(nonce), AbiValue::uint(deadline), AbiValue::bytes(signature), AbiValue::bytes({})})
      .encode_to(out);
  return out;
}

Bytes deposit_call(const ChannelConfig& config, Uint128 amount, const Address& collector, ByteView collectorData) {
  return encode_call(with_config("deposit", ",uint128,address,bytes"),
                     {config_value(config), AbiValue::uint(amount), AbiValue::address(collector),
                      AbiValue::bytes(collectorData)});
}

Bytes claim_call(std::span<const VoucherClaim> claims) {
  return encode_call(sig("claim", voucher_claims_param()), {claims_value(claims)});
}

Bytes claim_with_signature_call(std::span<const VoucherClaim> claims, const Signature& authorizerSignature) {
  return encode_call(sig("claimWithSignature", voucher_claims_param() + ",bytes"),
                     {claims_value(claims), AbiValue::bytes(authorizerSignature)});
}

Bytes settle_call(const Address& receiver, const Address& token) {
  return encode_call("settle(address,address)", {AbiValue::address(receiver), AbiValue::address(token)});
}

Bytes refund_with_signature_call(const ChannelConfig& config, Uint128 amount, const U256& nonce,
                                 const Signature& signature) {
  return encode_call(with_config("refundWithSignature", ",uint128,uint256,bytes"),
                     {config_value(config), AbiValue::uint(amount), AbiValue::uint(nonce), AbiValue::bytes(signature)});
}

Bytes multicall_call(std::span<const Bytes> calls) {
  std::vector<AbiValue> items;
  items.reserve(calls.size());
  for (const auto& c : calls) items.push_back(AbiValue::bytes(c));
  return encode_call("multicall(bytes[])", {AbiValue::array(std::move(items))});
}

Bytes initiate_withdraw_call(const ChannelConfig& config, Uint128 amount) {
  return encode_call(with_config("initiateWithdraw", ",uint128"), {config_value(config), AbiValue::uint(amount)});
}

Bytes finalize_withdraw_call(const ChannelConfig& config) {
  return encode_call(with_config("finalizeWithdraw"), {config_value(config)});
}

Bytes channels_call(const Bytes32& channelId) { return encode_call("channels(bytes32)", {AbiValue::word(channelId)}); }

Bytes refund_nonce_call(const Bytes32& channelId) {
  return encode_call("refundNonce(bytes32)", {AbiValue::word(channelId)});
}

Bytes pending_withdrawals_call(const Bytes32& channelId) {
  return encode_call("pendingWithdrawals(bytes32)", {AbiValue::word(channelId)});
}

Bytes receivers_call(const Address& receiver, const Address& token) {
  return encode_call("receivers(address,address)", {AbiValue::address(receiver), AbiValue::address(token)});
}

Bytes erc20_balance_of_call(const Address& owner) {
  return encode_call("balanceOf(address)", {AbiValue::address(owner)});
}

Bytes erc20_allowance_call(const Address& owner, const Address& spender) {
  return encode_call("allowance(address,address)", {AbiValue::address(owner), AbiValue::address(spender)});
}

Bytes erc20_decimals_call() { return encode_call("decimals()", {}); }

Bytes erc20_approve_call(const Address& spender, const U256& amount) {
  return encode_call("approve(address,uint256)", {AbiValue::address(spender), AbiValue::uint(amount)});
}

Bytes erc1271_is_valid_signature_call(const Bytes32& digest, ByteView signature) {
  return encode_call("isValidSignature(bytes32,bytes)", {AbiValue::word(digest), AbiValue::bytes(signature)});
}

bool is_erc1271_magic(ByteView reply) noexcept {
  // bytes4 return value: left-aligned in its first word, the rest of it zero. Words after it are
  // ignored, as the contract's check and OpenZeppelin's do.
  static constexpr std::uint8_t kMagic[4] = {0x16, 0x26, 0xba, 0x7e};
  if (reply.size() < 32) return false;
  for (std::size_t i = 0; i < 32; ++i)
    if (reply[i] != (i < 4 ? kMagic[i] : 0)) return false;
  return true;
}

Result<ChannelBalances> decode_channels(ByteView reply) {
  const AbiReader r{reply};
  auto balance = r.uint128(0);
  if (!balance) return balance.failure();
  auto claimed = r.uint128(1);
  if (!claimed) return claimed.failure();
  return ChannelBalances{*balance, *claimed};
}

Result<U256> decode_uint256(ByteView reply) { return AbiReader{reply}.uint256(0); }

Result<unsigned> decode_decimals(ByteView reply) {
  PAYCHAN_ASSIGN(const U256 value, decode_uint256(reply));
  if (value > U256{255}) return fail(ErrorCode::invalid_payload, "decimals() answered " + value.to_decimal() + ", not a uint8");
  return static_cast<unsigned>(*value.to_uint128());
}

Result<PendingWithdrawal> decode_pending_withdrawals(ByteView reply) {
  const AbiReader r{reply};
  auto amount = r.uint128(0);
  if (!amount) return amount.failure();
  auto at = r.uint64(1);
  if (!at) return at.failure();
  return PendingWithdrawal{*amount, *at};
}

Result<ReceiverTotals> decode_receivers(ByteView reply) {
  const AbiReader r{reply};
  auto claimed = r.uint128(0);
  if (!claimed) return claimed.failure();
  auto settled = r.uint128(1);
  if (!settled) return settled.failure();
  return ReceiverTotals{*claimed, *settled};
}

}  // namespace paychan::engine::chain
