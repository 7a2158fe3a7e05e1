// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ERC-3009 `receiveWithAuthorization` with a packed signature (the overload USDC v2.2 added)
/// @notice The `bytes` form lets the payer be an EOA (65-byte r‖s‖v) or an EIP-1271 contract wallet.
interface IERC3009ReceiveWithSignature {
    /// @dev Requires msg.sender == to; the authorization is an EIP-712 `ReceiveWithAuthorization` under the token's
    ///      domain, valid strictly between validAfter and validBefore, and its nonce is spent.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external;
}
