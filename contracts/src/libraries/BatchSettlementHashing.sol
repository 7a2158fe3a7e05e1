// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IX402BatchSettlement} from "../interfaces/IX402BatchSettlement.sol";

/// @title EIP-712 struct hashes of the batch-settlement types
/// @notice Type strings are the scheme's (scheme_batch_settlement_evm.md); the domain is applied by the caller.
/// @dev Hashing works on scratch memory past the free-memory pointer without moving it (no memory growth per
///      call, unlike `keccak256(abi.encode(...))`). The claim loops of X402BatchSettlement inline the same hashing
///      in assembly; the known-answer vectors pin both.
library BatchSettlementHashing {
    bytes32 internal constant CHANNEL_CONFIG_TYPEHASH = keccak256(
        "ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt)"
    );
    bytes32 internal constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 maxClaimableAmount)");
    bytes32 internal constant REFUND_TYPEHASH = keccak256("Refund(bytes32 channelId,uint256 nonce,uint128 amount)");
    bytes32 internal constant CLAIM_ENTRY_TYPEHASH =
        keccak256("ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)");
    bytes32 internal constant CLAIM_BATCH_TYPEHASH = keccak256(
        "ClaimBatch(ClaimEntry[] claims)ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)"
    );

    /// @return h keccak256(abi.encode(CHANNEL_CONFIG_TYPEHASH, config)).
    /// @dev The words are copied raw, so a field with bits beyond its type (an address above 160 bits, the delay
    ///      above 40) reverts without data, as Solidity's ABI decoder would: such a config must not hash to an id.
    function hashChannelConfig(IX402BatchSettlement.ChannelConfig calldata config) internal pure returns (bytes32 h) {
        bytes32 typeHash = CHANNEL_CONFIG_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            calldatacopy(add(m, 0x20), config, 0xe0)
            let dirty := or(shr(160, mload(add(m, 0x20))), shr(160, mload(add(m, 0x40))))
            dirty := or(dirty, or(shr(160, mload(add(m, 0x60))), shr(160, mload(add(m, 0x80)))))
            dirty := or(dirty, or(shr(160, mload(add(m, 0xa0))), shr(40, mload(add(m, 0xc0)))))
            if dirty { revert(0, 0) }
            h := keccak256(m, 0x100)
        }
    }

    /// @return h the EIP-712 digest keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)
    function typedDataHash(bytes32 domainSeparator, bytes32 structHash) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x1901)
            mstore(add(m, 0x20), domainSeparator)
            mstore(add(m, 0x40), structHash)
            h := keccak256(add(m, 0x1e), 0x42)
        }
    }

    /// @return h keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, maxClaimableAmount)).
    function hashVoucher(bytes32 channelId, uint256 maxClaimableAmount) internal pure returns (bytes32 h) {
        bytes32 typeHash = VOUCHER_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), channelId)
            mstore(add(m, 0x40), maxClaimableAmount)
            h := keccak256(m, 0x60)
        }
    }

    /// @return h keccak256(abi.encode(REFUND_TYPEHASH, channelId, nonce, amount)).
    function hashRefund(bytes32 channelId, uint256 nonce, uint256 amount) internal pure returns (bytes32 h) {
        bytes32 typeHash = REFUND_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), channelId)
            mstore(add(m, 0x40), nonce)
            mstore(add(m, 0x60), amount)
            h := keccak256(m, 0x80)
        }
    }

    /// @param entriesRoot keccak256 of the concatenated ClaimEntry struct hashes (keccak256("") for none)
    /// @return h keccak256(abi.encode(CLAIM_BATCH_TYPEHASH, entriesRoot))
    function hashClaimBatch(bytes32 entriesRoot) internal pure returns (bytes32 h) {
        bytes32 typeHash = CLAIM_BATCH_TYPEHASH;
        assembly ("memory-safe") {
            mstore(0x00, typeHash)
            mstore(0x20, entriesRoot)
            h := keccak256(0x00, 0x40)
        }
    }
}
