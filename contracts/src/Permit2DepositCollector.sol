// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

import {IDepositCollector} from "./interfaces/IDepositCollector.sol";
import {IPermit2SignatureTransfer} from "./interfaces/IPermit2SignatureTransfer.sol";

/// @title Permit2DepositCollector — deposits pulled through Permit2, for tokens without ERC-3009
/// @notice Interface-compatible with the canonical collector (0x4020425FAf3B746C082C2f942b4E5159887B0005): the payer
///         signs Permit2's PermitWitnessTransferFrom with this collector as spender and the channel as witness
///         (`DepositWitness(bytes32 channelId)`), having approved Permit2 for the token once. Permit2 sends the tokens
///         straight to the settlement contract.
/// @dev The witness binds a signature to one channel: the settlement contract passes the channel it credits, so a
///      signature cannot fund another. Like the ERC-3009 collector, the addresses it serves are immutables.
contract Permit2DepositCollector is IDepositCollector {
    /// @notice The only caller of `collect`: otherwise anyone could spend a payer's pending permit.
    address public immutable x402BatchSettlement;
    /// @notice Uniswap's Permit2, which moves the tokens.
    IPermit2SignatureTransfer public immutable PERMIT2;

    /// @notice The witness part of Permit2's type string: the witness field, then every type it references in
    ///         EIP-712 `encodeType` order (by name: DepositWitness before TokenPermissions), as wallets rebuild it.
    string public constant DEPOSIT_WITNESS_TYPE_STRING =
        "DepositWitness witness)DepositWitness(bytes32 channelId)TokenPermissions(address token,uint256 amount)";
    bytes32 public constant DEPOSIT_WITNESS_TYPEHASH = keccak256("DepositWitness(bytes32 channelId)");

    error OnlyX402BatchSettlement();
    error InvalidX402BatchSettlementAddress();
    error InvalidPermit2Address();
    /// @notice An EIP-2612 permit for another value than the deposit.
    error Permit2612AmountMismatch();

    /// @notice A failed EIP-2612 permit is reported, not fatal: see `_tryPermit`.
    event EIP2612PermitFailedWithReason(address indexed token, address indexed owner, string reason);
    event EIP2612PermitFailedWithPanic(address indexed token, address indexed owner, uint256 errorCode);
    event EIP2612PermitFailedWithData(address indexed token, address indexed owner, bytes data);

    constructor(address settlement, address permit2) {
        if (settlement == address(0)) revert InvalidX402BatchSettlementAddress();
        if (permit2 == address(0)) revert InvalidPermit2Address();
        x402BatchSettlement = settlement;
        PERMIT2 = IPermit2SignatureTransfer(permit2);
    }

    /// @param collectorData abi.encode(uint256 nonce, uint256 deadline, bytes signature, bytes eip2612PermitData);
    ///        eip2612PermitData is empty, or abi.encode(uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s):
    ///        the payer's EIP-2612 permit giving Permit2 its allowance, for a payer that has not approved it yet.
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData)
        external
    {
        if (msg.sender != x402BatchSettlement) revert OnlyX402BatchSettlement();
        (uint256 nonce, uint256 deadline, bytes memory signature, bytes memory eip2612PermitData) =
            abi.decode(collectorData, (uint256, uint256, bytes, bytes));
        if (eip2612PermitData.length != 0) _tryPermit(payer, token, amount, eip2612PermitData);
        PERMIT2.permitWitnessTransferFrom(
            IPermit2SignatureTransfer.PermitTransferFrom({
                permitted: IPermit2SignatureTransfer.TokenPermissions({token: token, amount: amount}),
                nonce: nonce,
                deadline: deadline
            }),
            IPermit2SignatureTransfer.SignatureTransferDetails({to: msg.sender, requestedAmount: amount}),
            payer,
            keccak256(abi.encode(DEPOSIT_WITNESS_TYPEHASH, channelId)),
            DEPOSIT_WITNESS_TYPE_STRING,
            signature
        );
    }

    /// @dev A permit that reverts (used already: anyone may submit a signed permit first) leaves the deposit to
    ///      Permit2's transfer, which reverts it only if the allowance is not there after all.
    function _tryPermit(address payer, address token, uint256 amount, bytes memory data) private {
        (uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s) =
            abi.decode(data, (uint256, uint256, uint8, bytes32, bytes32));
        if (value != amount) revert Permit2612AmountMismatch();
        try IERC20Permit(token).permit(payer, address(PERMIT2), value, deadline, v, r, s) {}
        catch Error(string memory reason) {
            emit EIP2612PermitFailedWithReason(token, payer, reason);
        } catch Panic(uint256 code) {
            emit EIP2612PermitFailedWithPanic(token, payer, code);
        } catch (bytes memory data_) {
            emit EIP2612PermitFailedWithData(token, payer, data_);
        }
    }
}
