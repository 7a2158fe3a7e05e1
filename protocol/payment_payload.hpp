// x402 v2's PaymentPayload and the batch-settlement payloads it carries
// (scheme_batch_settlement_evm.md: "Client: Payment Construction", and the facilitator's settle
// payloads). Another scheme's payload is kept opaque.
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "channel/types.hpp"
#include "protocol/requirements.hpp"

namespace paychan::protocol {

struct Erc3009DepositAuthorization {
  U256 validAfter;
  U256 validBefore;
  Bytes32 salt{};  // hashed with the channelId into the ERC-3009 nonce
  WalletSignature signature;  // the payer's; a wallet not yet deployed wraps it (ERC-6492)
  friend bool operator==(const Erc3009DepositAuthorization&, const Erc3009DepositAuthorization&) = default;
};

// A Permit2 PermitWitnessTransferFrom whose witness binds the channel (the fallback for tokens
// without EIP-3009), with its owner and signature.
struct Permit2DepositAuthorization {
  Address from;
  Address token;   // permitted.token
  U256 amount;     // permitted.amount
  Address spender;
  U256 nonce;
  U256 deadline;
  Bytes32 channelId{};  // witness.channelId
  WalletSignature signature;
  // What the owner signed (channel/eip712.hpp's permit2_deposit_digest).
  [[nodiscard]] Permit2DepositPermit permit() const { return {token, amount, spender, nonce, deadline, channelId}; }
  friend bool operator==(const Permit2DepositAuthorization&, const Permit2DepositAuthorization&) = default;
};

struct Deposit {
  Uint128 amount = 0;
  // Exactly one of the two.
  std::optional<Erc3009DepositAuthorization> erc3009Authorization;
  std::optional<Permit2DepositAuthorization> permit2Authorization;
  friend bool operator==(const Deposit&, const Deposit&) = default;
};

// type "deposit" | "voucher" | "refund" (client → server → facilitator)
struct DepositPayload {
  ChannelConfig channelConfig;
  SignedVoucher voucher;
  Deposit deposit;
  friend bool operator==(const DepositPayload&, const DepositPayload&) = default;
};
struct VoucherPayload {
  ChannelConfig channelConfig;
  SignedVoucher voucher;
  friend bool operator==(const VoucherPayload&, const VoucherPayload&) = default;
};

// One row of a claim: {voucher: {channel, maxClaimableAmount}, signature, totalClaimed}.
struct VoucherClaimRow {
  ChannelConfig channel;
  Uint128 maxClaimableAmount = 0;
  WalletSignature signature;
  Uint128 totalClaimed = 0;
  friend bool operator==(const VoucherClaimRow&, const VoucherClaimRow&) = default;
};

// A refund as the client sends it (amount optional: full refund), and as the server completes it
// for the facilitator (refundNonce, claims and, when it owns the key, the authorizer signatures).
struct RefundPayload {
  ChannelConfig channelConfig;
  SignedVoucher voucher;
  std::optional<Uint128> amount;
  std::optional<U256> refundNonce;
  std::vector<VoucherClaimRow> claims;
  std::optional<Signature> refundAuthorizerSignature;
  std::optional<Signature> claimAuthorizerSignature;
  friend bool operator==(const RefundPayload&, const RefundPayload&) = default;
};

// type "claim" | "settle" (server → facilitator)
struct ClaimPayload {
  std::vector<VoucherClaimRow> claims;
  std::optional<Signature> claimAuthorizerSignature;
  friend bool operator==(const ClaimPayload&, const ClaimPayload&) = default;
};
struct SettlePayload {
  Address receiver;
  Address token;
  friend bool operator==(const SettlePayload&, const SettlePayload&) = default;
};

using BatchSettlementPayload = std::variant<DepositPayload, VoucherPayload, RefundPayload, ClaimPayload, SettlePayload>;

struct PaymentPayload {
  std::uint64_t x402Version = kX402Version;
  std::optional<ResourceInfo> resource;
  PaymentRequirements accepted;
  // The typed payload when accepted.scheme is batch-settlement; another scheme's stays opaque.
  std::variant<BatchSettlementPayload, Json> payload;
  Json extensions;
};

// Errors: malformed_json, input_too_large, invalid_x402_version, invalid_payload, and the
// scheme's *_deposit_payload / *_voucher_payload / *_refund_payload / *_claim_payload /
// *_settle_payload / *_payload_type with the member's path.
[[nodiscard]] Result<PaymentPayload> decode_payment_payload(std::string_view json);
[[nodiscard]] std::string encode_payment_payload(const PaymentPayload& p);

// The batch-settlement payload inside, if any.
[[nodiscard]] const BatchSettlementPayload* batch_payload(const PaymentPayload& p) noexcept;

}  // namespace paychan::protocol
