#include "persistence/channel_store.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <future>
#include <unordered_map>
#include <limits>

#include "persistence/channel_record.hpp"
#include "persistence/sqlite.hpp"
#include "persistence/voucher_log.hpp"

namespace paychan::persistence {
namespace {

// Ordered migrations: entry i brings the schema from version i to i+1. Never edit one that has
// shipped; append.
constexpr std::string_view kMigrations[] = {
    R"sql(
      CREATE TABLE channels (
        channel_id BLOB PRIMARY KEY,
        config BLOB NOT NULL,
        charged BLOB NOT NULL,
        signed_max BLOB NOT NULL,
        signature BLOB NOT NULL,
        balance BLOB NOT NULL,
        total_claimed BLOB NOT NULL,
        withdraw_requested_at INTEGER NOT NULL,
        refund_nonce BLOB NOT NULL,
        onchain_synced_at INTEGER NOT NULL,
        last_request_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    )sql",
    // A refund of unknown outcome (PendingRefund), both NULL when there is none.
    R"sql(
      ALTER TABLE channels ADD COLUMN pending_refund_nonce BLOB;
      ALTER TABLE channels ADD COLUMN pending_refund_amount BLOB;
    )sql",
    // What a channel's deleted row leaves (closed_channel()): the highest refund nonce and claimed
    // total of the rows deleted, each its own MAX (kClose for the gate's own erase). Both are
    // fixed-width big-endian blobs: they compare as numbers.
    R"sql(
      CREATE TABLE closed_channels (
        channel_id BLOB PRIMARY KEY,
        refund_nonce BLOB NOT NULL,
        total_claimed BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE TRIGGER channel_closed AFTER DELETE ON channels BEGIN
        INSERT INTO closed_channels (channel_id, refund_nonce, total_claimed)
        VALUES (OLD.channel_id, OLD.refund_nonce, OLD.total_claimed)
        ON CONFLICT (channel_id) DO UPDATE SET refund_nonce = MAX(refund_nonce, excluded.refund_nonce),
                                               total_claimed = MAX(total_claimed, excluded.total_claimed);
      END;
    )sql",
    // When each record was last written, by the writing host's clock (forget_closed()): records
    // of earlier deletions count from this migration. (strftime, not unixepoch(): SQLite 3.38.)
    R"sql(
      ALTER TABLE closed_channels ADD COLUMN closed_at INTEGER NOT NULL DEFAULT 0;
      UPDATE closed_channels SET closed_at = CAST(strftime('%s', 'now') AS INTEGER);
      CREATE INDEX closed_channels_by_age ON closed_channels (closed_at);
      DROP TRIGGER channel_closed;
      CREATE TRIGGER channel_closed AFTER DELETE ON channels BEGIN
        INSERT INTO closed_channels (channel_id, refund_nonce, total_claimed, closed_at)
        VALUES (OLD.channel_id, OLD.refund_nonce, OLD.total_claimed, CAST(strftime('%s', 'now') AS INTEGER))
        ON CONFLICT (channel_id) DO UPDATE SET refund_nonce = MAX(refund_nonce, excluded.refund_nonce),
                                               total_claimed = MAX(total_claimed, excluded.total_claimed),
                                               closed_at = excluded.closed_at;
      END;
    )sql",
    // How far the voucher log is folded in (voucher_log.hpp): its frames of `generation` ending at
    // or before `folded_through` are in the tables, written in the transaction that wrote them.
    R"sql(
      CREATE TABLE voucher_log (generation INTEGER NOT NULL, folded_through INTEGER NOT NULL);
      INSERT INTO voucher_log (generation, folded_through) VALUES (0, 0);
    )sql",
    // The voucher log is two segments (-vlog and -vlog1) from here. Nothing in the tables changes;
    // the step is there so that a paychan that replays only -vlog refuses the file instead of
    // recording a generation past the frames -vlog1 holds, which the next replay would then skip.
    "",
};
constexpr std::string_view kColumns =
    "channel_id, config, charged, signed_max, signature, balance, total_claimed, withdraw_requested_at, "
    "refund_nonce, onchain_synced_at, last_request_at";

// totalClaimed only grows: a gate's older mirror never undoes what the settle job recorded.
constexpr std::string_view kUpsert = R"sql(
  INSERT INTO channels (channel_id, config, charged, signed_max, signature, balance, total_claimed,
                        withdraw_requested_at, refund_nonce, onchain_synced_at, last_request_at,
                        pending_refund_nonce, pending_refund_amount)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
  ON CONFLICT (channel_id) DO UPDATE SET
    config = excluded.config, charged = excluded.charged, signed_max = excluded.signed_max,
    signature = excluded.signature, balance = excluded.balance,
    total_claimed = MAX(excluded.total_claimed, channels.total_claimed),
    withdraw_requested_at = excluded.withdraw_requested_at, refund_nonce = excluded.refund_nonce,
    onchain_synced_at = excluded.onchain_synced_at, last_request_at = excluded.last_request_at,
    pending_refund_nonce = excluded.pending_refund_nonce, pending_refund_amount = excluded.pending_refund_amount
)sql";

// A paid request on a known channel: its row exists, and its config (the channel id's preimage)
// never changes, so only the columns a charge or a refreshed mirror can move are written. Cheaper
// than the upsert's insert attempt and conflict (~14k instructions a row in SQLite).
constexpr std::string_view kUpdate = R"sql(
  UPDATE channels SET
    charged = ?3, signed_max = ?4, signature = ?5, balance = ?6,
    total_claimed = MAX(?7, total_claimed), withdraw_requested_at = ?8, refund_nonce = ?9,
    onchain_synced_at = ?10, last_request_at = ?11, pending_refund_nonce = ?12, pending_refund_amount = ?13
  WHERE channel_id = ?1
)sql";

