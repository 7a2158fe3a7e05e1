// Helpers shared by the channel store's tests.
#pragma once

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <string>

#include "persistence/channel_store.hpp"

namespace paychan::persistence {

// One state written as `how`, waited for.
inline Status store_write(ChannelStore& store, const ChannelState& s, ChannelStore::Write how,
                          const std::optional<PendingRefund>& refund) {
  std::promise<Status> written;
  (void)store.enqueue(s, [&](const Status& st) { written.set_value(st); }, &written, how, refund);
  store.flush(&written);
  return written.get_future().get();
}

// Channel `n` (its id and payer filled with n), charged `charged` under a voucher for as much.
inline ChannelState channel(std::uint8_t n, Uint128 charged) {
  ChannelState s;
  s.channelId.fill(n);
  s.config.withdrawDelay = 900;
  s.config.payer.bytes.fill(n);
  s.chargedCumulativeAmount = charged;
  s.signedMaxClaimable = charged;
  s.onchain.balance = 1'000'000;
  return s;
}

// What the store holds as channel `n`'s charged total (0: no row, or the read failed).
inline Uint128 charged(ChannelStore& store, std::uint8_t n) {
  const auto row = store.get(channel(n, 0).channelId);
  return row && *row ? (*row)->chargedCumulativeAmount : 0;
}

// The options of a store that owns its voucher log, as the gate's does, but folds only when a test
// asks (a read, or `fold_interval`), however slowly the test runs.
inline StoreOptions owner(std::chrono::milliseconds fold_interval = std::chrono::hours{1}) {
  StoreOptions o;
  o.voucher_log = true;
  o.fold_interval = fold_interval;
  o.idle_fold = std::chrono::hours{1};
  return o;
}

// Runs `gate` in a child process as the gate's store would, then ends it without closing the store,
// as kill -9 would: what it committed is in the log only. The child's exit status: 0, or the
// number of the step that went wrong.
inline int crash_after(const std::string& path, const std::function<int(ChannelStore&)>& gate) {
  const pid_t child = fork();
  if (child == 0) {
    alarm(60);  // a hung child ends, and fails the test, rather than hold up the suite
    auto store = ChannelStore::open(path, owner());
    _exit(store ? gate(**store) : 100);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// Runs `sql` on the file through a connection of its own (as another process would): the rows it
// changed, or -1 if it failed.
inline int exec_on(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  const int changed = rc == SQLITE_OK ? sqlite3_changes(db) : -1;
  sqlite3_close(db);
  return changed;
}

// The one integer `sql` selects from the file, read through a connection of its own; -1 if it
// failed.
inline std::int64_t query_int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, 10'000);
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

}  // namespace paychan::persistence
