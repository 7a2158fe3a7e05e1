#include "persistence/channel_store.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
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

// A log this long is folded whatever the time: it bounds the log's size and a replay's work
// (~160k states).
constexpr std::uint64_t kFoldBytes = 64u << 20;
// So many channels written since the last fold are folded at once: commits wait behind a fold,
// ~9 ms for 2,000 channels here (bench_store's BM_FoldChannels), ~200 ms for 20,000.
constexpr std::size_t kFoldChannels = 2048;
// A writer that has had no commit for this long folds at once: an idle gate's store holds every
// commit in SQLite, where another process (the settle job) reads it, within milliseconds.
constexpr std::chrono::milliseconds kIdleFold{20};

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
    s.bind_unowned(5, state.signature).bind_unowned(6, balance).bind_unowned(7, totalClaimed);
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
  const ByteView sig = s.blob(4);
  if (id.size() != 32 || sig.size() != 65) return fail(ErrorCode::invalid_payload, "stored channel row has wrong field sizes");
  std::copy(id.begin(), id.end(), c.channelId.begin());
  PAYCHAN_ASSIGN(c.config, decode_config(s.blob(1)));
  PAYCHAN_ASSIGN(c.chargedCumulativeAmount, decode_u128(s.blob(2)));
  PAYCHAN_ASSIGN(c.signedMaxClaimable, decode_u128(s.blob(3)));
  std::copy(sig.begin(), sig.end(), c.signature.begin());
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
constexpr std::string_view kRefundedChannels = R"sql(
  SELECT channel_id, refund_nonce FROM channels
  WHERE refund_nonce != zeroblob(32) AND pending_refund_nonce IS NULL
)sql";
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
  std::vector<Flusher> owing;  // flushers told to flush, whose flush has not run yet
  bool stopping = false;
  std::thread thread;

  // The voucher log, when this store owns it; the rest is the writer thread's, but for the fold
  // requests (under queue_mutex) and has_unfolded.
  std::optional<VoucherLog> log;
  std::string frame;  // the batch being appended, its buffer reused
  // What the log holds that SQLite does not, by channel: a channel's writes in order, runs of
  // `keep` merged into their last (each sets every column the one before did).
  std::unordered_map<Bytes32, std::vector<LoggedState>, Bytes32Hash> unfolded;
  std::atomic<bool> has_unfolded{false};
  std::chrono::steady_clock::time_point fold_due;
  std::uint64_t folds_asked = 0;  // fold_now() calls so far
  std::uint64_t folds_done = 0;   // of which the writer has answered this many
  Status fold_status;             // its last answer
  bool fold_failing = false;      // the last fold failed: the next waits for fold_due
  bool writer_done = false;       // the writer thread has returned (under queue_mutex)
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

  void remember_unfolded(const LoggedState& e) {
    auto& writes = unfolded[e.state.channelId];
    if (!writes.empty() && writes.back().write == Write::keep && e.write == Write::keep) {
      // totalClaimed is written as a MAX: the merged write keeps the larger of the two.
      const Uint128 claimed = std::max(writes.back().state.onchain.totalClaimed, e.state.onchain.totalClaimed);
      writes.back() = e;
      writes.back().state.onchain.totalClaimed = claimed;
    } else {
      writes.push_back(e);
    }
  }

  // The batch made durable in the log; SQLite gets it at the next fold.
  Status append_batch(const std::vector<Queued>& batch) {
    std::vector<const LoggedState*> entries;
    entries.reserve(batch.size());
    for (const auto& q : batch) entries.push_back(&q.entry);
    frame.clear();
    append_frame(frame, log->generation(), entries);
    PAYCHAN_TRY(log->append(frame, options.durable));
    if (unfolded.empty()) fold_due = std::chrono::steady_clock::now() + options.fold_interval;
    for (const auto& q : batch) remember_unfolded(q.entry);
    has_unfolded = true;  // before the callers learn their states are durable
    return {};
  }

  // Writes what `into` holds (this store's log, or one it replays) into SQLite, with how far that
  // reaches, in one transaction; then empties the log into a new generation, the one after
  // `newest_generation`.
  Status fold(VoucherLog& into, std::uint64_t newest_generation) {
    const Status written = writer.in_transaction([&]() -> Status {
      for (const auto& [id, writes] : unfolded)
        for (const LoggedState& e : writes) PAYCHAN_TRY(write(e));
      sql.folded_through.bind(1, as_int(into.generation())).bind(2, as_int(into.size()));
      return sql.folded_through.run();
    });
    fold_failing = !written;
    if (!written) {
      fold_due = std::chrono::steady_clock::now() + options.fold_interval;  // retried then, not at once
      return written;
    }
    unfolded.clear();
    has_unfolded = false;
    // Everything is in SQLite now, whatever becomes of the reset: should it fail, the next append
    // tries again (and fails if that does).
    (void)into.reset(newest_generation + 1, options.durable);
    return {};
  }

  // At open, before the writer starts: what a crash left in `found` (this store's log, or another
  // process's it may replay) goes into SQLite, and the log starts a new generation.
  Status replay(VoucherLog& found) {
    PAYCHAN_ASSIGN(const ScannedLog scanned, found.read());
    std::uint64_t generation = 0, folded_through = 0;
    {
      auto position = writer.prepare(kFoldPosition);
      if (!position) return position.failure();
      PAYCHAN_ASSIGN(const bool row, position->step());
      if (!row) return fail(ErrorCode::invalid_payload, "the store has no voucher_log row");
      generation = static_cast<std::uint64_t>(position->integer(0));
      folded_through = static_cast<std::uint64_t>(position->integer(1));
    }
    for (const LogFrame& f : scanned.frames)
      if (scanned.generation != generation || f.end > folded_through)
        for (const LoggedState& e : f.states) remember_unfolded(e);
    return fold(found, std::max(generation, scanned.generation));
  }

  // Whether the log should be folded now, after a batch: asked for, the store closes, it is due,
  // or the writer is idle or the log holds many bytes or channels (unless the last fold failed:
  // then at fold_due).
  bool fold_wanted(bool asked, bool idle, bool closing) const {
    if (unfolded.empty()) return false;
    if (asked || closing) return true;
    const bool long_enough = log->size() >= kFoldBytes || unfolded.size() >= kFoldChannels;
    return std::chrono::steady_clock::now() >= fold_due || (!fold_failing && (idle || long_enough));
  }

  // From a reader's thread: every completed commit reaches SQLite before the read.
  Status fold_now() {
    if (!log || !has_unfolded) return {};
    std::unique_lock lock(queue_mutex);
    const std::uint64_t ticket = ++folds_asked;
    has_work.notify_one();
    folded.wait(lock, [&] { return folds_done >= ticket || writer_done; });
    if (folds_done < ticket) return fail(ErrorCode::store_failed, "the store is closing");
    return fold_status;
  }

  void run() {
    std::vector<Queued> batch;
    for (;;) {
      std::uint64_t asked = 0;
      bool closing = false;
      bool idle = false;  // no commit came for kIdleFold
      {
        std::unique_lock lock(queue_mutex);
        const auto ready = [&] { return stopping || flushed != 0 || folds_asked != folds_done; };
        if (unfolded.empty())
          has_work.wait(lock, ready);
        else
          idle = !has_work.wait_until(lock, std::min(fold_due, std::chrono::steady_clock::now() + kIdleFold), ready);
        if (stopping) flushed = queue.size();
        while (flushed != 0 && batch.size() < options.max_batch) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
          --flushed;
        }
        asked = folds_asked;
        closing = stopping && flushed == 0;  // this batch is the last
      }
      has_room.notify_all();
      if (!batch.empty()) {
        const Status status = log ? append_batch(batch) : write_batch(batch);
        for (auto& q : batch)
          if (q.done) q.done(status);
        batch.clear();
      }
      if (log) {
        const Status folded_now = fold_wanted(asked != folds_done, idle, closing) ? fold(*log, log->generation()) : Status{};
        if (asked != folds_done) {
          std::lock_guard lock(queue_mutex);
          folds_done = asked;
          fold_status = folded_now;
          folded.notify_all();
        }
      }
      if (closing) {
        std::lock_guard lock(queue_mutex);
        writer_done = true;
        folded.notify_all();
        return;
      }
    }
  }

  template <typename T, typename Query>
  Result<T> query(std::string_view sql, Query bind_and_collect) {
    PAYCHAN_TRY(fold_now());
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
}