std::int64_t as_int(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// A segment this long is folded whatever the time: it bounds the log's size and a replay's work
// (~160k states).
constexpr std::uint64_t kFoldBytes = 64u << 20;
// So many channels written since the last fold are folded at once: it bounds the memory the
// unfolded writes take, a fold's transaction and the time a read asking for one waits (bench_store's
// BM_FoldChannels). Loosely: while one fold runs the active segment may gather more, and while folds
// fail it grows without bound (its writes are durable all the same). Large, because commits do not
// wait for a fold, and a fold's cost is in the pages it writes: many channels share a page, so the
// fewer folds, the fewer pages a channel's write costs (gate_load with 20,000 channels paying: the
// fold thread's CPU per request halved from 2,048 to 65,536).
constexpr std::size_t kFoldChannels = 65536;
// The page cache of the connection that writes (the folds): a fold updates rows all over the table,
// and with SQLite's default 2 MiB a table of more channels than that holds (~5,000) is read again
// from the file at each fold. 16 MiB holds ~40,000 channels' rows; a cache grows only as pages are
// read. bench_store's BM_FoldChannels/20000: 105 ms with the default, 79 ms with this, 67 ms with
// this and the key's order (write_folded).
constexpr int kWriterCacheKiB = 16 << 10;
// A pass is split at its state number max(this, half its flusher's last pass) (enqueue): at 32
// for gate_load's 64 connections, at 128 for its 256; a pass shorter than this never.
constexpr std::size_t kSplitPassFrom = 32;
// A fold that failed is tried again no sooner than this, whatever fold_interval: one that fails
// at once must not spin.
constexpr std::chrono::milliseconds kFoldRetryFloor{20};

// A queued state's columns as the writer binds them, encoded once and bound without SQLite's copy
// of each (a third of a row's update was binding copies and freeing them): `state` and this must
// outlive the statements' runs.
struct BoundColumns {
  BoundColumns(const ChannelState& state, const std::optional<PendingRefund>& pendingRefund)
      : state(state),
        charged(encode_u128(state.chargedCumulativeAmount)),
        signedMax(encode_u128(state.signedMaxClaimable)),
        balance(encode_u128(state.onchain.balance)),
        totalClaimed(encode_u128(state.onchain.totalClaimed)),
        refundNonce(state.onchain.refundNonce.to_be()) {
    if (pendingRefund) pending.emplace(pendingRefund->nonce.to_be(), encode_u128(pendingRefund->amount));
  }

  // The channel's refund of unknown outcome (?12, ?13): left unbound (NULL) when there is none.
  void bind_pending(Statement& s) const {
    if (pending) s.bind_unowned(12, pending->first).bind_unowned(13, pending->second);
  }
  // Every column but config (?2), which only the upsert needs.
  void bind_mutable(Statement& s) const {
    s.bind_unowned(1, state.channelId).bind_unowned(3, charged).bind_unowned(4, signedMax);
    s.bind_unowned(5, state.signature.bytes()).bind_unowned(6, balance).bind_unowned(7, totalClaimed);
    s.bind(8, as_int(state.onchain.withdrawRequestedAt)).bind_unowned(9, refundNonce);
    s.bind(10, as_int(state.onchainSyncedAt)).bind(11, as_int(state.lastRequestTimestamp));
  }

  const ChannelState& state;
  FixedBytes<16> charged, signedMax, balance, totalClaimed;
  Bytes32 refundNonce;
  std::optional<std::pair<Bytes32, FixedBytes<16>>> pending;
};

Result<ChannelState> read_state(const Statement& s) {
  ChannelState c;
  const ByteView id = s.blob(0);
  if (id.size() != 32) return fail(ErrorCode::invalid_payload, "stored channel row has a channel id of the wrong size");
  std::copy(id.begin(), id.end(), c.channelId.begin());
  PAYCHAN_ASSIGN(c.config, decode_config(s.blob(1)));
  PAYCHAN_ASSIGN(c.chargedCumulativeAmount, decode_u128(s.blob(2)));
  PAYCHAN_ASSIGN(c.signedMaxClaimable, decode_u128(s.blob(3)));
  auto signature = WalletSignature::from_bytes(s.blob(4));
  if (!signature) return fail(ErrorCode::invalid_payload, "stored channel row: " + signature.error().detail);
  c.signature = std::move(*signature);
  PAYCHAN_ASSIGN(c.onchain.balance, decode_u128(s.blob(5)));
  PAYCHAN_ASSIGN(c.onchain.totalClaimed, decode_u128(s.blob(6)));
  c.onchain.withdrawRequestedAt = static_cast<std::uint64_t>(s.integer(7));
  PAYCHAN_ASSIGN(c.onchain.refundNonce, decode_u256(s.blob(8)));
  c.onchainSyncedAt = static_cast<std::uint64_t>(s.integer(9));
  c.lastRequestTimestamp = static_cast<std::uint64_t>(s.integer(10));
  return c;
}

constexpr std::string_view kErase = "DELETE FROM channels WHERE channel_id = ?1";
constexpr std::string_view kFoldedThrough = "UPDATE voucher_log SET generation = ?1, folded_through = ?2";
constexpr std::string_view kFoldPosition = "SELECT generation, folded_through FROM voucher_log";
// Before an outcome that may never be heard of (a deposit, a refund): the mirror is marked stale
// and the channel's pending refund recorded.
constexpr std::string_view kMarkStale = R"sql(
  UPDATE channels SET onchain_synced_at = 0, pending_refund_nonce = ?12, pending_refund_amount = ?13
  WHERE channel_id = ?1
)sql";
// The gate's erase records the state it deleted on, as the trigger records a row (the row may be
// gone already, or hold older columns); the trigger then merges the row's.
constexpr std::string_view kClose = R"sql(
  INSERT INTO closed_channels (channel_id, refund_nonce, total_claimed, closed_at)
  VALUES (?1, ?2, ?3, CAST(strftime('%s', 'now') AS INTEGER))
  ON CONFLICT (channel_id) DO UPDATE SET refund_nonce = MAX(refund_nonce, excluded.refund_nonce),
                                         total_claimed = MAX(total_claimed, excluded.total_claimed),
                                         closed_at = excluded.closed_at
)sql";
// A record dated 0 was written by a gate older than the date (running while the store was
// migrated): it counts from now, like those the migration found.
constexpr std::string_view kDateClosed =
    "UPDATE closed_channels SET closed_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE closed_at = 0";
