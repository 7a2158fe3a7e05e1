// The scheme's signed structures, named as in the spec and the canonical contract
// (specs/schemes/batch-settlement/scheme_batch_settlement_evm.md, x402BatchSettlement.sol).
// Thread-safety: plain values.
#pragma once

#include <cstdint>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/wallet_signature.hpp"

namespace paychan {

// Bounds on ChannelConfig.withdrawDelay enforced by the contract: 15 minutes to 30 days.
inline constexpr std::uint64_t kMinWithdrawDelay = 900;
inline constexpr std::uint64_t kMaxWithdrawDelay = 2'592'000;

// Immutable channel identity; channelId = EIP-712 hash of it (see eip712.hpp).
struct ChannelConfig {
  Address payer;
  Address payerAuthorizer;  // zero: vouchers are checked against payer via EIP-1271
  Address receiver;
  Address receiverAuthorizer;
  Address token;
  std::uint64_t withdrawDelay = 0;  // uint40 on chain
  Bytes32 salt{};

  friend bool operator==(const ChannelConfig&, const ChannelConfig&) = default;
};

// Voucher(bytes32 channelId,uint128 maxClaimableAmount)
struct Voucher {
  Bytes32 channelId{};
  Uint128 maxClaimableAmount = 0;

  friend bool operator==(const Voucher&, const Voucher&) = default;
};

// A voucher with its signature, as carried in payloads: the payerAuthorizer's 65-byte ECDSA one, or
// (payerAuthorizer zero) whatever the payer's wallet signs.
struct SignedVoucher {
  Voucher voucher;
  WalletSignature signature;

  friend bool operator==(const SignedVoucher&, const SignedVoucher&) = default;
};

// ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)
struct ClaimEntry {
  Bytes32 channelId{};
  Uint128 maxClaimableAmount = 0;
  Uint128 totalClaimed = 0;

  friend bool operator==(const ClaimEntry&, const ClaimEntry&) = default;
};

// The message of EIP-3009 ReceiveWithAuthorization / TransferWithAuthorization.
struct Erc3009Authorization {
  Address from;
  Address to;
  U256 value;
  U256 validAfter;
  U256 validBefore;
  Bytes32 nonce{};

  friend bool operator==(const Erc3009Authorization&, const Erc3009Authorization&) = default;
};

// What a payer signs for a deposit through Permit2: Permit2's PermitWitnessTransferFrom of
// `amount` of `token` to `spender` (the Permit2 deposit collector), with the witness
// DepositWitness(bytes32 channelId) binding it to one channel.
struct Permit2DepositPermit {
  Address token;
  U256 amount;
  Address spender;
  U256 nonce;  // Permit2's unordered nonce: any unused one
  U256 deadline;
  Bytes32 channelId{};

  friend bool operator==(const Permit2DepositPermit&, const Permit2DepositPermit&) = default;
};

}  // namespace paychan