ChannelStore::~ChannelStore() {
  {
    std::lock_guard lock(impl_->queue_mutex);
    impl_->stopping = true;
  }
  impl_->has_work.notify_all();
  impl_->thread.join();
}

Result<std::unique_ptr<ChannelStore>> ChannelStore::open(const std::string& path, StoreOptions options) {
  auto writer = open_wal(path, options.durable);
  if (!writer) return writer.failure();
  PAYCHAN_TRY(migrate(*writer, kMigrations));
  auto reader = open_wal(path, options.durable);
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
    PAYCHAN_ASSIGN(VoucherLog owned, VoucherLog::own(path));
    PAYCHAN_TRY(impl->replay(owned));
    impl->log = std::move(owned);
  } else {
    PAYCHAN_ASSIGN(auto idle, VoucherLog::open_if_idle(path));
    if (idle) PAYCHAN_TRY(impl->replay(*idle));
  }
  return std::unique_ptr<ChannelStore>(new ChannelStore(std::move(impl)));
}

bool ChannelStore::enqueue(const ChannelState& state, Done done, Flusher flusher, Write write,
                           const std::optional<PendingRefund>& pendingRefund) {
  std::unique_lock lock(impl_->queue_mutex);
  auto& owing = impl_->owing;
  if (impl_->queue.size() >= impl_->options.max_pending) {
    // Full: whatever waits for a flush is flushed now, since the caller that would flush it may
    // be the thread about to wait here. No flusher owes one then; a flush still on its way does
    // no harm.
    impl_->flushed = impl_->queue.size();
    owing.clear();
    impl_->has_work.notify_one();
    impl_->has_room.wait(lock, [&] { return impl_->queue.size() < impl_->options.max_pending; });
  }
  impl_->queue.push_back(Impl::Queued{LoggedState{state, write, pendingRefund}, std::move(done)});
  if (std::find(owing.begin(), owing.end(), flusher) != owing.end()) return false;
  owing.push_back(flusher);
  return true;
}

void ChannelStore::flush(Flusher flusher) {
  {
    std::lock_guard lock(impl_->queue_mutex);
    std::erase(impl_->owing, flusher);
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

Result<std::vector<std::pair<Bytes32, U256>>> ChannelStore::refunded_channels() {
  using Row = std::pair<Bytes32, U256>;
  return impl_->query<std::vector<Row>>(kRefundedChannels,
                                        [](Statement& s) { return collect_rows<Row>(s, read_id_and_nonce); });
}

Result<std::optional<ClosedChannel>> ChannelStore::closed_channel(const Bytes32& channelId) {
  using Closed = std::optional<ClosedChannel>;
  return impl_->query<Closed>(kClosedChannel, [&](Statement& s) -> Result<Closed> {
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

Result<std::vector<ChannelState>> ChannelStore::unclaimed() {
  return impl_->query<std::vector<ChannelState>>(
      "SELECT " + std::string{kColumns} + " FROM channels WHERE charged > total_claimed",
      collect_states);
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