constexpr std::string_view kForgetClosed =
    "DELETE FROM closed_channels WHERE closed_at <= CAST(strftime('%s', 'now') AS INTEGER) - ?1";
constexpr std::string_view kClosedChannel = "SELECT refund_nonce, total_claimed FROM closed_channels WHERE channel_id = ?1";
constexpr std::string_view kClosedSince = R"sql(
  SELECT channel_id, refund_nonce, total_claimed, closed_at FROM closed_channels
  WHERE (closed_at, channel_id) > (?1, coalesce(?2, X'')) ORDER BY closed_at, channel_id LIMIT ?3
)sql";
constexpr std::string_view kRefundedChannels = R"sql(
  SELECT channel_id, refund_nonce FROM channels
  WHERE refund_nonce != zeroblob(32) AND pending_refund_nonce IS NULL
)sql";
// A page in key order after ?1 (NULL, or an empty blob: from the first), unfiltered so that a page
// reads at most ?2 rows whatever their totals.
constexpr std::string_view kClaimedTotals =
    "SELECT channel_id, total_claimed FROM channels WHERE channel_id > coalesce(?1, X'') ORDER BY channel_id LIMIT ?2";
constexpr std::string_view kPendingRefunds = R"sql(
  SELECT channel_id, pending_refund_nonce, pending_refund_amount FROM channels
  WHERE pending_refund_nonce IS NOT NULL
)sql";

// After a claim lands (the settle job): totalClaimed only grows. A channel then left with nothing
// to serve (its balance all charged: spent, or refunded) and nothing to claim is deleted, as the
// gate deletes one it refunds in full with everything claimed; otherwise a refund whose claim the
// facilitator did not report would keep its row for good. Should the payer deposit again, the gate
// writes the row anew (a gate that no longer holds the channel starts from the chain's claimed
// total). Amounts are fixed-width big-endian blobs: they compare as numbers. A channel with a
// refund of unknown outcome is kept: its balance may be mirrored with that refund taken off (a
// mirror refreshed meanwhile), and the row is what keeps a restarted gate from counting on the
// money before the refund's fate is known. The balance is the row's mirror, or the chain's when the
// caller read it (?2; NULL: none read).
constexpr std::string_view kRecordClaimed = "UPDATE channels SET total_claimed = MAX(total_claimed, ?2) WHERE channel_id = ?1";
constexpr std::string_view kEraseSettled =
    "DELETE FROM channels WHERE channel_id = ?1 AND total_claimed >= charged AND COALESCE(?2, balance) <= charged "
    "AND pending_refund_nonce IS NULL";
// The pending refund's nonce (?2) is compared, not only its presence: the gate may have recorded
// another refund since the settle job read the chain. The row's balance is the gate's mirror (it
// may predate the refund): whether the channel is spent is then judged on the chain's. The chain's
// refund nonce (?4), past the refund, is the row's from now on: a view behind it would show the
// refund's money again (a deleted row leaves it in closed_channels).
constexpr std::string_view kResolveRefund = R"sql(
  UPDATE channels SET pending_refund_nonce = NULL, pending_refund_amount = NULL, total_claimed = MAX(total_claimed, ?3),
                      refund_nonce = MAX(refund_nonce, ?4)
  WHERE channel_id = ?1 AND pending_refund_nonce = ?2
)sql";

// A page's size as a LIMIT binds it.
std::int64_t sql_limit(std::size_t limit) noexcept {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

// A channel id and a refund nonce, the first two columns of a row.
Result<std::pair<Bytes32, U256>> read_id_and_nonce(const Statement& s) {
  std::pair<Bytes32, U256> r;
  PAYCHAN_ASSIGN(r.first, decode_bytes32(s.blob(0)));
  PAYCHAN_ASSIGN(r.second, decode_u256(s.blob(1)));
  return r;
}

// The writer thread's statements, prepared once.
struct WriterStatements {
  Statement update;
  Statement upsert;
  Statement erase;
  Statement close;
  Statement mark_stale;
  Statement folded_through;
};

// Every row the statement yields, each read by `read`.
template <typename T, typename Read>
Result<std::vector<T>> collect_rows(Statement& s, Read read) {
  std::vector<T> out;
  Result<bool> row = true;
  while ((row = s.step()) && *row) {
    PAYCHAN_ASSIGN(T value, read(s));
    out.push_back(std::move(value));
  }
  if (!row) return row.failure();
  return out;
}

Result<std::vector<ChannelState>> collect_states(Statement& s) { return collect_rows<ChannelState>(s, read_state); }

// How far the voucher log is folded into SQLite: every frame of an older generation, and of this
// one those ending at or before `end`.
struct LogPosition {
  std::uint64_t generation = 0;
  std::uint64_t end = 0;
  auto operator<=>(const LogPosition&) const = default;
};

// What the log holds that SQLite does not, by channel: a channel's writes in order, runs of `keep`
// merged into their last (each sets every column the one before did).
using UnfoldedWrites = std::unordered_map<Bytes32, std::vector<LoggedState>, Bytes32Hash>;

void remember(UnfoldedWrites& unfolded, const LoggedState& e) {
  auto& writes = unfolded[e.state.channelId];
  if (!writes.empty() && writes.back().write == StateWrite::keep && e.write == StateWrite::keep) {
    // totalClaimed is written as a MAX: the merged write keeps the larger of the two.
    const Uint128 claimed = std::max(writes.back().state.onchain.totalClaimed, e.state.onchain.totalClaimed);
    writes.back() = e;
    writes.back().state.onchain.totalClaimed = claimed;
  } else {
    writes.push_back(e);
  }
}

}  // namespace

