// The voucher log file: where the gate's store makes commits durable, before SQLite holds them.
//
// Why: a group commit through SQLite rewrites a 4 KiB page of its write-ahead log for every channel
// it touches, plus SQLite's locks and checkpoints. With 20,000 channels that was 10 µs of the
// store thread's time per paid request (gate_load). Appending a batch's states to this file costs
// one write of ~400 bytes a state (direct, in a durable store: BlockAppender) and one fdatasync;
// the store folds the log into SQLite now and then (ChannelStore, StoreOptions::fold_interval),
// where a channel's many vouchers since the last fold become one row update.
//
// The log is two files, segments: one takes the appends while the other, frozen, is folded into
// SQLite on a thread of its own and then emptied, so commits never wait for a fold. Each segment's
// header names its generation, and generations rise from one segment to the next: a replay applies
// them oldest first.
//
// One process owns a store's log at a time: it holds an exclusive flock on the first segment. The
// gate's store owns it for its lifetime; any other ChannelStore opening the file (the settle job)
// replays what a crashed owner left, under the lock, and lets it go.
//
// Thread-safety: none; one thread at a time uses a segment: open(), then the store's writer thread
// while it takes appends, the fold thread while it is frozen.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "channel/result.hpp"
#include "persistence/block_appender.hpp"
#include "persistence/voucher_log_format.hpp"

namespace paychan::persistence {

class VoucherLog {
 public:
  // The two segments of the store at `store_path` (its name with "-vlog" and "-vlog1" appended),
  // created if missing and locked for the caller's lifetime (waiting up to 2 s for another
  // process's replay), with their directory synced: the gate's store. With `durable`, the appends
  // are written around the page cache (BlockAppender), all of them (a durable store syncs every
  // append), where the file system takes direct writes of 4 KiB blocks; through it elsewhere.
  // Errors: store_failed (another process holds the lock: a gate is running on the store; or the
  // file system refused).
  using Segments = std::array<VoucherLog, 2>;
  [[nodiscard]] static Result<Segments> own(const std::string& store_path, bool durable);
  // The same segments, locked, when the first exists and no other process holds it: what a store
  // that does not own the log replays. nullopt when there is none, or a gate holds it. Errors:
  // store_failed.
  [[nodiscard]] static Result<std::optional<Segments>> open_if_idle(const std::string& store_path);
  VoucherLog(VoucherLog&& other) noexcept;
  VoucherLog& operator=(VoucherLog&& other) noexcept;
  VoucherLog(const VoucherLog&) = delete;
  ~VoucherLog();  // closes the file, releasing the lock

  // The whole file read and scanned (scan_log). Before the first append or reset. A file with no
  // header is emptied.
  [[nodiscard]] Result<ScannedLog> read();
  // Empties the log into a new generation by rewriting its header, synced (if `sync`). Call it
  // only once everything the log held is in SQLite. On failure the log is empty all the same, and
  // the next append writes the header again first (and fails if that does).
  [[nodiscard]] Status reset(std::uint64_t generation, bool sync);
  // Appends `frames` (whole frames of the current generation) after the last and, if `sync`, makes
  // them durable. On failure the log ends where it did, for a replay too (zeros are written over
  // the frames, and synced, as far as the disk still takes them), and the next append overwrites
  // the place.
  [[nodiscard]] Status append(std::string_view frames, bool sync);
  // Grows the file to kGrowth now, if it is shorter, synced if `sync`: the owner's open pays for
  // the first step of zeros and its sync (~10 ms here), not the first commit after a gate starts.
  [[nodiscard]] Status preallocate(bool sync);

  // The file grows in steps of zeros written ahead of the frames: an fdatasync after a write that
  // extends a file also commits the file system's journal (its size), and costs about twice one
  // that overwrites written blocks (244 against 111-130 µs here). Zeros never read as a frame.
  static constexpr std::uint64_t kGrowth = 4u << 20;

  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

 private:
  VoucherLog(int fd, std::string path) noexcept : fd_(fd), path_(std::move(path)) {}
  // open_if_idle's answers, and own's error when the lock is held.
  enum class Held { opened, missing, busy };
  [[nodiscard]] static Result<std::pair<Held, Segments>> open(const std::string& store_path, bool create,
                                                              std::chrono::milliseconds wait);
  int fd_ = -1;
  std::string path_;
  std::uint64_t generation_ = 0;
  std::uint64_t size_ = 0;       // where the next frame goes
  std::uint64_t allocated_ = 0;  // the file's size, as read() found it and grow() or preallocate() made it
  bool header_synced_ = true;    // false after a reset whose header may not be on disk yet
  std::optional<BlockAppender> direct_;  // set in a durable owner's segments: appends go through it
  [[nodiscard]] Status write_header(bool sync);
  [[nodiscard]] Status sync_data();
  [[nodiscard]] Status write_zeros(std::uint64_t from, std::uint64_t to);
  // Writes `frames` at size_ through direct_, or through the page cache once direct_ is refused.
  [[nodiscard]] Status write_direct(std::string_view frames);

  [[nodiscard]] Status grow(std::uint64_t needed);
};

}  // namespace paychan::persistence
