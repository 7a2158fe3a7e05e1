#include "persistence/wal_write_buffer.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace paychan::persistence {
namespace {

// The write-ahead log's frame header (https://www.sqlite.org/fileformat2.html#walformat): 24 bytes,
// bytes 4..7 the database's size in pages after a commit, zero in every other frame.
constexpr int kFrameHeaderBytes = 24;
constexpr std::size_t kMaxRun = std::size_t{1} << 20;  // past this, the run is written and a new one begun
// The default VFS writes at most 128 KiB - 1 bytes a call: its seekAndWrite masks the length to 17
// bits, and a write of 128 KiB or more ends in SQLITE_FULL after at most part of it. So a run goes
// to it in pieces of this size.
constexpr std::size_t kMaxWrite = 124 * 1024;

sqlite3_vfs* g_default = nullptr;  // the VFS wrapped, set once at registration

// A write-ahead log file: the default VFS's file (`real`, in the memory after this struct) and the
// run of writes not yet passed to it.
struct WalFile {
  sqlite3_file base;  // first: SQLite sees a WalFile as its sqlite3_file
  sqlite3_file* real;
  unsigned char* run;
  std::size_t run_size;
  std::size_t run_capacity;
  sqlite3_int64 run_offset;          // where run[0] goes in the file
  sqlite3_int64 commit_page_offset;  // where the page of the commit frame last written goes (else -1)
  bool write_through;                // the log is padded to sectors: every write goes at once
};

constexpr int aligned(int bytes) { return (bytes + 15) & ~15; }

WalFile* as_wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
const sqlite3_io_methods& real_methods(WalFile* f) { return *f->real->pMethods; }

int flush(WalFile* f) {
  int rc = SQLITE_OK;
  for (std::size_t done = 0; done < f->run_size && rc == SQLITE_OK; done += kMaxWrite) {
    const std::size_t n = std::min(kMaxWrite, f->run_size - done);
    rc = real_methods(f).xWrite(f->real, f->run + done, static_cast<int>(n), f->run_offset + static_cast<sqlite3_int64>(done));
  }
  f->run_size = 0;  // written or failed: a failed run is not retried (SQLite fails the commit)
  return rc;
}

bool append(WalFile* f, const void* data, int amount) {
  const auto n = static_cast<std::size_t>(amount);
  if (f->run_size + n > kMaxRun) return false;
  if (f->run_size + n > f->run_capacity) {
    std::size_t capacity = f->run_capacity == 0 ? 64 * 1024 : f->run_capacity;
    while (capacity < f->run_size + n) capacity *= 2;
    auto* grown = static_cast<unsigned char*>(std::realloc(f->run, capacity));
    if (grown == nullptr) return false;
    f->run = grown;
    f->run_capacity = capacity;
  }
  std::memcpy(f->run + f->run_size, data, n);
  f->run_size += n;
  return true;
}

bool is_commit_frame_header(const void* data, int amount) {
  if (amount != kFrameHeaderBytes) return false;
  const auto* b = static_cast<const unsigned char*>(data);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

int wal_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* f = as_wal(file);
  if (f->write_through) return real_methods(f).xWrite(f->real, data, amount, offset);
  if (f->run_size != 0 && offset != f->run_offset + static_cast<sqlite3_int64>(f->run_size)) {
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  }
  if (f->run_size == 0) f->run_offset = offset;
  if (!append(f, data, amount)) {  // too long a run, or no memory: write what is held, then this
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
    if (const int rc = real_methods(f).xWrite(f->real, data, amount, offset); rc != SQLITE_OK) return rc;
  }
  // SQLite writes a commit frame's page right after its header, and then publishes the commit:
  // the page's write ends the run. (It also rewrites frame headers alone, the checksums of a
  // transaction that overwrote frames it had spilled; this VFS's connections do not spill.)
  const bool commit_page = offset == f->commit_page_offset;
  f->commit_page_offset = is_commit_frame_header(data, amount) ? offset + kFrameHeaderBytes : -1;
  return commit_page ? flush(f) : SQLITE_OK;
}

int wal_close(sqlite3_file* file) {
  WalFile* f = as_wal(file);
  const int flushed = flush(f);
  const int closed = real_methods(f).xClose(f->real);
  std::free(f->run);
  f->run = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int wal_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  WalFile* f = as_wal(file);
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f).xRead(f->real, out, amount, offset);
}

int wal_truncate(sqlite3_file* file, sqlite3_int64 size) {
  WalFile* f = as_wal(file);
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f).xTruncate(f->real, size);
}

int wal_sync(sqlite3_file* file, int flags) {
  WalFile* f = as_wal(file);
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f).xSync(f->real, flags);
}

int wal_file_size(sqlite3_file* file, sqlite3_int64* size) {
  WalFile* f = as_wal(file);
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f).xFileSize(f->real, size);
}