struct ChannelStore::Impl {
  StoreOptions options;
  Database reader;  // queries and small writes from caller threads, under reader_mutex
  std::mutex reader_mutex;

  Database writer;  // owned by the writer thread after construction, with its statements
  WriterStatements sql;

  std::mutex queue_mutex;
  std::condition_variable has_work;
  std::condition_variable has_room;
  struct Queued {
    LoggedState entry;
    Done done;
  };
  std::deque<Queued> queue;
  std::size_t flushed = 0;  // the queue's first `flushed` states may be written now
  // A flusher's pass: whether it was told to flush and its flush has not run yet, the states it
  // queued since its last flush(), and how many its last pass did.
  struct Pass {
    Flusher flusher;
    bool owes = false;
    std::size_t queued = 0;
    std::size_t last = 0;
  };
  std::vector<Pass> passes;  // one per flusher (the gate's I/O threads: a few)
  Pass& pass_of(Flusher flusher) {
    for (Pass& p : passes)
      if (p.flusher == flusher) return p;
    return passes.emplace_back(Pass{flusher});
  }
  bool stopping = false;
  std::thread thread;

  // The voucher log, when this store owns it. The writer thread appends each batch to the `active`
  // segment and keeps what it holds in `unfolded`. When a fold is due it freezes that segment and
  // hands it to the fold thread (fold_job), which writes it into SQLite through `writer`, empties
  // it, and lets the writer take it back: commits go on in the other segment meanwhile.
  std::optional<VoucherLog::Segments> segments;
  VoucherLog* active = nullptr;  // the writer's
  std::string frame;             // the batch being appended, its buffer reused
  UnfoldedWrites unfolded;       // the writer's
  UnfoldedWrites folding;        // the frozen segment's writes: the fold thread's while fold_job is set
  struct FoldJob {
    VoucherLog* segment;           // frozen: takes no more appends until emptied
    std::uint64_t next_generation;  // the segment's once emptied: above the active segment's
    std::uint64_t batches;          // logged_batches when it was frozen
  };
  std::optional<FoldJob> fold_job;  // under queue_mutex: a fold is running (or failing)
  std::thread fold_thread;
  std::condition_variable fold_work;
  // Batches appended to the log, and how many of the first of them SQLite holds (written under
  // queue_mutex): a read waits until the second reaches what the first was when it asked.
  std::atomic<std::uint64_t> logged_batches{0};
  std::atomic<std::uint64_t> folded_batches{0};
  // logged_batches after the last batch that erased a channel: SQLite holds every closed-channel
  // record the gate wrote once folded_batches reaches it (closed_channel() waits only for that).
  std::atomic<std::uint64_t> erased_through{0};
  std::chrono::steady_clock::time_point fold_due;  // the writer's
  bool fold_blocked = false;  // the writer's: a fold is wanted, but the last one still runs
  std::uint64_t handed = 0;   // the writer's: the reads' asks it has frozen a segment for
  // Under queue_mutex:
  std::uint64_t folds_asked = 0;    // fold_through() calls that found something unfolded, so far
  bool fold_failing = false;        // the running fold failed; it is tried again at fold_retry
  std::chrono::steady_clock::time_point fold_retry;
  std::uint64_t fold_failures = 0;  // failed tries so far, the last one's error:
  Status fold_error;
  bool fold_stop = false;    // the writer has finished: the fold thread returns
  bool writer_done = false;  // the writer thread has returned
  std::condition_variable folded;

  Impl(StoreOptions o, Database r, Database w, WriterStatements s)
      : options(o), reader(std::move(r)), writer(std::move(w)), sql(std::move(s)) {}

  // The row exists for most channels (not a new one, nor one the settle job deleted): update
  // it, and insert only when nothing was. A stale mark writes no row the settle job deleted (a
  // deposit's outcome writes it), unless it records a refund that may still land: that must be on
  // disk, and `state` then holds the chain's view read for the refund.
  Status write(const LoggedState& e) {
    const ChannelState& state = e.state;
    const Write how = e.write;
    const std::optional<PendingRefund>& pendingRefund = e.pendingRefund;
    if (how == Write::erase) {
      sql.close.bind(1, state.channelId).bind(2, state.onchain.refundNonce.to_be());
      sql.close.bind(3, encode_u128(state.onchain.totalClaimed));
      PAYCHAN_TRY(sql.close.run());
      sql.erase.bind(1, state.channelId);
      return sql.erase.run();
    }
    const BoundColumns columns(state, pendingRefund);
    Statement& update = how == Write::mark_stale ? sql.mark_stale : sql.update;
    if (how == Write::keep)
      columns.bind_mutable(update);
    else
      update.bind_unowned(1, state.channelId);  // mark_stale binds only the key and the pending refund
    columns.bind_pending(update);
    PAYCHAN_TRY(update.run());
    if (writer.changes() != 0 || (how == Write::mark_stale && !pendingRefund)) return {};
    columns.bind_mutable(sql.upsert);
    columns.bind_pending(sql.upsert);
    sql.upsert.bind(2, encode_config(state.config));
    return sql.upsert.run();
  }

  Status write_batch(const std::vector<Queued>& batch) {
    return writer.in_transaction([&]() -> Status {
      for (const auto& q : batch) PAYCHAN_TRY(write(q.entry));
      return {};
    });
  }

