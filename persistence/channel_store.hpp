// The gate's durable channel store: one SQLite file in WAL mode.
//
// Durability by group commit: commit() hands a ChannelState to one writer thread, which writes every
// waiting state in one transaction and one fsync (synchronous=FULL), then completes each caller.
// A caller learns "durable" only after that fsync, so a PAYMENT-RESPONSE sent after it survives a
// crash; many concurrent requests share one fsync (~240 µs here) instead of paying one each.
// The writer wakes when a caller flushes (commit() does at once; the gate once per pass of each I/O
// thread, and mid-pass once in a long one), so a batch holds a pass's requests, or half of them
// (and whatever other threads queued meanwhile), and its fsync runs while the next are verified.
// The queue is bounded: past `max_pending`, enqueue() and commit() wait (back-pressure, not
// unbounded memory).
//
// The settle job opens the same file through its own ChannelStore (or any SQLite reader): WAL lets
// it read a consistent snapshot while the gate writes.
//
// The gate's store (StoreOptions::voucher_log) commits to the voucher log instead (voucher_log.hpp):
// one append and one fdatasync a batch, not a SQLite transaction touching a page per channel. The
// log's active segment is folded into SQLite at least every fold_interval, once it holds 65,536
// channels, after idle_fold without a commit, when a read or a settle-job write on this store asks
// (they see every completed commit; closed_channel() every erase), and when the store closes; a
// channel's many vouchers since the last fold are one row update. A fold runs on a thread of its
// own while commits go on in the other segment: a commit never waits for one. Opening a store replays what a crash left in the
// log, before anything reads it. Another process reading the file while the gate runs sees SQLite
// only: under load, states up to fold_interval old (more while a fold fails), which for the settle
// job means claiming a little less now and the rest at its next run.
//
// Thread-safety: every member may be called from any thread, but not from a `done` callback (the
// writer thread): a read may wait for the voucher log to be folded, which needs the writer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "channel/channel_state.hpp"
#include "channel/result.hpp"
#include "persistence/logged_state.hpp"

namespace paychan::persistence {

// What is kept of a channel whose row was deleted (closed_channel()).
struct ClosedChannel {
  U256 refundNonce;
  Uint128 totalClaimed = 0;

  friend bool operator==(const ClosedChannel&, const ClosedChannel&) = default;
};

// One record of closed_since(): the channel, what its deleted rows left, and when the last of
// them was deleted (Unix seconds, by the deleting host's clock).
struct ClosedRecord {
  Bytes32 channelId{};
  ClosedChannel closed;
  std::int64_t closedAt = 0;

  friend bool operator==(const ClosedRecord&, const ClosedRecord&) = default;
};

struct StoreOptions {
  bool durable = true;             // false: synchronous=OFF, for benchmarks and tests only
  std::size_t max_batch = 512;     // states per transaction
  std::size_t max_pending = 8192;  // commit() waits beyond this many queued states
  // The gate's store: owns the voucher log (open fails while another process owns it).
  bool voucher_log = false;
  std::chrono::milliseconds fold_interval{1000};  // the longest a commit stays in the log alone
  // A writer that has had no commit for this long folds at once: an idle gate's store holds every
  // commit in SQLite, where another process (the settle job) reads it, within milliseconds.
  std::chrono::milliseconds idle_fold{20};
  // Called on the fold thread with each failed fold's error (the gate logs it). The fold is tried
  // again; the commits it holds stay durable in the log meanwhile.
  std::function<void(const Status&)> on_fold_failure;
};

// The voucher log's backlog (StoreOptions::voucher_log), for monitoring: what another process
// reading SQLite (the settle job) does not see yet, and whether folding it fails.
struct LogBacklog {
  std::uint64_t unfolded_commits = 0;  // group commits durable in the log, not yet in SQLite
  std::uint64_t fold_failures = 0;     // failed folds since the store opened
};

// Every file of the store at `path`: SQLite's (the file itself, -wal, -shm) and the voucher log's
// segments (-vlog, -vlog1). A store is gone once they all are.
[[nodiscard]] std::vector<std::string> store_files(const std::string& path);

class ChannelStore {
 public:
  // Opens or creates the store, migrating its schema; refuses a file from a newer paychan.
  [[nodiscard]] static Result<std::unique_ptr<ChannelStore>> open(const std::string& path, StoreOptions options = {});
  ~ChannelStore();  // finishes every queued commit first

