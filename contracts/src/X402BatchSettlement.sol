// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IDepositCollector} from "./interfaces/IDepositCollector.sol";
import {IX402BatchSettlement} from "./interfaces/IX402BatchSettlement.sol";
import {BatchSettlementHashing as H} from "./libraries/BatchSettlementHashing.sol";

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
        if (voucherClaims.length == 0) revert EmptyBatch();
        bytes32 ds = _domainSeparatorV4();
        (bytes32[] memory ids,) = _hashRows(voucherClaims, ds, false);
        _applyClaims(voucherClaims, ids, ds, address(0));
    }

    /// @notice Claims vouchers under a `ClaimBatch` signature of the receiverAuthorizer shared by every row;
    ///         anyone may submit it.
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature)
        external
        nonReentrant
    {
        if (voucherClaims.length == 0) revert EmptyBatch();
        bytes32 ds = _domainSeparatorV4();
        (bytes32[] memory ids, bytes32 digest) = _hashRows(voucherClaims, ds, true);
        address authorizer = voucherClaims[0].voucher.channel.receiverAuthorizer;
        // Never true for authorizer == 0 (nothing recovers to the zero address), which _applyClaims reads as `claim`.
        if (!SignatureChecker.isValidSignatureNowCalldata(authorizer, digest, authorizerSignature)) {
            revert InvalidSignature();
        }
        _applyClaims(voucherClaims, ids, ds, authorizer);
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
        (, digest) = _hashRows(voucherClaims, _domainSeparatorV4(), true);
    }

    // ---------------------------------------------------------------- internals

    function _channelId(ChannelConfig calldata config, bytes32 ds) private pure returns (bytes32) {
        return H.typedDataHash(ds, H.hashChannelConfig(config));
    }

    /// @return ids each row's channel id (the claim loop needs them after the batch signature check)
    /// @return digest the `ClaimBatch` digest of `rows`, if `withDigest`
    /// @dev Hand-written for gas like _applyClaims, reading the calldata layout described there. Each channel id is
    ///      _channelId's (hashChannelConfig, with its check of every config word), each entry hash
    ///      keccak256(abi.encode(CLAIM_ENTRY_TYPEHASH, id, maxClaimableAmount, totalClaimed));
    ///      tests/contracts/vectors.test.mjs pins getChannelId and getClaimBatchDigest to the same known answers.
    function _hashRows(VoucherClaim[] calldata rows, bytes32 ds, bool withDigest)
        private
        pure
        returns (bytes32[] memory ids, bytes32 digest)
    {
        ids = new bytes32[](rows.length);
        bytes32 configTypeHash = H.CHANNEL_CONFIG_TYPEHASH;
        bytes32 entryTypeHash = H.CLAIM_ENTRY_TYPEHASH;
        bytes32 entriesRoot;
        assembly ("memory-safe") {
            // Free memory, never allocated: the entry hashes (one word per row), then a frame of hash inputs:
            //   0x000 CHANNEL_CONFIG_TYPEHASH | 0x020..0x100 the config's 7 words   (config struct hash input)
            //   0x100 0x1901 | 0x120 domain separator | 0x140 config struct hash    (EIP-712 digest input)
            //   0x160 CLAIM_ENTRY_TYPEHASH | 0x180 id | 0x1a0 maxClaimable | 0x1c0 totalClaimed   (entry input)
            let entries := mload(0x40)
            let frame := add(entries, shl(5, rows.length))
            mstore(frame, configTypeHash)
            mstore(add(frame, 0x100), 0x1901)
            mstore(add(frame, 0x120), ds)
            mstore(add(frame, 0x160), entryTypeHash)
            for { let i := 0 } lt(i, rows.length) { i := add(i, 1) } {
                let row := calldataload(add(rows.offset, shl(5, i)))
                if gt(row, 0xffffffffffffffff) { revert(0, 0) }
                row := add(rows.offset, row)
                if gt(add(row, 0x140), calldatasize()) { revert(0, 0) }
                calldatacopy(add(frame, 0x20), row, 0xe0)
                // Bits beyond a field's type (address: 160, withdrawDelay: 40) are rejected like the ABI decoder.
                let dirty := or(shr(160, mload(add(frame, 0x20))), shr(160, mload(add(frame, 0x40))))
                dirty := or(dirty, or(shr(160, mload(add(frame, 0x60))), shr(160, mload(add(frame, 0x80)))))
                dirty := or(dirty, or(shr(160, mload(add(frame, 0xa0))), shr(40, mload(add(frame, 0xc0)))))
                if dirty { revert(0, 0) }
                mstore(add(frame, 0x140), keccak256(frame, 0x100))
                let id := keccak256(add(frame, 0x11e), 0x42)
                mstore(add(ids, shl(5, add(i, 1))), id)
                if withDigest {
                    let maxClaimable := calldataload(add(row, 0xe0))
                    let total := calldataload(add(row, 0x120))
                    if or(shr(128, maxClaimable), shr(128, total)) { revert(0, 0) }
                    mstore(add(frame, 0x180), id)
                    mstore(add(frame, 0x1a0), maxClaimable)
                    mstore(add(frame, 0x1c0), total)
                    mstore(add(entries, shl(5, i)), keccak256(add(frame, 0x160), 0x80))
                }
            }
            if withDigest { entriesRoot := keccak256(entries, shl(5, rows.length)) }
        }
        if (withDigest) digest = H.typedDataHash(ds, H.hashClaimBatch(entriesRoot));
    }

    /// @dev Applies the rows, in order, under the rules of `claim` (authorizer == 0: the sender must be each row's
    ///      receiver or receiverAuthorizer) or of `claimWithSignature` (every row's receiverAuthorizer must be
    ///      `authorizer`). Per row: a cumulative total at or below the claimed one is a no-op (replay protection);
    ///      otherwise it must fit the voucher's ceiling and the channel's balance and carry the payer side's
    ///      signature; then totalClaimed is raised and `Claimed` emitted.
    ///
    ///      A row is ABI-encoded as: 0x000 channel config (7 words: payer, payerAuthorizer, receiver,
    ///      receiverAuthorizer, token, withdrawDelay, salt) | 0x0e0 maxClaimableAmount | 0x100 offset of `signature`
    ///      from the row's start | 0x120 totalClaimed, the signature (length word, bytes) behind; `rows.offset`
    ///      points at the rows' offsets. Offsets are checked to stay inside calldata, as the ABI decoder does.
    ///
    ///      Hand-written for gas (the hot path of a 100-channel batch): rows are read from calldata once (every
    ///      config word was checked when `ids` were hashed; amounts and offsets are checked here), and claims of
    ///      consecutive rows with the same (receiver, token) are added to `receivers` once per run instead of once
    ///      per row — the same final state, and the same arithmetic panic past uint128. Before an EIP-1271 call
    ///      the pending sum is written, so a wallet reading `receivers` sees what the row-by-row canonical shows.
    ///      The voucher digest is getVoucherDigest's (BatchSettlementHashing), the ECDSA checks and errors
    ///      OpenZeppelin's ECDSA.recoverCalldata's, the EIP-1271 fallback SignatureChecker's.
    function _applyClaims(VoucherClaim[] calldata rows, bytes32[] memory ids, bytes32 ds, address authorizer) private {
        bytes32 voucherTypeHash = H.VOUCHER_TYPEHASH;
        assembly ("memory-safe") {
            // Error selectors (the revert tests decode each one by name against the ABI).
            function fail(selector) {
                mstore(0x00, shl(224, selector))
                revert(0x00, 0x04)
            }
            function failWith(selector, argument) {
                mstore(0x00, shl(224, selector))
                mstore(0x04, argument)
                revert(0x00, 0x24)
            }
            // Adds the tally's pending sum to receivers[receiver][token].totalClaimed (low 128 bits of the slot).
            function flush(frame, receiversSlot) {
                let pending := mload(add(frame, 0x40))
                if pending {
                    mstore(0x00, mload(frame))
                    mstore(0x20, receiversSlot)
                    mstore(0x20, keccak256(0x00, 0x40))
                    mstore(0x00, mload(add(frame, 0x20)))
                    let slot := keccak256(0x00, 0x40)
                    let state := sload(slot)
                    let claimed := add(and(state, 0xffffffffffffffffffffffffffffffff), pending)
                    if shr(128, claimed) { failWith(0x4e487b71, 0x11) } // Panic(arithmetic overflow)
                    sstore(slot, or(and(state, not(0xffffffffffffffffffffffffffffffff)), claimed))
                    mstore(add(frame, 0x40), 0)
                }
            }
            // ecrecover of a 65-byte r‖s‖v calldata signature whose s is given; 0 when nothing is recovered.
            function ecrecover65(scratch, digest, sig, s) -> signer {
                mstore(scratch, digest)
                mstore(add(scratch, 0x20), byte(0, calldataload(add(sig, 0x40))))
                mstore(add(scratch, 0x40), calldataload(sig))
                mstore(add(scratch, 0x60), s)
                mstore(0x00, 0)
                pop(staticcall(gas(), 0x01, scratch, 0x80, 0x00, 0x20))
                signer := mload(0x00)
            }
            // SignatureChecker.isValidSignatureNow(signer, digest, sig[0:length]): ECDSA for an account without
            // code, else EIP-1271 isValidSignature(bytes32,bytes) returning its selector.
            function isValidSignatureNow(scratch, signer, digest, sig, length) -> valid {
                switch extcodesize(signer)
                case 0 {
                    let s := calldataload(add(sig, 0x20))
                    if and(eq(length, 65), iszero(gt(s, 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0))) {
                        let recovered := ecrecover65(scratch, digest, sig, s)
                        valid := and(iszero(iszero(recovered)), eq(recovered, signer))
                    }
                }
                default {
                    let selector := shl(224, 0x1626ba7e)
                    mstore(scratch, selector)
                    mstore(add(scratch, 0x04), digest)
                    mstore(add(scratch, 0x24), 0x40)
                    mstore(add(scratch, 0x44), length)
                    calldatacopy(add(scratch, 0x64), sig, length)
                    mstore(add(add(scratch, 0x64), length), 0)
                    let size := add(0x64, and(add(length, 0x1f), not(0x1f)))
                    let ok := staticcall(gas(), signer, scratch, size, 0x00, 0x20)
                    valid := and(ok, and(gt(returndatasize(), 0x1f), eq(mload(0x00), selector)))
                }
            }

            // A frame in free memory (never allocated: nothing else runs meanwhile) keeps the loop's state off the
            // stack:  0x00 tally receiver | 0x20 tally token | 0x40 tally pending
            //         0x60 0x1901 | 0x80 domain separator | 0xa0 voucher struct hash   (EIP-712 digest input)
            //         0xc0 VOUCHER_TYPEHASH | 0xe0 channel id | 0x100 maxClaimableAmount (voucher struct input)
            //         0x120... scratch for the signature checks
            let frame := mload(0x40)
            mstore(frame, 0)
            mstore(add(frame, 0x20), 0)
            mstore(add(frame, 0x40), 0)
            mstore(add(frame, 0x60), 0x1901)
            mstore(add(frame, 0x80), ds)
            mstore(add(frame, 0xc0), voucherTypeHash)
            let scratch := add(frame, 0x120)

            for { let i := 0 } lt(i, rows.length) { i := add(i, 1) } {
                let row := calldataload(add(rows.offset, shl(5, i)))
                if gt(row, 0xffffffffffffffff) { revert(0, 0) }
                row := add(rows.offset, row)
                if gt(add(row, 0x140), calldatasize()) { revert(0, 0) }
                switch authorizer
                case 0 {
                    if iszero(or(eq(caller(), calldataload(add(row, 0x60))), eq(caller(), calldataload(add(row, 0x40))))) {
                        fail(0xdefb7069) // NotAuthorizedToClaim()
                    }
                }
                default {
                    if iszero(eq(calldataload(add(row, 0x60)), authorizer)) { fail(0xf5e2237d) } // NotReceiverAuthorizer()
                }
                let total := calldataload(add(row, 0x120))
                let maxClaimable := calldataload(add(row, 0xe0))
                if or(shr(128, maxClaimable), shr(128, total)) { revert(0, 0) }
                let id := mload(add(ids, shl(5, add(i, 1))))
                mstore(0x00, id)
                mstore(0x20, channels.slot)
                let slot := keccak256(0x00, 0x40)
                let state := sload(slot) // ChannelState: balance in the low 128 bits, totalClaimed in the high 128
                if gt(total, shr(128, state)) {
                    if gt(total, maxClaimable) { fail(0xf1789775) } // ClaimExceedsCeiling()
                    if gt(total, and(state, 0xffffffffffffffffffffffffffffffff)) { fail(0x7d8242b6) } // ClaimExceedsBalance()

                    // getVoucherDigest(id, maxClaimable)
                    mstore(add(frame, 0xe0), id)
                    mstore(add(frame, 0x100), maxClaimable)
                    mstore(add(frame, 0xa0), keccak256(add(frame, 0xc0), 0x60))
                    let digest := keccak256(add(frame, 0x7e), 0x42)

                    let sig := calldataload(add(row, 0x100))
                    if gt(sig, 0xffffffffffffffff) { revert(0, 0) }
                    sig := add(row, sig)
                    let length := calldataload(sig)
                    sig := add(sig, 0x20)
                    if or(gt(length, 0xffffffffffffffff), gt(add(sig, length), calldatasize())) { revert(0, 0) }
                    let payerAuthorizer := calldataload(add(row, 0x20))
                    switch payerAuthorizer
                    case 0 {
                        flush(frame, receivers.slot)
                        if iszero(isValidSignatureNow(scratch, calldataload(row), digest, sig, length)) {
                            fail(0x8baa579f) // InvalidSignature()
                        }
                    }
                    default {
                        if iszero(eq(length, 65)) { failWith(0xfce698f7, length) } // ECDSAInvalidSignatureLength
                        let s := calldataload(add(sig, 0x20))
                        if gt(s, 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) {
                            failWith(0xd78bce0c, s) // ECDSAInvalidSignatureS
                        }
                        let recovered := ecrecover65(scratch, digest, sig, s)
                        if iszero(recovered) { fail(0xf645eedf) } // ECDSAInvalidSignature()
                        if iszero(eq(recovered, payerAuthorizer)) { fail(0x8baa579f) } // InvalidSignature()
                    }

                    let receiver := calldataload(add(row, 0x40))
                    let token := calldataload(add(row, 0x80))
                    if iszero(and(eq(receiver, mload(frame)), eq(token, mload(add(frame, 0x20))))) {
                        flush(frame, receivers.slot)
                        mstore(frame, receiver)
                        mstore(add(frame, 0x20), token)
                    }
                    let delta := sub(total, shr(128, state))
                    mstore(add(frame, 0x40), add(mload(add(frame, 0x40)), delta))
                    sstore(slot, or(shl(128, total), and(state, 0xffffffffffffffffffffffffffffffff)))
                    mstore(0x00, delta)
                    mstore(0x20, total)
                    // Claimed(bytes32 indexed channelId, address indexed sender, uint128 claimAmount, uint128 newTotalClaimed)
                    log3(0x00, 0x40, 0x36bd546bb573e8921fdbfd934bbed62d872796b01792cd240cce27f79dd3eddd, id, caller())
                }
            }
            flush(frame, receivers.slot)
        }
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