  // The batch made durable in the log; SQLite gets it at a fold.
  Status append_batch(const std::vector<Queued>& batch) {
    std::vector<const LoggedState*> entries;
    entries.reserve(batch.size());
    for (const auto& q : batch) entries.push_back(&q.entry);
    frame.clear();
    append_frame(frame, active->generation(), entries);
    PAYCHAN_TRY(active->append(frame, options.durable));
    if (unfolded.empty()) fold_due = std::chrono::steady_clock::now() + options.fold_interval;
    bool erases = false;
    for (const auto& q : batch) {
      remember(unfolded, q.entry);
      erases = erases || q.entry.write == Write::erase;
    }
    // Before the callers learn their states are durable:
    const std::uint64_t logged = ++logged_batches;
    if (erases) erased_through = logged;
    return {};
  }

  // Writes `writes` into SQLite, with how far into the log they reach, in one transaction. In the
  // key's order: consecutive rows share the table's pages (a fold of 20,000 channels took a third
  // less time than in the map's order, with kWriterCacheKiB).
  Status write_folded(const UnfoldedWrites& writes, LogPosition reached) {
    std::vector<const UnfoldedWrites::value_type*> in_order;
    in_order.reserve(writes.size());
    for (const auto& channel : writes) in_order.push_back(&channel);
    std::sort(in_order.begin(), in_order.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    return writer.in_transaction([&]() -> Status {
      for (const auto* channel : in_order)
        for (const LoggedState& e : channel->second) PAYCHAN_TRY(write(e));
      sql.folded_through.bind(1, as_int(reached.generation)).bind(2, as_int(reached.end));
      return sql.folded_through.run();
    });
  }

  Result<LogPosition> folded_position() {
    auto position = writer.prepare(kFoldPosition);
    if (!position) return position.failure();
    PAYCHAN_ASSIGN(const bool row, position->step());
    if (!row) return fail(ErrorCode::invalid_payload, "the store has no voucher_log row");
    return LogPosition{static_cast<std::uint64_t>(position->integer(0)), static_cast<std::uint64_t>(position->integer(1))};
  }

  // At open, before the threads start: what a crash left in `found` (this store's log, or another
  // process's it may replay) goes into SQLite, oldest generation first, and the segments start
  // new generations: the first takes the appends, the second's is above it.
  Status replay(VoucherLog::Segments& found) {
    std::array<ScannedLog, 2> scanned;
    for (std::size_t i = 0; i < found.size(); ++i) {
      PAYCHAN_ASSIGN(scanned[i], found[i].read());
    }
    PAYCHAN_ASSIGN(const LogPosition folded, folded_position());
    const std::size_t older = scanned[0].generation <= scanned[1].generation ? 0 : 1;
    UnfoldedWrites writes;
    LogPosition reached = folded;
    for (const std::size_t i : {older, 1 - older}) {
      const ScannedLog& segment = scanned[i];
      for (const LogFrame& f : segment.frames)
        if (LogPosition{segment.generation, f.end} > folded)
          for (const LoggedState& e : f.states) remember(writes, e);
      reached = std::max(reached, LogPosition{segment.generation, segment.end});
    }
    PAYCHAN_TRY(write_folded(writes, reached));
    // Everything is in SQLite now, whatever becomes of the resets: should one fail, the segment's
    // next append writes its header again first (and fails if that does).
    (void)found[0].reset(reached.generation + 1, options.durable);
    (void)found[1].reset(reached.generation + 2, options.durable);
    return {};
  }

  // Whether the active segment should be folded, after a batch: a read asked, it is due, the
  // writer is idle, or it holds many bytes or channels.
  bool fold_wanted(bool asked, bool idle) const {
    if (unfolded.empty()) return false;
    if (asked || idle || std::chrono::steady_clock::now() >= fold_due) return true;
    return active->size() >= kFoldBytes || unfolded.size() >= kFoldChannels;
  }

  // The writer thread, while no fold runs: the active segment is frozen and handed to the fold
  // thread with what it holds (for the reads' asks up to `asked`); the other segment, emptied by
  // the last fold, takes the appends from here.
  void freeze(std::uint64_t asked) {
    VoucherLog* frozen = active;
    active = &(*segments)[active == &(*segments)[0] ? 1 : 0];
    std::swap(unfolded, folding);  // the last fold left `folding` empty
    handed = asked;
    std::lock_guard lock(queue_mutex);
    fold_job = FoldJob{frozen, active->generation() + 1, logged_batches};
    fold_work.notify_one();
  }

  // The writer thread, after a batch: freezes the active segment when a fold is wanted and the
  // last one is done.
  void fold_if_wanted(std::uint64_t asked, bool idle, bool fold_running) {
    const bool wanted = fold_wanted(asked != handed, idle);
    fold_blocked = wanted && fold_running;
    if (fold_running) return;
    if (wanted) return freeze(asked);
    handed = asked;  // the log holds nothing unfolded: the reads asking have what they wait for
  }

  // At close, after the last batch: whatever the log holds goes into SQLite, unless a fold fails
  // (a failing one is tried once more; the log keeps it then, for the next open to replay).
  void finish_log() {
    std::unique_lock lock(queue_mutex);
    const std::uint64_t failures = fold_failures;
    ++folds_asked;
    fold_work.notify_one();
    for (;;) {
      has_work.wait(lock, [&] { return !fold_job || fold_failures != failures; });
      if (fold_job || unfolded.empty()) break;
      const std::uint64_t asked = folds_asked;
      lock.unlock();
      freeze(asked);
      lock.lock();
    }
    fold_stop = true;
    fold_work.notify_one();
  }

  // The fold thread: each frozen segment goes into SQLite and is emptied into a generation above
  // the active one's, for the writer to take next. A fold that fails gives the reads waiting its
  // error and is tried again after fold_interval, or at once when a read asks; the writer goes on
  // appending to the active segment meanwhile. An exception (out of memory) ends the process, on
  // purpose: it can leave a statement unreset and bound to freed columns, which a retry would
  // write, while a restart replays the whole log into SQLite and loses nothing.
  void fold_loop() {
    std::unique_lock lock(queue_mutex);
    std::uint64_t tried_for = folds_asked;  // the reads' asks when a fold was last tried
    for (;;) {
      const auto ready = [&] { return fold_stop || (fold_job && (!fold_failing || folds_asked != tried_for)); };
      if (fold_failing)
        fold_work.wait_until(lock, fold_retry, ready);
      else
        fold_work.wait(lock, ready);
      if (fold_stop) return;
      if (!fold_job) continue;
      tried_for = folds_asked;
      const FoldJob job = *fold_job;
      lock.unlock();
      const Status status = write_folded(folding, {job.segment->generation(), job.segment->size()});
      if (status) {
        folding.clear();
        // Everything it held is in SQLite now, whatever becomes of the reset (see replay()).
        (void)job.segment->reset(job.next_generation, options.durable);
      } else if (options.on_fold_failure) {
        options.on_fold_failure(status);  // before a read waiting can learn of the failure
      }
      lock.lock();
      fold_failing = !status;
      if (status) {
        fold_job.reset();
        folded_batches = job.batches;
      } else {
        ++fold_failures;
        fold_error = status;
        fold_retry = std::chrono::steady_clock::now() + std::max<std::chrono::milliseconds>(options.fold_interval, kFoldRetryFloor);
      }
      has_work.notify_one();  // the writer may freeze the next segment, or finish closing
      folded.notify_all();
    }
  }

  // From a reader's thread: every completed commit reaches SQLite before the read. Its error is the
  // error of a fold tried while it waits.
  Status fold_now() { return fold_through(logged_batches); }

  // From a reader's thread: the first `logged` batches reach SQLite, folded now if they have not.
  // Load `logged` first: a batch logged after it is not one the caller saw complete, and
  // folded_batches never passes logged_batches.
  Status fold_through(std::uint64_t logged) {
    if (!segments) return {};
    if (folded_batches >= logged) return {};
    std::unique_lock lock(queue_mutex);
    const std::uint64_t failures = fold_failures;
    ++folds_asked;
    has_work.notify_one();
    fold_work.notify_one();  // a failing fold is tried again at once
    folded.wait(lock, [&] { return folded_batches >= logged || fold_failures != failures || writer_done; });
    if (folded_batches >= logged) return {};
    if (fold_failures != failures) return fold_error;
    return fail(ErrorCode::store_failed, "the store is closing");
  }

  void run() {
    std::vector<Queued> batch;
    for (;;) {
      std::uint64_t asked = 0;
      bool closing = false;
      bool idle = false;  // no commit came for idle_fold
      bool fold_running = false;
      {
        std::unique_lock lock(queue_mutex);
        const auto ready = [&] {
          return stopping || flushed != 0 || (!fold_job && (folds_asked != handed || fold_blocked));
        };
        if (!segments || unfolded.empty() || fold_blocked)
          has_work.wait(lock, ready);
        else
          idle = !has_work.wait_until(lock, std::min(fold_due, std::chrono::steady_clock::now() + options.idle_fold), ready);
        if (stopping) flushed = queue.size();
        while (flushed != 0 && batch.size() < options.max_batch) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
          --flushed;
        }
        asked = folds_asked;
        closing = stopping && flushed == 0;  // this batch is the last
        fold_running = fold_job.has_value();
      }
      has_room.notify_all();
      if (!batch.empty()) {
        const Status status = segments ? append_batch(batch) : write_batch(batch);
        for (auto& q : batch)
          if (q.done) q.done(status);
        batch.clear();
      }
      if (segments) fold_if_wanted(asked, idle, fold_running);
      if (closing) {
        if (segments) finish_log();
        std::lock_guard lock(queue_mutex);
        writer_done = true;
        folded.notify_all();
        return;
      }
    }
  }

