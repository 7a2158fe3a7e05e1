// x402 v2's offer side: ResourceInfo, PaymentRequirements and the PaymentRequired envelope
// (specs/x402-specification-v2.md), plus the typed view of a batch-settlement offer's `extra`
// (scheme_batch_settlement_evm.md, "402 Response").
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/channel_state.hpp"
#include "channel/ecdsa.hpp"
#include "protocol/json.hpp"

namespace paychan::protocol {

inline constexpr std::uint64_t kX402Version = 2;
inline constexpr std::string_view kBatchSettlementScheme = "batch-settlement";

struct ResourceInfo {
  std::string url;
  std::optional<std::string> description;
  std::optional<std::string> mimeType;
  friend bool operator==(const ResourceInfo&, const ResourceInfo&) = default;
};

// Generic over schemes: asset/payTo are strings (not every network has EVM addresses) and `extra`
// is kept as received. Unknown top-level members are not kept.
struct PaymentRequirements {
  std::string scheme;
  std::string network;  // CAIP-2, e.g. "eip155:8453"
  std::string amount;   // atomic units, canonical decimal
  std::string asset;
  std::string payTo;
  std::uint64_t maxTimeoutSeconds = 0;
  Json extra;
  // Deep equality with key order ignored: the reference's test for `accepted`.
  friend bool operator==(const PaymentRequirements&, const PaymentRequirements&) = default;
};

struct PaymentRequired {
  std::uint64_t x402Version = kX402Version;
  std::optional<std::string> error;
  ResourceInfo resource;
  std::vector<PaymentRequirements> accepts;
  Json extensions;
};

// extra.channelState: a server's (or facilitator's) snapshot of a channel.
struct ChannelSnapshot {
  Bytes32 channelId{};
  Uint128 balance = 0;
  Uint128 totalClaimed = 0;
  std::uint64_t withdrawRequestedAt = 0;  // a JSON number
  U256 refundNonce;
  std::optional<Uint128> chargedCumulativeAmount;  // server snapshots only
  friend bool operator==(const ChannelSnapshot&, const ChannelSnapshot&) = default;
};

// The on-chain part of a snapshot, as the scheme's rules take it.
[[nodiscard]] inline OnchainChannelState onchain_state(const ChannelSnapshot& s) {
  return OnchainChannelState{s.balance, s.totalClaimed, s.withdrawRequestedAt, s.refundNonce};
}

// extra.voucherState: the last voucher the server holds (corrective 402s).
struct VoucherState {
  std::optional<Uint128> signedMaxClaimable;
  std::optional<WalletSignature> signature;
  friend bool operator==(const VoucherState&, const VoucherState&) = default;
};

struct BatchSettlementExtra {
  Address receiverAuthorizer;
  std::uint64_t withdrawDelay = 0;
  // The token's EIP-712 domain: required, but for a Permit2 offer (assetTransferMethod "permit2"),
  // where it may be absent (empty here), as ERC-3009 deposits alone are signed under it.
  std::string name;
  std::string version;
  std::optional<std::string> assetTransferMethod;  // "eip3009" (default) or "permit2"
  // The smallest deposit the server wants (the reference's hint since @x402/evm 2.27): a client
  // deposits at least this much. Read leniently, as the reference client reads it: a value that is
  // not a positive decimal string is no hint, and leaves the offer usable.
  std::optional<Uint128> minDeposit;
  std::optional<ChannelSnapshot> channelState;
  std::optional<VoucherState> voucherState;
  friend bool operator==(const BatchSettlementExtra&, const BatchSettlementExtra&) = default;
};

// JSON codecs. Decoders: malformed_json / input_too_large / invalid_payment_requirements with the path.
[[nodiscard]] Result<PaymentRequirements> decode_payment_requirements(std::string_view json);
[[nodiscard]] std::string encode_payment_requirements(const PaymentRequirements& r);
[[nodiscard]] Result<PaymentRequired> decode_payment_required(std::string_view json);
[[nodiscard]] std::string encode_payment_required(const PaymentRequired& p);

// The typed view of a batch-settlement offer's extra. Errors: invalid_payment_requirements,
// invalid_batch_settlement_evm_missing_eip712_domain.
[[nodiscard]] Result<BatchSettlementExtra> batch_settlement_extra(const PaymentRequirements& r);
[[nodiscard]] Json make_extra(const BatchSettlementExtra& extra);

// The chain id of an "eip155:<id>" network. Error: invalid_network.
[[nodiscard]] Result<std::uint64_t> evm_chain_id(std::string_view network);
// The inverse: "eip155:<chainId>".
[[nodiscard]] std::string evm_network(std::uint64_t chainId);

}  // namespace paychan::protocol
