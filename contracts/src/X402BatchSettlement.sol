// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {Panic} from "@openzeppelin/contracts/utils/Panic.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IDepositCollector} from "./interfaces/IDepositCollector.sol";
import {IX402BatchSettlement} from "./interfaces/IX402BatchSettlement.sol";
import {BatchSettlementHashing as H} from "./libraries/BatchSettlementHashing.sol";
import {VoucherClaimCalldata} from "./libraries/VoucherClaimCalldata.sol";

/// @title X402BatchSettlement — unidirectional payment channels for x402 `batch-settlement` on EVM
/// @notice paychan's implementation of the scheme's contract, ABI-compatible with the canonical
///         `x402BatchSettlement` (same functions, views, events, errors, EIP-712 domain and types, and rules).
///         A payer deposits into a channel through a collector; the receiver side claims cumulative vouchers in
///         batches (bookkeeping only) and `settle` sweeps claimed funds to the receiver in one transfer.
/// @dev No storage is written at construction and the EIP-712 domain is rebuilt whenever `address(this)` or the
///      chain id differ from the deployment's, so the runtime code works when copied to another address
///      (`anvil_setCode` onto the canonical 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003).
///      Needs EIP-1153 transient storage (the reentrancy lock): Cancun or later.
contract X402BatchSettlement is IX402BatchSettlement, EIP712, Multicall, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using VoucherClaimCalldata for VoucherClaim;

    uint40 public constant MIN_WITHDRAW_DELAY = 15 minutes;
    uint40 public constant MAX_WITHDRAW_DELAY = 30 days;

    bytes32 public constant CHANNEL_CONFIG_TYPEHASH = H.CHANNEL_CONFIG_TYPEHASH;
    bytes32 public constant VOUCHER_TYPEHASH = H.VOUCHER_TYPEHASH;
    bytes32 public constant REFUND_TYPEHASH = H.REFUND_TYPEHASH;
    bytes32 public constant CLAIM_ENTRY_TYPEHASH = H.CLAIM_ENTRY_TYPEHASH;
    bytes32 public constant CLAIM_BATCH_TYPEHASH = H.CLAIM_BATCH_TYPEHASH;

    mapping(bytes32 channelId => ChannelState) public channels;
    /// @dev Next nonce a signed `Refund` must carry; every executed refund (direct or signed) advances it.
    mapping(bytes32 channelId => uint256) public refundNonce;
    mapping(bytes32 channelId => WithdrawalState) public pendingWithdrawals;
    mapping(address receiver => mapping(address token => ReceiverState)) public receivers;

    /// @dev Claimed amounts of consecutive rows with the same (receiver, token), written to `receivers` once per
    ///      run instead of once per row: the final state is the same, and a 100-row batch to one receiver saves
    ///      99 storage round trips.
    struct ReceiverTally {
        address receiver;
        address token;
        uint256 pending;
    }

    constructor() EIP712("x402 Batch Settlement", "1") {}

    // ---------------------------------------------------------------- deposits

    /// @notice Deposits `amount` into the channel of `config`, pulled from the payer by `collector`.
    /// @dev The collector's pull is checked by this contract's token balance growing by exactly `amount`.
    function deposit(ChannelConfig calldata config, uint128 amount, address collector, bytes calldata collectorData)
        external
        nonReentrant
    {
        if (
            config.payer == address(0) || config.receiver == address(0) || config.receiverAuthorizer == address(0)
                || config.token == address(0)
        ) revert InvalidChannel();
        if (config.withdrawDelay < MIN_WITHDRAW_DELAY || config.withdrawDelay > MAX_WITHDRAW_DELAY) {
            revert WithdrawDelayOutOfRange();
        }
        if (amount == 0) revert ZeroDeposit();
        if (collector == address(0)) revert InvalidCollector();

        bytes32 channelId = _channelId(config, _domainSeparatorV4());
        ChannelState storage ch = channels[channelId];
        uint128 balance = ch.balance;
        if (amount > type(uint128).max - balance) revert DepositOverflow();
        balance += amount;
        ch.balance = balance;

        IERC20 token = IERC20(config.token);
        uint256 held = token.balanceOf(address(this));
        IDepositCollector(collector).collect(config.payer, config.token, amount, channelId, collectorData);
        if (token.balanceOf(address(this)) != held + amount) revert DepositCollectionFailed();

        if (balance == amount && ch.totalClaimed == 0) emit ChannelCreated(channelId, config);
        emit Deposited(channelId, msg.sender, amount, balance);
    }

    // ---------------------------------------------------------------- claims and settlement

    /// @notice Claims vouchers; `msg.sender` must be the receiver or receiverAuthorizer of every row's channel.
    function claim(VoucherClaim[] calldata voucherClaims) external nonReentrant {
        uint256 n = voucherClaims.length;
        if (n == 0) revert EmptyBatch();
        bytes32 ds = _domainSeparatorV4();
        ReceiverTally memory tally;
        for (uint256 i = 0; i < n; ++i) {
            VoucherClaim calldata row = VoucherClaimCalldata.rowAt(voucherClaims, i);
            ChannelConfig calldata c = row.voucher.channel;
            if (msg.sender != c.receiverAuthorizer && msg.sender != c.receiver) revert NotAuthorizedToClaim();
            _applyClaim(row, _channelId(c, ds), ds, tally);
        }
        _flush(tally);
    }

    /// @notice Claims vouchers under a `ClaimBatch` signature of the receiverAuthorizer shared by every row;
    ///         anyone may submit it.
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature)
        external
        nonReentrant
    {
        uint256 n = voucherClaims.length;
        if (n == 0) revert EmptyBatch();
        bytes32 ds = _domainSeparatorV4();
        (bytes32 digest, bytes32[] memory ids) = _claimBatchDigest(voucherClaims, ds);
        address authorizer = voucherClaims[0].voucher.channel.receiverAuthorizer;
        if (!SignatureChecker.isValidSignatureNowCalldata(authorizer, digest, authorizerSignature)) {
            revert InvalidSignature();
        }
        ReceiverTally memory tally;
        for (uint256 i = 0; i < n; ++i) {
            VoucherClaim calldata row = VoucherClaimCalldata.rowAt(voucherClaims, i);
            if (row.receiverAuthorizerOf() != authorizer) revert NotReceiverAuthorizer();
            _applyClaim(row, ids[i], ds, tally);
        }
        _flush(tally);
    }

    /// @notice Transfers everything claimed but not yet settled for (receiver, token) to the receiver.
    function settle(address receiver, address token) external nonReentrant {
        ReceiverState storage rs = receivers[receiver][token];
        uint128 amount = rs.totalClaimed - rs.totalSettled;
        if (amount == 0) return;
        rs.totalSettled = rs.totalClaimed;
        IERC20(token).safeTransfer(receiver, amount);
        emit Settled(receiver, token, msg.sender, amount);
    }

    // ---------------------------------------------------------------- timed withdrawal

    /// @notice Starts the payer's timed withdrawal of at most the unclaimed escrow.
    function initiateWithdraw(ChannelConfig calldata config, uint128 amount) external nonReentrant {
        if (msg.sender != config.payer && msg.sender != config.payerAuthorizer) revert InvalidChannel();
        if (amount == 0) revert NothingToWithdraw();
        bytes32 channelId = _channelId(config, _domainSeparatorV4());
        WithdrawalState storage ws = pendingWithdrawals[channelId];
        if (ws.initiatedAt != 0) revert WithdrawalAlreadyPending();
        ChannelState storage ch = channels[channelId];
        if (amount > ch.balance - ch.totalClaimed) revert WithdrawAmountExceedsAvailable();

        ws.amount = amount;
        ws.initiatedAt = uint40(block.timestamp);
        emit WithdrawInitiated(channelId, amount, uint40(block.timestamp) + config.withdrawDelay);
    }

    /// @notice Completes a timed withdrawal once the delay has passed, capped to what is still unclaimed.
    function finalizeWithdraw(ChannelConfig calldata config) external nonReentrant {
        if (msg.sender != config.payer && msg.sender != config.payerAuthorizer) {
            revert NotAuthorizedToFinalizeWithdraw();
        }
        bytes32 channelId = _channelId(config, _domainSeparatorV4());
        WithdrawalState storage ws = pendingWithdrawals[channelId];
        if (ws.initiatedAt == 0) revert WithdrawalNotPending();
        if (block.timestamp < uint256(ws.initiatedAt) + config.withdrawDelay) revert WithdrawDelayNotElapsed();

        ChannelState storage ch = channels[channelId];
        uint128 available = ch.balance - ch.totalClaimed;
        uint128 amount = ws.amount < available ? ws.amount : available;
        delete pendingWithdrawals[channelId];
        ch.balance -= amount;

        emit WithdrawFinalized(channelId, msg.sender, amount);
        if (ch.balance == 0 && ch.totalClaimed == 0) emit ChannelClosed(channelId, config);
        if (amount > 0) IERC20(config.token).safeTransfer(config.payer, amount);
    }

    // ---------------------------------------------------------------- cooperative refund

    /// @notice Refunds up to `amount` of unclaimed escrow to the payer; called by the receiver or receiverAuthorizer.
    function refund(ChannelConfig calldata config, uint128 amount) external nonReentrant {
        if (msg.sender != config.receiverAuthorizer && msg.sender != config.receiver) revert NotAuthorizedToRefund();
        bytes32 ds = _domainSeparatorV4();
        _executeRefund(config, _channelId(config, ds), amount);
    }

    /// @notice Refunds under a receiverAuthorizer `Refund` signature for the channel's current nonce; anyone may
    ///         submit it.
    function refundWithSignature(
        ChannelConfig calldata config,
        uint128 amount,
        uint256 nonce,
        bytes calldata receiverAuthorizerSignature
    ) external nonReentrant {
        bytes32 ds = _domainSeparatorV4();
        bytes32 channelId = _channelId(config, ds);
        if (nonce != refundNonce[channelId]) revert InvalidRefundNonce();
        bytes32 digest = H.typedDataHash(ds, H.hashRefund(channelId, nonce, amount));
        if (!SignatureChecker.isValidSignatureNowCalldata(config.receiverAuthorizer, digest, receiverAuthorizerSignature))
        {
            revert InvalidSignature();
        }
        _executeRefund(config, channelId, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice The channel id: the EIP-712 hash of `config` under this contract's domain.
    function getChannelId(ChannelConfig calldata config) external view returns (bytes32) {
        return _channelId(config, _domainSeparatorV4());
    }

    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) external view returns (bytes32) {
        return H.typedDataHash(_domainSeparatorV4(), H.hashVoucher(channelId, maxClaimableAmount));
    }

    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) external view returns (bytes32) {
        return H.typedDataHash(_domainSeparatorV4(), H.hashRefund(channelId, nonce, amount));
    }

    /// @notice The digest a receiverAuthorizer signs for `claimWithSignature` (defined for an empty batch too).
    function getClaimBatchDigest(VoucherClaim[] calldata voucherClaims) external view returns (bytes32 digest) {
        (digest,) = _claimBatchDigest(voucherClaims, _domainSeparatorV4());
    }

    // ---------------------------------------------------------------- internals

    function _channelId(ChannelConfig calldata config, bytes32 ds) private pure returns (bytes32) {
        return H.typedDataHash(ds, H.hashChannelConfig(config));
    }

    /// @return digest the `ClaimBatch` digest of `rows`
    /// @return ids each row's channel id, kept so the claim loop does not hash the configs a second time
    function _claimBatchDigest(VoucherClaim[] calldata rows, bytes32 ds)
        private
        pure
        returns (bytes32 digest, bytes32[] memory ids)
    {
        uint256 n = rows.length;
        ids = new bytes32[](n);
        bytes32[] memory entries = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            VoucherClaim calldata row = VoucherClaimCalldata.rowAt(rows, i);
            bytes32 id = _channelId(row.voucher.channel, ds);
            (uint256 maxClaimableAmount, uint256 totalClaimed) = row.amounts();
            ids[i] = id;
            entries[i] = H.hashClaimEntry(id, maxClaimableAmount, totalClaimed);
        }
        digest = H.typedDataHash(ds, H.hashClaimBatch(entries));
    }

    /// @dev One row: a cumulative total at or below what is already claimed is a no-op (replay protection);
    ///      otherwise it must fit the voucher's ceiling and the channel's balance, and carry the payer's signature.
    function _applyClaim(VoucherClaim calldata row, bytes32 channelId, bytes32 ds, ReceiverTally memory tally)
        private
    {
        (uint256 maxClaimableAmount, uint256 total) = row.amounts();
        ChannelState storage ch = channels[channelId];
        uint256 state; // ChannelState packed: balance in the low 128 bits, totalClaimed in the high 128
        assembly ("memory-safe") {
            state := sload(ch.slot)
        }
        uint256 claimed = state >> 128;
        if (total <= claimed) return;
        if (total > maxClaimableAmount) revert ClaimExceedsCeiling();
        if (total > uint128(state)) revert ClaimExceedsBalance();
        _checkVoucherSignature(row, H.typedDataHash(ds, H.hashVoucher(channelId, maxClaimableAmount)), tally);

        (address receiver, address token) = row.receiverAndToken();
        if (receiver != tally.receiver || token != tally.token) {
            _flush(tally);
            tally.receiver = receiver;
            tally.token = token;
        }
        uint256 delta = total - claimed;
        tally.pending += delta;
        bytes32 claimedTopic = Claimed.selector;
        assembly ("memory-safe") {
            sstore(ch.slot, or(shl(128, total), and(state, 0xffffffffffffffffffffffffffffffff)))
            // emit Claimed(channelId, msg.sender, delta, total)
            mstore(0x00, delta)
            mstore(0x20, total)
            log3(0x00, 0x40, claimedTopic, channelId, caller())
        }
    }

    /// @dev ECDSA against a non-zero payerAuthorizer (malformed signatures revert with OpenZeppelin's ECDSA
    ///      errors), else SignatureChecker against the payer (EIP-1271 for contract wallets).
    function _checkVoucherSignature(VoucherClaim calldata row, bytes32 digest, ReceiverTally memory tally) private {
        address payerAuthorizer = row.voucher.channel.payerAuthorizer;
        if (payerAuthorizer != address(0)) {
            VoucherClaimCalldata.requireSigner(row.signatureOf(), digest, payerAuthorizer, InvalidSignature.selector);
        } else {
            // The wallet's isValidSignature may read `receivers`: let it see every earlier row applied.
            _flush(tally);
            if (!SignatureChecker.isValidSignatureNowCalldata(row.voucher.channel.payer, digest, row.signatureOf())) {
                revert InvalidSignature();
            }
        }
    }

    /// @dev Adds the tallied claims to `receivers` (reverting with the arithmetic panic past uint128, as a
    ///      per-row checked addition would).
    function _flush(ReceiverTally memory tally) private {
        if (tally.pending == 0) return;
        ReceiverState storage rs = receivers[tally.receiver][tally.token];
        uint256 claimed = rs.totalClaimed + tally.pending;
        if (claimed > type(uint128).max) Panic.panic(Panic.UNDER_OVERFLOW);
        rs.totalClaimed = uint128(claimed);
        tally.pending = 0;
    }

    /// @dev Advances the refund nonce first (even when nothing is left to refund), then refunds at most the
    ///      unclaimed escrow, shrinking or cancelling a pending withdrawal by what was refunded.
    function _executeRefund(ChannelConfig calldata config, bytes32 channelId, uint128 amount) private {
        if (amount == 0) revert ZeroRefund();
        unchecked {
            ++refundNonce[channelId];
        }
        ChannelState storage ch = channels[channelId];
        uint128 available = ch.balance - ch.totalClaimed;
        uint128 refunded = amount < available ? amount : available;
        if (refunded == 0) return;
        ch.balance -= refunded;

        WithdrawalState storage ws = pendingWithdrawals[channelId];
        if (ws.initiatedAt != 0) {
            if (refunded >= ws.amount) delete pendingWithdrawals[channelId];
            else ws.amount -= refunded;
        }

        emit Refunded(channelId, msg.sender, refunded);
        if (ch.balance == 0 && ch.totalClaimed == 0) emit ChannelClosed(channelId, config);
        IERC20(config.token).safeTransfer(config.payer, refunded);
    }
}