  template <typename T, typename Query>
  Result<T> query(std::string_view sql, Query bind_and_collect) {
    return query_after<T>(logged_batches, sql, bind_and_collect);
  }

  // A read that needs SQLite to hold only the first `logged` batches.
  template <typename T, typename Query>
  Result<T> query_after(std::uint64_t logged, std::string_view sql, Query bind_and_collect) {
    PAYCHAN_TRY(fold_through(logged));
    std::lock_guard lock(reader_mutex);
    auto stmt = reader.prepare(sql);
    if (!stmt) return stmt.failure();
    return bind_and_collect(*stmt);
  }
};

ChannelStore::ChannelStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "paychan-store");  // as top -H and /proc show it
    // Woken by a flush, a durable writer preempts the I/O thread: it writes the batch and blocks in
    // fsync at once, and that wait overlaps the next pass. Without fsync there is nothing to
    // overlap, and preempting would only add switches: that writer runs when the I/O thread waits.
    if (!impl_->options.durable) {
      const sched_param batch{0};
      pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
    }
    impl_->run();
  });
  if (impl_->segments)
    impl_->fold_thread = std::thread([this] {
      pthread_setname_np(pthread_self(), "paychan-fold");
      // Background work: it never preempts the I/O and writer threads on waking.
      const sched_param batch{0};
      pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
      impl_->fold_loop();
    });
}

ChannelStore::~ChannelStore() {
  {
    std::lock_guard lock(impl_->queue_mutex);
    impl_->stopping = true;
  }
  impl_->has_work.notify_all();
  impl_->thread.join();
  if (impl_->fold_thread.joinable()) impl_->fold_thread.join();
}

std::vector<std::string> store_files(const std::string& path) {
  return {path, path + "-wal", path + "-shm", path + "-vlog", path + "-vlog1"};
}