  using Done = std::function<void(const Status&)>;
  // What a queued state asks of the writer: keep it, delete the channel's row (refunded in full,
  // the channel has nothing left to serve or claim; the state's refund nonce and claimed total
  // are kept: closed_channel()), or mark its row's on-chain mirror stale
  // (onchainSyncedAt 0) and write its pending refund (none clears it), leaving the row's other
  // columns as they are, and writing no row the settle job may have deleted meanwhile (the state's
  // other columns, claimed total included, may be older than the row's) unless a pending refund
  // must be recorded.
  using Write = StateWrite;
  // Queues `state` (kept, with no pending refund: the row's is cleared); `done` runs on the
  // writer thread once it is durable (or failed).
  void commit(const ChannelState& state, Done done);
  // Who calls flush() for what it enqueued: the gate passes its I/O context. Each flusher paces
  // its own states, so none waits for another's flush (another I/O thread's pass). A flusher is
  // long-lived (an I/O thread's context): the store keeps the length of each one's passes.
  using Flusher = const void*;
  // Group commit paced by the caller: enqueue() queues `state` without waking the writer and
  // returns true when `flusher` owes no flush yet; who gets true must call flush(flusher) soon.
  // Until that flush runs (or the store closes), the flusher's later states wait for a flush.
  // An I/O thread flushes once it has run what was ready, so the requests it verified in that
  // pass share at most two transactions and fsyncs, and the writer starts the last while the I/O
  // thread goes on with the next pass. The first: a pass is let go to the writer without a flush
  // at its 32nd state (or at half its flusher's last pass, when that is more), so that its first
  // half is durable while the I/O thread verifies the second.
  // `pendingRefund`: the channel's refund of unknown outcome, written with the state (none: the
  // row's is cleared).
  [[nodiscard]] bool enqueue(const ChannelState& state, Done done, Flusher flusher, Write write = Write::keep,
                             const std::optional<PendingRefund>& pendingRefund = std::nullopt);
  // Lets the writer take every state queued so far (any flusher's); `flusher` owes no flush now.
  void flush(Flusher flusher);
  // commit() and wait.
  [[nodiscard]] Status commit_and_wait(const ChannelState& state);

  [[nodiscard]] Result<std::vector<ChannelState>> load_all();
  [[nodiscard]] Result<std::optional<ChannelState>> get(const Bytes32& channelId);
  // Every channel's refund of unknown outcome, as last written with its state.
  [[nodiscard]] Result<std::vector<std::pair<Bytes32, PendingRefund>>> pending_refunds();
  // Every channel the gate saw refunded (a refund nonce above 0) with no refund of unknown outcome,
  // and that nonce.
  [[nodiscard]] Result<std::vector<std::pair<Bytes32, U256>>> refunded_channels();
  // Channels' totalClaimed, as the settle job records it (record_claimed), for a running gate to
  // raise its mirror with: at most `limit` channels, in id order, those after `after` (empty: from
  // the first). Fewer than `limit`: the last page. Paged because the read holds the lock that
  // closed_channel(), a read on the gate's I/O threads, waits for.
  [[nodiscard]] Result<std::vector<std::pair<Bytes32, Uint128>>> claimed_totals(ByteView after, std::size_t limit);
  // What a channel's deleted rows left (refunded in full by the gate, or spent and claimed as the
  // settle job saw it): the highest refund nonce and claimed total they had; none if no row of
  // the channel was ever deleted. A view of the chain behind either shows money refunded, or a
  // claimed total the running total would restart below. Waits for a fold only while the log holds
  // an erase (the gate asks on its I/O thread, for each channel it does not hold).
  [[nodiscard]] Result<std::optional<ClosedChannel>> closed_channel(const Bytes32& channelId);
  // The records of deleted channels dated `since` or later, in (date, id) order: at most `limit`,
  // those after (`since`, `after`) (`after` empty: every one dated `since`). Fewer than `limit`:
  // the last page. For a running gate to forget the channels the settle job deleted; no fold is
  // waited for (the log holds only the gate's own erases, whose channels it has forgotten).
  [[nodiscard]] Result<std::vector<ClosedRecord>> closed_since(std::int64_t since, ByteView after, std::size_t limit);
  // Forgets the records of channels whose last row was deleted `ageSeconds` or more ago (by the
  // host's clock, which dated them: a clock jumping ahead forgets early); how many. A view of a
  // chain that far behind is not met (a node lagging that long, a reorg that deep past finality),
  // and the records would otherwise grow by one per channel ever closed.
  [[nodiscard]] Result<std::size_t> forget_closed(std::uint64_t ageSeconds);
  // Channels that charged more than was claimed on chain: what the settle job claims.
  [[nodiscard]] Result<std::vector<ChannelState>> unclaimed();
  // Without waiting for the writer or a fold; all zero for a store without the log.
  [[nodiscard]] LogBacklog log_backlog() const;
  // After a claim lands: totalClaimed mirrors the chain (never lowered). A channel left with
  // nothing to serve or claim (balance <= charged <= totalClaimed) and no refund of unknown
  // outcome is deleted.
  [[nodiscard]] Status record_claimed(const Bytes32& channelId, Uint128 totalClaimed);
  // The settle job read the chain (`chain`) past the refund nonce of the channel's refund of
  // unknown outcome `pending`: that refund landed, or never will. It is held back no more; the
  // chain's claimed total and refund nonce are recorded, and a channel the chain shows with
  // nothing left to serve or claim is deleted. A refund the gate recorded since (another nonce) is
  // left as it is. Whether `pending` was still the channel's.
  [[nodiscard]] Result<bool> resolve_pending_refund(const Bytes32& channelId, const PendingRefund& pending,
                                                    const OnchainChannelState& chain);

  struct Impl;

 private:
  explicit ChannelStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace paychan::persistence
