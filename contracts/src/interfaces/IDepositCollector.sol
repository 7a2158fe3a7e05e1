// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title A deposit collector: pulls a payer's tokens into the batch-settlement contract
/// @notice The settlement contract calls `collect` during `deposit` and then checks that its own token balance grew
///         by exactly `amount`; how the pull is authorized (ERC-3009, Permit2, ...) is the collector's business.
interface IDepositCollector {
    /// @param payer the owner of the tokens
    /// @param token the ERC-20 to pull
    /// @param amount exactly what must arrive at the caller (the settlement contract)
    /// @param channelId the channel being funded; collectors bind their authorization to it
    /// @param collectorData collector-specific authorization (signatures, nonces, deadlines)
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData)
        external;
}