Result<std::unique_ptr<ChannelStore>> ChannelStore::open(const std::string& path, StoreOptions options) {
  auto writer = open_wal(path, options.durable, &kGateStoreFile);
  if (!writer) return writer.failure();
  PAYCHAN_TRY(migrate(*writer, kMigrations));
  PAYCHAN_TRY(writer->exec("PRAGMA cache_size = -" + std::to_string(kWriterCacheKiB)));
  auto reader = open_wal(path, options.durable, &kGateStoreFile);
  if (!reader) return reader.failure();
  auto update = writer->prepare(kUpdate);
  if (!update) return update.failure();
  auto upsert = writer->prepare(kUpsert);
  if (!upsert) return upsert.failure();
  auto erase = writer->prepare(kErase);
  if (!erase) return erase.failure();
  auto close = writer->prepare(kClose);
  if (!close) return close.failure();
  auto mark_stale = writer->prepare(kMarkStale);
  if (!mark_stale) return mark_stale.failure();
  auto folded_through = writer->prepare(kFoldedThrough);
  if (!folded_through) return folded_through.failure();
  WriterStatements sql{std::move(*update), std::move(*upsert),     std::move(*erase),
                       std::move(*close),  std::move(*mark_stale), std::move(*folded_through)};
  auto impl = std::make_unique<Impl>(options, std::move(*reader), std::move(*writer), std::move(sql));
  // A crash's leftovers in the log reach SQLite before anything reads it: the gate's own, or,
  // when no gate holds the log, whatever store opens the file next (the settle job's).
  if (options.voucher_log) {
    PAYCHAN_ASSIGN(VoucherLog::Segments owned, VoucherLog::own(path, options.durable));
    PAYCHAN_TRY(impl->replay(owned));
    for (VoucherLog& segment : owned) PAYCHAN_TRY(segment.preallocate(options.durable));
    impl->segments = std::move(owned);
    impl->active = &(*impl->segments)[0];
  } else {
    PAYCHAN_ASSIGN(auto idle, VoucherLog::open_if_idle(path));
    if (idle) PAYCHAN_TRY(impl->replay(*idle));
  }
  return std::unique_ptr<ChannelStore>(new ChannelStore(std::move(impl)));
}

bool ChannelStore::enqueue(const ChannelState& state, Done done, Flusher flusher, Write write,
                           const std::optional<PendingRefund>& pendingRefund) {
  std::unique_lock lock(impl_->queue_mutex);
  if (impl_->queue.size() >= impl_->options.max_pending) {
    // Full: whatever waits for a flush is flushed now, since the caller that would flush it may
    // be the thread about to wait here. No flusher owes one then; a flush still on its way does
    // no harm.
    impl_->flushed = impl_->queue.size();
    for (Impl::Pass& p : impl_->passes) p.owes = false;
    impl_->has_work.notify_one();
    impl_->has_room.wait(lock, [&] { return impl_->queue.size() < impl_->options.max_pending; });
  }
  impl_->queue.push_back(Impl::Queued{LoggedState{state, write, pendingRefund}, std::move(done)});
  // A long pass goes to the writer in two halves. Closed-loop clients fall into step: each pass
  // verifies every connection's request, and the thread would idle while the pass's one fsync runs
  // (gate_load, 64 connections: 4-5% of the core). With the first half durable mid-pass, its
  // clients' next requests are ready when the pass ends. Only once a pass: a flush costs the core
  // ~100 us here (write, fdatasync, completion interrupt), so short passes are never split.
  Impl::Pass& pass = impl_->pass_of(flusher);
  const bool half = ++pass.queued == std::max(kSplitPassFrom, pass.last / 2);
  if (half) impl_->flushed = impl_->queue.size();
  const bool asks = !std::exchange(pass.owes, true);
  lock.unlock();
  if (half) impl_->has_work.notify_one();
  return asks;
}

void ChannelStore::flush(Flusher flusher) {
  {
    std::lock_guard lock(impl_->queue_mutex);
    // A flush with nothing of this flusher's since its last (a second one posted after the full
    // queue was flushed) ends no pass: the last one's length stands.
    Impl::Pass& pass = impl_->pass_of(flusher);
    pass.owes = false;
    if (pass.queued != 0) pass.last = std::exchange(pass.queued, 0);
    impl_->flushed = impl_->queue.size();
  }
  impl_->has_work.notify_one();
}

void ChannelStore::commit(const ChannelState& state, Done done) {
  (void)enqueue(state, std::move(done), this);
  flush(this);
}

Status ChannelStore::commit_and_wait(const ChannelState& state) {
  std::promise<Status> durable;
  auto result = durable.get_future();
  commit(state, [&durable](const Status& s) { durable.set_value(s); });
  return result.get();
}

Result<std::vector<ChannelState>> ChannelStore::load_all() {
  return impl_->query<std::vector<ChannelState>>(
      "SELECT " + std::string{kColumns} + " FROM channels", collect_states);
}

Result<std::optional<ChannelState>> ChannelStore::get(const Bytes32& channelId) {
  return impl_->query<std::optional<ChannelState>>(
      "SELECT " + std::string{kColumns} + " FROM channels WHERE channel_id = ?1",
      [&](Statement& s) -> Result<std::optional<ChannelState>> {
        s.bind(1, channelId);
        auto row = s.step();
        if (!row) return row.failure();
        if (!*row) return std::optional<ChannelState>{};
        PAYCHAN_ASSIGN(auto state, read_state(s));
        return std::optional<ChannelState>{std::move(state)};
      });
}

Result<std::vector<std::pair<Bytes32, PendingRefund>>> ChannelStore::pending_refunds() {
  using Row = std::pair<Bytes32, PendingRefund>;
  return impl_->query<std::vector<Row>>(kPendingRefunds, [](Statement& s) {
    return collect_rows<Row>(s, [](const Statement& row) -> Result<Row> {
      PAYCHAN_ASSIGN(auto id_nonce, read_id_and_nonce(row));
      Row r{id_nonce.first, PendingRefund{id_nonce.second, 0}};
      PAYCHAN_ASSIGN(r.second.amount, decode_u128(row.blob(2)));
      return r;
    });
  });
}

