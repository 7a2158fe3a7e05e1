// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The part of Uniswap's Permit2 (SignatureTransfer) that a deposit collector calls
/// @notice Permit2 lives at 0x000000000022D473030F116dDEE9F6B43aC78BA3 on every chain; its EIP-712 domain is
///         {name: "Permit2", chainId, verifyingContract} (no version).
interface IPermit2SignatureTransfer {
    struct TokenPermissions {
        address token;
        uint256 amount;
    }

    struct PermitTransferFrom {
        TokenPermissions permitted;
        uint256 nonce;
        uint256 deadline;
    }

    struct SignatureTransferDetails {
        address to;
        uint256 requestedAmount;
    }

    /// @notice Moves `permit.permitted` from `owner` to `transferDetails.to` under `owner`'s signature of
    ///         PermitWitnessTransferFrom(permitted, spender = msg.sender, nonce, deadline, witness).
    function permitWitnessTransferFrom(
        PermitTransferFrom calldata permit,
        SignatureTransferDetails calldata transferDetails,
        address owner,
        bytes32 witness,
        string calldata witnessTypeString,
        bytes calldata signature
    ) external;
}