int wal_lock(sqlite3_file* file, int level) { return real_methods(as_wal(file)).xLock(as_wal(file)->real, level); }
int wal_unlock(sqlite3_file* file, int level) { return real_methods(as_wal(file)).xUnlock(as_wal(file)->real, level); }
int wal_check_reserved(sqlite3_file* file, int* out) {
  return real_methods(as_wal(file)).xCheckReservedLock(as_wal(file)->real, out);
}

int wal_file_control(sqlite3_file* file, int op, void* arg) {
  WalFile* f = as_wal(file);
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_methods(f).xFileControl(f->real, op, arg);
}

int wal_sector_size(sqlite3_file* file) { return real_methods(as_wal(file)).xSectorSize(as_wal(file)->real); }
int wal_device_characteristics(sqlite3_file* file) {
  return real_methods(as_wal(file)).xDeviceCharacteristics(as_wal(file)->real);
}

// Version 1: SQLite maps shared memory and fetches pages through the database file, never the log.
const sqlite3_io_methods kWalMethods = {
    .iVersion = 1,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device_characteristics,
};

int open_file(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0)  // any other file is the default VFS's own, in place
    return g_default->xOpen(g_default, name, file, flags, out_flags);
  WalFile* f = as_wal(file);
  auto* real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + aligned(sizeof(WalFile)));
  const int rc = g_default->xOpen(g_default, name, real, flags, out_flags);
  if (rc != SQLITE_OK) {
    f->base.pMethods = nullptr;  // SQLite calls no method of a file whose open failed
    return rc;
  }
  f->real = real;
  f->run = nullptr;
  f->run_size = f->run_capacity = 0;
  f->run_offset = 0;
  f->commit_page_offset = -1;
  // Without powersafe overwrite, SQLite pads a commit to the sector with copies of its frame, and
  // writes the copy that crosses the boundary in two parts with a sync between: the second part is
  // neither a commit header nor its page. It decides by the database file, whose URI parameter
  // psow=0 the log's own file does not see: that parameter is read here from the log's name.
  const bool powersafe = (real->pMethods->xDeviceCharacteristics(real) & SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0 &&
                         sqlite3_uri_boolean(name, "psow", 1) != 0;
  f->write_through = !powersafe;
  f->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// Everything else is the default VFS's, called with the default VFS.
int del(sqlite3_vfs*, const char* name, int sync_dir) { return g_default->xDelete(g_default, name, sync_dir); }
int access_file(sqlite3_vfs*, const char* name, int flags, int* out) { return g_default->xAccess(g_default, name, flags, out); }
int full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_default->xFullPathname(g_default, name, n, out);
}
void* dl_open(sqlite3_vfs*, const char* name) { return g_default->xDlOpen(g_default, name); }
void dl_error(sqlite3_vfs*, int n, char* out) { g_default->xDlError(g_default, n, out); }
void (*dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) { return g_default->xDlSym(g_default, handle, symbol); }
void dl_close(sqlite3_vfs*, void* handle) { g_default->xDlClose(g_default, handle); }
int randomness(sqlite3_vfs*, int n, char* out) { return g_default->xRandomness(g_default, n, out); }
int sleep_for(sqlite3_vfs*, int microseconds) { return g_default->xSleep(g_default, microseconds); }
int current_time(sqlite3_vfs*, double* out) { return g_default->xCurrentTime(g_default, out); }
int last_error(sqlite3_vfs*, int n, char* out) { return g_default->xGetLastError(g_default, n, out); }
int current_time_ms(sqlite3_vfs*, sqlite3_int64* out) { return g_default->xCurrentTimeInt64(g_default, out); }

}  // namespace

const char* wal_write_buffer_vfs() noexcept {
  static const char* const name = []() -> const char* {
    g_default = sqlite3_vfs_find(nullptr);
    if (g_default == nullptr || g_default->iVersion < 2) return nullptr;
    static sqlite3_vfs vfs{
        .iVersion = 2,  // no system-call overrides: they are the default VFS's business
        .szOsFile = aligned(sizeof(WalFile)) + g_default->szOsFile,
        .mxPathname = g_default->mxPathname,
        .pNext = nullptr,
        .zName = "paychan-wal-write-buffer",
        .pAppData = nullptr,
        .xOpen = open_file,
        .xDelete = del,
        .xAccess = access_file,
        .xFullPathname = full_pathname,
        .xDlOpen = dl_open,
        .xDlError = dl_error,
        .xDlSym = dl_sym,
        .xDlClose = dl_close,
        .xRandomness = randomness,
        .xSleep = sleep_for,
        .xCurrentTime = current_time,
        .xGetLastError = last_error,
        .xCurrentTimeInt64 = current_time_ms,
        .xSetSystemCall = nullptr,
        .xGetSystemCall = nullptr,
        .xNextSystemCall = nullptr,
    };
    if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) return nullptr;
    return vfs.zName;
  }();
  return name;
}

}  // namespace paychan::persistence