Result<std::vector<std::pair<Bytes32, Uint128>>> ChannelStore::claimed_totals(ByteView after, std::size_t limit) {
  using Row = std::pair<Bytes32, Uint128>;
  // No fold waited for: the settle job's records are written to SQLite at once, and the log holds
  // only the gate's own writes, whose totals are the gate's already.
  return impl_->query_after<std::vector<Row>>(0, kClaimedTotals, [&](Statement& s) {
    s.bind(1, after).bind(2, sql_limit(limit));
    return collect_rows<Row>(s, [](const Statement& row) -> Result<Row> {
      Row r;
      PAYCHAN_ASSIGN(r.first, decode_bytes32(row.blob(0)));
      PAYCHAN_ASSIGN(r.second, decode_u128(row.blob(1)));
      return r;
    });
  });
}

Result<std::vector<std::pair<Bytes32, U256>>> ChannelStore::refunded_channels() {
  using Row = std::pair<Bytes32, U256>;
  return impl_->query<std::vector<Row>>(kRefundedChannels,
                                        [](Statement& s) { return collect_rows<Row>(s, read_id_and_nonce); });
}

Result<std::optional<ClosedChannel>> ChannelStore::closed_channel(const Bytes32& channelId) {
  using Closed = std::optional<ClosedChannel>;
  // Records come from deletions: the gate's erases, which reach SQLite at a fold, and the settle
  // job's and the reader's, written there at once. So a fold is waited for only while an erase is
  // in the log: the gate reads this on its I/O thread, for a channel it does not hold, and a fold
  // of many channels takes tens of milliseconds (bench_store's BM_FoldChannels).
  return impl_->query_after<Closed>(impl_->erased_through, kClosedChannel, [&](Statement& s) -> Result<Closed> {
    s.bind(1, channelId);
    auto row = s.step();
    if (!row) return row.failure();
    if (!*row) return Closed{};
    ClosedChannel closed;
    PAYCHAN_ASSIGN(closed.refundNonce, decode_u256(s.blob(0)));
    PAYCHAN_ASSIGN(closed.totalClaimed, decode_u128(s.blob(1)));
    return Closed{closed};
  });
}

Result<std::vector<ClosedRecord>> ChannelStore::closed_since(std::int64_t since, ByteView after, std::size_t limit) {
  return impl_->query_after<std::vector<ClosedRecord>>(0, kClosedSince, [&](Statement& s) {
    s.bind(1, since).bind(2, after);
    s.bind(3, sql_limit(limit));
    return collect_rows<ClosedRecord>(s, [](const Statement& row) -> Result<ClosedRecord> {
      ClosedRecord r;
      PAYCHAN_ASSIGN(r.channelId, decode_bytes32(row.blob(0)));
      PAYCHAN_ASSIGN(r.closed.refundNonce, decode_u256(row.blob(1)));
      PAYCHAN_ASSIGN(r.closed.totalClaimed, decode_u128(row.blob(2)));
      r.closedAt = row.integer(3);
      return r;
    });
  });
}

Result<std::vector<ChannelState>> ChannelStore::unclaimed() {
  return impl_->query<std::vector<ChannelState>>(
      "SELECT " + std::string{kColumns} + " FROM channels WHERE charged > total_claimed",
      collect_states);
}

LogBacklog ChannelStore::log_backlog() const {
  const std::uint64_t folded = impl_->folded_batches;  // first: it never passes logged_batches
  LogBacklog backlog{impl_->logged_batches - folded, 0};
  std::lock_guard lock(impl_->queue_mutex);
  backlog.fold_failures = impl_->fold_failures;
  return backlog;
}

Result<bool> ChannelStore::resolve_pending_refund(const Bytes32& channelId, const PendingRefund& pending,
                                                  const OnchainChannelState& chain) {
  PAYCHAN_TRY(impl_->fold_now());
  std::lock_guard lock(impl_->reader_mutex);
  Database& db = impl_->reader;
  auto resolved = db.prepare(kResolveRefund);
  if (!resolved) return resolved.failure();
  resolved->bind(1, channelId).bind(2, pending.nonce.to_be()).bind(3, encode_u128(chain.totalClaimed));
  resolved->bind(4, chain.refundNonce.to_be());
  auto spent = db.prepare(kEraseSettled);
  if (!spent) return spent.failure();
  spent->bind(1, channelId).bind(2, encode_u128(chain.balance));
  // Unchanged when another refund is pending now, or the row is gone: nothing to delete either.
  return db.run_then_if_changed(*resolved, *spent);
}

Status ChannelStore::record_claimed(const Bytes32& channelId, Uint128 totalClaimed) {
  PAYCHAN_TRY(impl_->fold_now());
  std::lock_guard lock(impl_->reader_mutex);
  Database& db = impl_->reader;
  return db.in_transaction([&]() -> Status {
    auto claimed = db.prepare(kRecordClaimed);
    if (!claimed) return claimed.failure();
    claimed->bind(1, channelId).bind(2, encode_u128(totalClaimed));
    PAYCHAN_TRY(claimed->run());
    auto settled = db.prepare(kEraseSettled);
    if (!settled) return settled.failure();
    settled->bind(1, channelId);
    return settled->run();
  });
}

Result<std::size_t> ChannelStore::forget_closed(std::uint64_t ageSeconds) {
  PAYCHAN_TRY(impl_->fold_now());
  std::lock_guard lock(impl_->reader_mutex);
  Database& db = impl_->reader;
  std::size_t forgotten = 0;
  PAYCHAN_TRY(db.in_transaction([&]() -> Status {
    PAYCHAN_TRY(db.exec(kDateClosed));
    auto forget = db.prepare(kForgetClosed);
    if (!forget) return forget.failure();
    forget->bind(1, static_cast<std::int64_t>(std::min<std::uint64_t>(ageSeconds, std::numeric_limits<std::int64_t>::max() / 2)));
    PAYCHAN_TRY(forget->run());
    forgotten = static_cast<std::size_t>(db.changes());
    return {};
  }));
  return forgotten;
}

}  // namespace paychan::persistence
