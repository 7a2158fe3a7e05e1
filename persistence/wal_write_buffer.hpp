// A SQLite VFS that writes each transaction's write-ahead-log frames to the file in one system
// call, not two per page.
//
// SQLite writes a frame as its 24-byte header and then its page: 2 pwrite calls a page, the
// second one unaligned. A group commit that touches 9 pages made 18 calls, about 42 µs of kernel
// time on this project's disks, against 3–4 µs for one write of the same bytes; with many channels
// a commit touches a page per state, so the calls cost more than the rows' own SQL.
//
// The VFS is the platform's default one, except for write-ahead-log files: their writes are kept
// in memory while each continues the last, and reach the file (one write call) before anything
// that could need them there:
// - a write that does not continue the run (another offset), a read, a sync, a truncate, a size
//   query, a file control, a close;
// - the page of a commit frame (after a frame header whose "database size after commit" is not
//   zero): SQLite publishes a commit to other connections (the wal-index header) right after
//   writing its frames, and syncs before only with synchronous=FULL. Flushing at the commit frame
//   keeps every published frame in the file whatever the connection's synchronous setting.
// Precondition: a connection through this VFS never spills (PRAGMA cache_spill = OFF, which
// Database::open sets, checks, and keeps: its connections refuse to prepare a statement that
// sets cache_spill). A spill writes frames of a transaction not yet committed; if it then
// rolled back, nothing would touch the log before the write lock is released, and its frames,
// still held here, would reach the file later, over another writer's commit. Without spills a run
// lives only within SQLite's one call that writes a commit's frames, and every flush is caused by
// one of its writes or by its sync: a failed flush fails that write or sync, which SQLite treats
// as a failed commit (the default VFS would have failed the same write).
// With powersafe overwrite off (the URI parameter psow=0), SQLite pads commits to the sector in a
// pattern this does not follow, and the log's writes go straight through.
// So the file's bytes, and their order with respect to syncs and to what other connections see,
// are what the default VFS would give; only the number of calls changes.
//
// Thread-safety: SQLite serializes calls on one file; registration is once per process.
#pragma once

namespace paychan::persistence {

// The VFS's name for sqlite3_open_v2, registered (not as the default) on the first call; nullptr
// when SQLite has no default VFS to wrap (then open with the default).
[[nodiscard]] const char* wal_write_buffer_vfs() noexcept;

}  // namespace paychan::persistence
