#include "engine/client/withdrawal.hpp"

#include <ctime>

#include "channel/hex.hpp"

namespace paychan::engine::client {
namespace {

void note(const StepLog& log, const std::string& line) {
  if (log) log(line);
}

// The stored channel, checked to live on the chain the node serves.
Result<persistence::ClientChannel> channel_on(persistence::ClientStore& store, const ChannelChain& chain,
                                              const Bytes32& id) {
  PAYCHAN_ASSIGN(auto found, store.get(id));
  if (!found) return fail(ErrorCode::invalid_payload, "no channel " + to_hex(id) + " in the agent's store");
  if (found->network != chain.network())
    return fail(ErrorCode::invalid_network,
                "channel " + to_hex(id) + " is on " + found->network + ", the RPC node serves " + chain.network());
  return std::move(*found);
}

WithdrawalStatus status_of(const chain::PendingWithdrawal& p, const ChannelConfig& config, bool sent) {
  return WithdrawalStatus{p.amount, p.initiatedAt, p.initiatedAt + config.withdrawDelay, sent};
}

// Records a withdrawal pending on chain in the local channel.
Status record_pending(persistence::ClientStore& store, persistence::ClientChannel& ch, const evm::OnchainChannel& onchain) {
  ch.withdrawAmount = onchain.pendingWithdrawal.amount;
  ch.withdrawInitiatedAt = onchain.pendingWithdrawal.initiatedAt;
  ch.balance = onchain.balance;
  return store.put(ch);
}

}  // namespace

std::string utc_time(std::uint64_t unixSeconds) {
  const auto t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  char text[32] = "?";
  if (gmtime_r(&t, &tm) != nullptr) std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

Result<WithdrawalStatus> initiate_withdrawal(persistence::ClientStore& store, ChannelChain& chain,
                                             const Bytes32& channelId, const StepLog& log) {
  PAYCHAN_ASSIGN(auto ch, channel_on(store, chain, channelId));
  PAYCHAN_ASSIGN(const auto onchain, chain.read(channelId));
  if (onchain.pendingWithdrawal.initiatedAt != 0) {
    PAYCHAN_TRY(record_pending(store, ch, onchain));
    const auto status = status_of(onchain.pendingWithdrawal, ch.config, false);
    note(log, "a withdrawal of " + to_decimal(status.amount) + " is already pending; finalizable at " +
                  utc_time(status.finalizableAt));
    return status;
  }
  const Uint128 amount = onchain.unclaimed();
  if (amount == 0) {
    ch.balance = onchain.balance;
    ch.withdrawAmount = 0;  // an earlier attempt that never landed
    PAYCHAN_TRY(store.put(ch));
    return fail(ErrorCode::withdrawal_nothing_left, "channel " + to_hex(channelId) + " holds " + to_decimal(onchain.balance) +
                                                        ", all of it claimed by the provider: nothing to withdraw");
  }
  // On disk before the transaction leaves: from here on nothing is signed on this channel, even
  // if the answer is lost (the next call then finds the withdrawal pending, or sends it again).
  ch.withdrawAmount = amount;
  ch.withdrawInitiatedAt = 0;
  PAYCHAN_TRY(store.put(ch));
  note(log, "initiateWithdraw of " + to_decimal(amount) + " (everything unclaimed) from channel " + to_hex(channelId));
  PAYCHAN_ASSIGN(const auto receipt, chain.send(chain::initiate_withdraw_call(ch.config, amount)));
  note(log, "mined in block " + std::to_string(receipt.blockNumber) + ", transaction " + to_hex(receipt.transactionHash));
  PAYCHAN_ASSIGN(const auto after, chain.read(channelId));
  if (after.pendingWithdrawal.initiatedAt == 0)
    return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
                "initiateWithdraw was mined but the node shows no pending withdrawal");
  PAYCHAN_TRY(record_pending(store, ch, after));
  const auto status = status_of(after.pendingWithdrawal, ch.config, true);
  note(log, "withdrawal pending: finalizable at " + utc_time(status.finalizableAt) + " (withdrawDelay " +
                std::to_string(ch.config.withdrawDelay) + " s)");
  return status;
}

Result<FinalizedWithdrawal> finalize_withdrawal(persistence::ClientStore& store, ChannelChain& chain,
                                                const Bytes32& channelId, const StepLog& log) {
  PAYCHAN_ASSIGN(auto ch, channel_on(store, chain, channelId));
  PAYCHAN_ASSIGN(const auto onchain, chain.read(channelId));
  const auto& pending = onchain.pendingWithdrawal;
  if (pending.initiatedAt == 0) {
    const bool had = ch.withdrawAmount != 0;
    ch.balance = onchain.balance;
    ch.withdrawAmount = 0;
    ch.withdrawInitiatedAt = 0;
    if (had && onchain.unclaimed() == 0) ch.closed = true;  // finalized by an earlier run whose answer was lost
    PAYCHAN_TRY(store.put(ch));
    return fail(ErrorCode::withdrawal_not_pending,
                "no withdrawal of channel " + to_hex(channelId) + " is pending on chain (balance " +
                    to_decimal(onchain.balance) + ", claimed " + to_decimal(onchain.totalClaimed) + ")" +
                    (had ? "" : "; initiate one first"));
  }
  PAYCHAN_TRY(record_pending(store, ch, onchain));
  PAYCHAN_ASSIGN(const std::uint64_t now, chain.time());
  const std::uint64_t due = pending.initiatedAt + ch.config.withdrawDelay;
  if (now < due)
    return fail(ErrorCode::withdrawal_not_finalizable, "finalizable at " + utc_time(due) + ", in " +
                                                           std::to_string(due - now) + " s (chain time " +
                                                           utc_time(now) + ")");
  note(log, "finalizeWithdraw of channel " + to_hex(channelId) + " (" + to_decimal(onchain.unclaimed()) +
                " unclaimed, " + to_decimal(pending.amount) + " requested)");
  PAYCHAN_ASSIGN(const auto receipt, chain.send(chain::finalize_withdraw_call(ch.config)));
  PAYCHAN_ASSIGN(const auto after, chain.read(channelId));
  FinalizedWithdrawal out;
  out.paidOut = onchain.balance > after.balance ? onchain.balance - after.balance : 0;
  out.balance = after.balance;
  out.transaction = receipt.transactionHash;
  ch.balance = after.balance;
  ch.withdrawAmount = 0;
  ch.withdrawInitiatedAt = 0;
  ch.closed = after.unclaimed() == 0;
  PAYCHAN_TRY(store.put(ch));
  note(log, "withdrew " + to_decimal(out.paidOut) + " to the payer, transaction " + to_hex(receipt.transactionHash));
  return out;
}

}  // namespace paychan::engine::client
