// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IX402BatchSettlement} from "../interfaces/IX402BatchSettlement.sol";

/// @title Reading `VoucherClaim` rows straight from calldata
/// @notice The claim loop's hot path. A row is ABI-encoded as
///           0x000  channel (7 words: payer, payerAuthorizer, receiver, receiverAuthorizer, token, withdrawDelay, salt)
///           0x0e0  maxClaimableAmount
///           0x100  offset of `signature`, from the row's start
///           0x120  totalClaimed
///         with the signature (length word, then bytes) behind it. Solidity's generic accessors re-validate every
///         offset and field on every access; these read each word once and check what the ABI decoder would:
///         offsets inside calldata, amounts within uint128 — a malformed row reverts without data, like the decoder.
library VoucherClaimCalldata {
    uint256 internal constant RECEIVER = 0x40;
    uint256 internal constant RECEIVER_AUTHORIZER = 0x60;
    uint256 internal constant TOKEN = 0x80;
    uint256 internal constant MAX_CLAIMABLE = 0xe0;
    uint256 internal constant SIGNATURE = 0x100;
    uint256 internal constant TOTAL_CLAIMED = 0x120;
    uint256 internal constant HEAD_SIZE = 0x140;

    /// @return row the i-th row of `rows` (the caller keeps i < rows.length)
    function rowAt(IX402BatchSettlement.VoucherClaim[] calldata rows, uint256 i)
        internal
        pure
        returns (IX402BatchSettlement.VoucherClaim calldata row)
    {
        assembly ("memory-safe") {
            let offset := calldataload(add(rows.offset, shl(5, i)))
            row := add(rows.offset, offset)
            if or(gt(offset, 0xffffffffffffffff), gt(add(row, HEAD_SIZE), calldatasize())) { revert(0, 0) }
        }
    }

    /// @return maxClaimableAmount the voucher's ceiling
    /// @return totalClaimed the cumulative total the row claims
    function amounts(IX402BatchSettlement.VoucherClaim calldata row)
        internal
        pure
        returns (uint256 maxClaimableAmount, uint256 totalClaimed)
    {
        assembly ("memory-safe") {
            maxClaimableAmount := calldataload(add(row, MAX_CLAIMABLE))
            totalClaimed := calldataload(add(row, TOTAL_CLAIMED))
            if or(shr(128, maxClaimableAmount), shr(128, totalClaimed)) { revert(0, 0) }
        }
    }

    function receiverAuthorizerOf(IX402BatchSettlement.VoucherClaim calldata row) internal pure returns (address a) {
        assembly ("memory-safe") {
            a := calldataload(add(row, RECEIVER_AUTHORIZER))
            if shr(160, a) { revert(0, 0) }
        }
    }

    /// @dev Unchecked: only for a row whose channel config was already hashed (hashChannelConfig checks every word).
    function receiverAndToken(IX402BatchSettlement.VoucherClaim calldata row)
        internal
        pure
        returns (address receiver, address token)
    {
        assembly ("memory-safe") {
            receiver := calldataload(add(row, RECEIVER))
            token := calldataload(add(row, TOKEN))
        }
    }

    /// @return sig the row's voucher signature, bounds-checked
    function signatureOf(IX402BatchSettlement.VoucherClaim calldata row) internal pure returns (bytes calldata sig) {
        assembly ("memory-safe") {
            let offset := calldataload(add(row, SIGNATURE))
            let p := add(row, offset)
            let length := calldataload(p)
            sig.offset := add(p, 0x20)
            sig.length := length
            if or(or(gt(offset, 0xffffffffffffffff), gt(length, 0xffffffffffffffff)), gt(add(add(p, 0x20), length), calldatasize())) {
                revert(0, 0)
            }
        }
    }

    /// @notice Reverts unless `sig` is `signer`'s 65-byte ECDSA signature of `digest`, with OpenZeppelin ECDSA's
    ///         errors for a malformed signature (wrong length, high s, unrecoverable) and `mismatch` otherwise.
    /// @dev The same checks as ECDSA.recoverCalldata, without its return-tuple plumbing.
    function requireSigner(bytes calldata sig, bytes32 digest, address signer, bytes4 mismatch) internal view {
        bytes4 invalidLength = IX402BatchSettlement.ECDSAInvalidSignatureLength.selector;
        bytes4 invalidS = IX402BatchSettlement.ECDSAInvalidSignatureS.selector;
        bytes4 unrecoverable = IX402BatchSettlement.ECDSAInvalidSignature.selector;
        assembly ("memory-safe") {
            if iszero(eq(sig.length, 65)) {
                mstore(0x00, invalidLength)
                mstore(0x04, sig.length)
                revert(0x00, 0x24)
            }
            let s := calldataload(add(sig.offset, 0x20))
            // s must be in the lower half of the curve order (no malleable twin).
            if gt(s, 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) {
                mstore(0x00, invalidS)
                mstore(0x04, s)
                revert(0x00, 0x24)
            }
            let m := mload(0x40)
            mstore(m, digest)
            mstore(add(m, 0x20), byte(0, calldataload(add(sig.offset, 0x40))))
            mstore(add(m, 0x40), calldataload(sig.offset))
            mstore(add(m, 0x60), s)
            mstore(0x00, 0)
            // The ecrecover precompile writes nothing when it cannot recover (v not 27/28, r or s out of range).
            pop(staticcall(gas(), 0x01, m, 0x80, 0x00, 0x20))
            let recovered := mload(0x00)
            if iszero(recovered) {
                mstore(0x00, unrecoverable)
                revert(0x00, 0x04)
            }
            if iszero(eq(recovered, signer)) {
                mstore(0x00, mismatch)
                revert(0x00, 0x04)
            }
        }
    }
}
