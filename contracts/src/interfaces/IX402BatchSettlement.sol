// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The published face of the x402 `batch-settlement` contract on EVM
/// @notice Types, events, errors and functions whose ABI the reference SDK (@x402/evm) and facilitators call.
///         Every selector, event topic and error selector here equals the canonical `x402BatchSettlement`'s;
///         tests/contracts/abi_compat.test.mjs checks that against the reference SDK's own ABI.
interface IX402BatchSettlement {
    /// @notice A channel's immutable configuration; its EIP-712 hash is the channel id.
    struct ChannelConfig {
        address payer;
        address payerAuthorizer; // voucher signer (EOA); zero means vouchers are checked against `payer` (EIP-1271)
        address receiver;
        address receiverAuthorizer; // signs claim batches and refunds
        address token;
        uint40 withdrawDelay; // seconds, MIN_WITHDRAW_DELAY..MAX_WITHDRAW_DELAY
        bytes32 salt;
    }

    struct ChannelState {
        uint128 balance;
        uint128 totalClaimed;
    }

    struct WithdrawalState {
        uint128 amount;
        uint40 initiatedAt; // zero when no withdrawal is pending
    }

    struct ReceiverState {
        uint128 totalClaimed;
        uint128 totalSettled;
    }

    struct Voucher {
        ChannelConfig channel;
        uint128 maxClaimableAmount;
    }

    /// @notice A payer-signed voucher and the cumulative total the receiver side claims with it.
    struct VoucherClaim {
        Voucher voucher;
        bytes signature;
        uint128 totalClaimed;
    }

    event ChannelCreated(bytes32 indexed channelId, ChannelConfig config);
    event ChannelClosed(bytes32 indexed channelId, ChannelConfig config);
    event Deposited(bytes32 indexed channelId, address indexed sender, uint128 amount, uint128 newBalance);
    event Claimed(bytes32 indexed channelId, address indexed sender, uint128 claimAmount, uint128 newTotalClaimed);
    event Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount);
    event Refunded(bytes32 indexed channelId, address indexed sender, uint128 amount);
    event WithdrawInitiated(bytes32 indexed channelId, uint128 amount, uint40 finalizeAfter);
    event WithdrawFinalized(bytes32 indexed channelId, address indexed sender, uint128 amount);

    error InvalidChannel();
    error ZeroDeposit();
    error DepositOverflow();
    error InvalidSignature();
    error NotReceiverAuthorizer();
    error NotAuthorizedToClaim();
    error NotAuthorizedToRefund();
    error ClaimExceedsCeiling();
    error ClaimExceedsBalance();
    error WithdrawalAlreadyPending();
    error WithdrawalNotPending();
    error NotAuthorizedToFinalizeWithdraw();
    error WithdrawDelayNotElapsed();
    error NothingToWithdraw();
    error WithdrawAmountExceedsAvailable();
    error WithdrawDelayOutOfRange();
    error EmptyBatch();
    error DepositCollectionFailed();
    error InvalidCollector();
    error InvalidRefundNonce();
    error ZeroRefund();
    /// @dev OpenZeppelin ECDSA's errors, which the canonical contract raises for a malformed voucher signature.
    error ECDSAInvalidSignature();
    error ECDSAInvalidSignatureLength(uint256 length);
    error ECDSAInvalidSignatureS(bytes32 s);

    function deposit(ChannelConfig calldata config, uint128 amount, address collector, bytes calldata collectorData)
        external;
    function claim(VoucherClaim[] calldata voucherClaims) external;
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature) external;
    function settle(address receiver, address token) external;
    function initiateWithdraw(ChannelConfig calldata config, uint128 amount) external;
    function finalizeWithdraw(ChannelConfig calldata config) external;
    function refund(ChannelConfig calldata config, uint128 amount) external;
    function refundWithSignature(
        ChannelConfig calldata config,
        uint128 amount,
        uint256 nonce,
        bytes calldata receiverAuthorizerSignature
    ) external;

    function getChannelId(ChannelConfig calldata config) external view returns (bytes32);
    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) external view returns (bytes32);
    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) external view returns (bytes32);
    function getClaimBatchDigest(VoucherClaim[] calldata voucherClaims) external view returns (bytes32);
}
