// EIP-712 hashing of every structure the batch-settlement scheme signs.
// Each *_digest is keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)), the value that
// is signed and recovered. Type strings are the contract's, verbatim.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/types.hpp"

namespace paychan {

// Canonical CREATE2 addresses of the scheme's contracts (same on every chain).
extern const Address kBatchSettlementAddress;   // 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003
extern const Address kErc3009CollectorAddress;  // 0x4020806089470a89826cB9fB1f4059150b550004
extern const Address kPermit2CollectorAddress;  // 0x4020425FAf3B746C082C2f942b4E5159887B0005
// Uniswap's Permit2, which the Permit2 collector pulls deposits through.
extern const Address kPermit2Address;  // 0x000000000022D473030F116dDEE9F6B43aC78BA3

// EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
struct Eip712Domain {
  std::string_view name;
  std::string_view version;
  std::uint64_t chainId = 0;
  Address verifyingContract;
};

[[nodiscard]] Bytes32 domain_separator(const Eip712Domain& domain) noexcept;
// Domain {name: "x402 Batch Settlement", version: "1", chainId, verifyingContract}.
[[nodiscard]] Bytes32 batch_settlement_domain_separator(
    std::uint64_t chainId, const Address& verifyingContract = kBatchSettlementAddress) noexcept;

// keccak256(0x1901 ‖ domainSeparator ‖ structHash)
[[nodiscard]] Bytes32 typed_data_digest(const Bytes32& domainSeparator, const Bytes32& structHash) noexcept;

// channelId: the typed-data digest of ChannelConfig(address payer,address payerAuthorizer,
// address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt).
[[nodiscard]] Bytes32 channel_id(const Bytes32& domainSeparator, const ChannelConfig& config) noexcept;
[[nodiscard]] Bytes32 voucher_digest(const Bytes32& domainSeparator, const Voucher& voucher) noexcept;
// Refund(bytes32 channelId,uint256 nonce,uint128 amount)
[[nodiscard]] Bytes32 refund_digest(const Bytes32& domainSeparator, const Bytes32& channelId,
                                    const U256& nonce, Uint128 amount) noexcept;
// ClaimBatch(ClaimEntry[] claims)ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)
[[nodiscard]] Bytes32 claim_batch_digest(const Bytes32& domainSeparator,
                                         std::span<const ClaimEntry> claims);
// Under the token's own domain (name/version from the offer's extra, chainId, token address).
[[nodiscard]] Bytes32 receive_with_authorization_digest(const Bytes32& tokenDomainSeparator,
                                                        const Erc3009Authorization& auth) noexcept;
[[nodiscard]] Bytes32 transfer_with_authorization_digest(const Bytes32& tokenDomainSeparator,
                                                         const Erc3009Authorization& auth) noexcept;
// Permit2's domain, EIP712Domain(string name,uint256 chainId,address verifyingContract) with name
// "Permit2" (it has no version).
[[nodiscard]] Bytes32 permit2_domain_separator(std::uint64_t chainId,
                                               const Address& verifyingContract = kPermit2Address) noexcept;
// PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,
// DepositWitness witness)DepositWitness(bytes32 channelId)TokenPermissions(address token,uint256 amount)
[[nodiscard]] Bytes32 permit2_deposit_digest(const Bytes32& permit2DomainSeparator,
                                             const Permit2DepositPermit& permit) noexcept;
// The ERC-3009 nonce of a deposit: keccak256(abi.encode(channelId, salt)).
[[nodiscard]] Bytes32 deposit_nonce(const Bytes32& channelId, const Bytes32& salt) noexcept;

}  // namespace paychan
