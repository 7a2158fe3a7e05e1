// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IDepositCollector} from "./interfaces/IDepositCollector.sol";
import {IERC3009ReceiveWithSignature} from "./interfaces/IERC3009ReceiveWithSignature.sol";

/// @title ERC3009DepositCollector — deposits pulled with the payer's ERC-3009 `ReceiveWithAuthorization`
/// @notice Interface-compatible with the canonical collector (0x4020806089470a89826cB9fB1f4059150b550004).
///         ERC-3009 `receiveWithAuthorization` pays only its caller, so the tokens land here and are forwarded to
///         the settlement contract within the same call.
/// @dev The authorization's nonce is keccak256(abi.encode(channelId, salt)): a signature funds one channel only.
///      The settlement address is an immutable (part of the runtime code), so this code keeps working when copied
///      to another address as long as it was deployed with the settlement address it will serve.
contract ERC3009DepositCollector is IDepositCollector {
    using SafeERC20 for IERC20;

    /// @notice The only caller of `collect`: otherwise anyone could spend a payer's pending authorization.
    address public immutable x402BatchSettlement;

    error OnlyX402BatchSettlement();
    error InvalidX402BatchSettlementAddress();

    constructor(address settlement) {
        if (settlement == address(0)) revert InvalidX402BatchSettlementAddress();
        x402BatchSettlement = settlement;
    }

    /// @param collectorData abi.encode(uint256 validAfter, uint256 validBefore, uint256 salt, bytes signature)
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData)
        external
    {
        if (msg.sender != x402BatchSettlement) revert OnlyX402BatchSettlement();
        (uint256 validAfter, uint256 validBefore, uint256 salt, bytes memory signature) =
            abi.decode(collectorData, (uint256, uint256, uint256, bytes));
        bytes32 nonce = keccak256(abi.encode(channelId, salt));
        IERC3009ReceiveWithSignature(token).receiveWithAuthorization(
            payer, address(this), amount, validAfter, validBefore, nonce, signature
        );
        IERC20(token).safeTransfer(msg.sender, amount);
    }
}
