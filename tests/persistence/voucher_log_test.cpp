// The voucher log: its format (round trips, torn tails, hostile bytes, generations) and the store
// that owns it (what a crash leaves is replayed once, oldest segment first; reads see every commit;
// commits never wait for a fold; one owner at a time; and the same writes leave the same tables as a
// store without the log).
#include "persistence/voucher_log.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <future>
#include <cstring>
#include <map>
#include <thread>

#include "generators.hpp"
#include "temp_dir.hpp"
#include "persistence/channel_store.hpp"
#include "persistence/crc32c.hpp"
#include "persistence/store_test_support.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;

rc::Gen<std::optional<PendingRefund>> gen_pending() {
  return rc::gen::oneOf(rc::gen::just(std::optional<PendingRefund>{}),
                        rc::gen::apply([](U256 nonce, Uint128 amount) { return std::optional{PendingRefund{nonce, amount}}; },
                                       test::gen_u256(), test::gen_uint128()));
}

rc::Gen<LoggedState> gen_logged() {
  return rc::gen::apply(
      [](ChannelState s, int write, std::optional<PendingRefund> p) { return LoggedState{s, static_cast<StateWrite>(write), p}; },
      test::gen_channel_state(), rc::gen::inRange(0, 3), gen_pending());
}

std::string log_of(std::uint64_t generation, const std::vector<std::vector<LoggedState>>& frames) {
  std::string file = encode_log_header(generation);
  for (const auto& f : frames) {
    std::vector<const LoggedState*> p;
    for (const auto& s : f) p.push_back(&s);
    append_frame(file, generation, p);
  }
  return file;
}

RC_GTEST_PROP(VoucherLogFormat, FramesRoundTrip, ()) {
  const auto generation = *rc::gen::arbitrary<std::uint64_t>();
  const auto frames = *rc::gen::container<std::vector<std::vector<LoggedState>>>(
      rc::gen::resize(8, rc::gen::nonEmpty(rc::gen::container<std::vector<LoggedState>>(gen_logged()))));
  const std::string file = log_of(generation, frames);
  const auto scanned = scan_log(as_bytes(file));
  RC_ASSERT(scanned.ok());
  RC_ASSERT(scanned->generation == generation);
  RC_ASSERT(scanned->end == file.size());
  RC_ASSERT(scanned->frames.size() == frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) RC_ASSERT(scanned->frames[i].states == frames[i]);
}

// What a crash can leave: the file cut anywhere reads as the frames wholly before the cut.
RC_GTEST_PROP(VoucherLogFormat, ACutFileReadsAsItsWholeFrames, ()) {
  const auto frames = *rc::gen::container<std::vector<std::vector<LoggedState>>>(
      rc::gen::resize(6, rc::gen::nonEmpty(rc::gen::container<std::vector<LoggedState>>(gen_logged()))));
  const std::string file = log_of(7, frames);
  const auto cut = *rc::gen::inRange<std::size_t>(0, file.size() + 1);
  const auto scanned = scan_log(as_bytes(std::string_view(file).substr(0, cut)));
  RC_ASSERT(scanned.ok());
  const auto whole = scan_log(as_bytes(file));
  std::size_t expected = 0;
  while (expected < whole->frames.size() && whole->frames[expected].end <= cut) ++expected;
  RC_ASSERT(scanned->frames.size() == expected);
  if (cut < kLogHeaderBytes) RC_ASSERT(scanned->end == 0u);
}

// A byte changed inside a frame ends the log before that frame (its checksum fails).
RC_GTEST_PROP(VoucherLogFormat, ACorruptFrameEndsTheLog, ()) {
  const auto frames = *rc::gen::container<std::vector<std::vector<LoggedState>>>(
      rc::gen::resize(4, rc::gen::nonEmpty(rc::gen::container<std::vector<LoggedState>>(gen_logged()))));
  RC_PRE(!frames.empty());
  std::string file = log_of(3, frames);
  const auto at = *rc::gen::inRange<std::size_t>(kLogHeaderBytes, file.size());
  file[at] = static_cast<char>(file[at] ^ (1 + *rc::gen::inRange(0, 255)));
  const auto scanned = scan_log(as_bytes(file));
  RC_ASSERT(scanned.ok());
  for (const LogFrame& f : scanned->frames) RC_ASSERT(f.end <= at);
}

RC_GTEST_PROP(VoucherLogFormat, ArbitraryBytesNeverCrash, (const std::vector<std::uint8_t>& tail)) {
  std::string file = encode_log_header(1) + std::string(tail.begin(), tail.end());
  (void)scan_log(as_bytes(file));
}

TEST(VoucherLogFormat, FramesOfAnOlderGenerationAreNotRead) {
  ChannelState s;
  s.chargedCumulativeAmount = 5;
  const std::vector<std::vector<LoggedState>> one{{LoggedState{s}}};
  // A reset rewrote the header only: generation 4's frame still follows it.
  std::string file = log_of(4, one);
  file.replace(0, kLogHeaderBytes, encode_log_header(5));
  EXPECT_TRUE(scan_log(as_bytes(file))->frames.empty());
  EXPECT_EQ(scan_log(as_bytes(file))->end, kLogHeaderBytes);
  // The zeros the file grows by are no frame.
  EXPECT_TRUE(scan_log(as_bytes(encode_log_header(5) + std::string(64, '\0')))->frames.empty());
  EXPECT_FALSE(decode_log_header(as_bytes(std::string("paychanX") + std::string(8, '\0'))));
}

TEST(VoucherLogFormat, Crc32cKnownAnswer) {
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);  // RFC 3720's check value
  EXPECT_EQ(crc32c(as_bytes(std::string(32, '\0'))), 0x8A9136AAu);
}

// The log file as a store that owns it uses it, durable (its appends written around the page
// cache, and synced) or not: after appends, resets to a new generation and reopenings in any order,
// the log reads back exactly the frames appended since the last reset, and takes more after them.
RC_GTEST_PROP(VoucherLogFile, ReadsBackTheFramesAppendedSinceTheLastReset, ()) {
  TempDir dir;
  const bool durable = *rc::gen::arbitrary<bool>();
  std::vector<std::vector<LoggedState>> appended;
  std::optional<VoucherLog::Segments> segments;
  const auto reopen = [&] {
    segments.reset();  // as a gate that stops, or dies: nothing is written at close
    auto owned = VoucherLog::own(dir.file(), durable);
    RC_ASSERT(owned);
    segments.emplace(std::move(*owned));
    auto scanned = (*segments)[0].read();
    RC_ASSERT(scanned);
    RC_ASSERT(scanned->frames.size() == appended.size());
    for (std::size_t i = 0; i < appended.size(); ++i) RC_ASSERT(scanned->frames[i].states == appended[i]);
  };
  reopen();
  RC_ASSERT((*segments)[0].reset(1, durable));
  const int steps = *rc::gen::inRange(1, 16);
  for (int step = 0; step < steps; ++step) {
    VoucherLog& log = (*segments)[0];
    const int what = *rc::gen::inRange(0, 5);
    if (what == 0) {
      RC_ASSERT(log.reset(log.generation() + 1, durable));
      appended.clear();
    } else if (what == 1) {
      reopen();
    } else {  // frames of up to 24 states (~10 KB): some within a block, some across several
      auto states = *rc::gen::resize(24, rc::gen::nonEmpty(rc::gen::container<std::vector<LoggedState>>(gen_logged())));
      std::vector<const LoggedState*> pointers;
      for (const auto& s : states) pointers.push_back(&s);
      std::string frame;
      append_frame(frame, log.generation(), pointers);
      RC_ASSERT(log.append(frame, durable));
      appended.push_back(std::move(states));
    }
  }
  reopen();
}

// The rows SQLite holds, read past the store (as another process reads the file).
std::int64_t stored_rows(const std::string& path) { return query_int(path, "SELECT count(*) FROM channels"); }

void write_file(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

// A gate killed with commits only in the log: the next store to open the file replays them.
TEST(VoucherLogStore, WhatACrashLeftIsReplayedAtOpen) {
  TempDir dir;
  ASSERT_EQ(crash_after(dir.file(), [](ChannelStore& store) {
              for (std::uint8_t n = 1; n <= 20; ++n)
                for (Uint128 c = 1; c <= 5; ++c)
                  if (!store.commit_and_wait(channel(n, c))) return 1;
              return 0;  // the child then ends without closing the store: nothing folded
            }),
            0);
  EXPECT_EQ(stored_rows(dir.file()), 0) << "the commits were in the log only";
  auto store = ChannelStore::open(dir.file());  // the settle job's kind: not the log's owner
  ASSERT_TRUE(store) << store.error().to_string();
  for (std::uint8_t n = 1; n <= 20; ++n) EXPECT_EQ((*(*store)->get(channel(n, 0).channelId))->chargedCumulativeAmount, Uint128{5});
  EXPECT_EQ(stored_rows(dir.file()), 20);
}

// Replayed once: frames a fold wrote to SQLite before a crash kept it from resetting the log are
// skipped, so an older state never overwrites what the settle job or a later frame wrote since.
TEST(VoucherLogStore, FramesAlreadyFoldedAreNotReplayed) {
  TempDir dir;
  { ASSERT_TRUE(ChannelStore::open(dir.file(), owner())); }
  const LoggedState old_state{channel(1, 10)}, new_state{channel(2, 30)};
  std::string file = encode_log_header(9);
  append_frame(file, 9, std::vector<const LoggedState*>{&old_state});
  const std::size_t folded_through = file.size();
  append_frame(file, 9, std::vector<const LoggedState*>{&new_state});
  {
    auto store = ChannelStore::open(dir.file(), StoreOptions{false});
    ASSERT_TRUE((*store)->commit_and_wait(channel(1, 50)));  // newer than the folded frame
  }
  ASSERT_EQ(exec_on(dir.file(), "UPDATE voucher_log SET generation = 9, folded_through = " + std::to_string(folded_through)), 1);
  write_file(dir.file() + "-vlog", file);
  auto store = *ChannelStore::open(dir.file(), owner());
  EXPECT_EQ((*store->get(channel(1, 0).channelId))->chargedCumulativeAmount, Uint128{50});
  EXPECT_EQ((*store->get(channel(2, 0).channelId))->chargedCumulativeAmount, Uint128{30});
}

// A crash while a fold runs leaves writes in both segments: the older generation's are applied
// first, whichever file holds it, so the newer state is what the channel keeps.
TEST(VoucherLogStore, SegmentsAreReplayedOldestGenerationFirst) {
  for (const bool newer_in_first : {false, true}) {
    TempDir dir;
    { ASSERT_TRUE(ChannelStore::open(dir.file(), owner())); }
    ASSERT_EQ(exec_on(dir.file(), "UPDATE voucher_log SET generation = 4, folded_through = 0"), 1);
    const std::string older = log_of(5, {{LoggedState{channel(1, 10)}}, {LoggedState{channel(2, 3)}}});
    const std::string newer = log_of(6, {{LoggedState{channel(1, 20)}}});
    write_file(dir.file() + "-vlog", newer_in_first ? newer : older);
    write_file(dir.file() + "-vlog1", newer_in_first ? older : newer);
    auto store = *ChannelStore::open(dir.file(), owner());
    EXPECT_EQ((*store->get(channel(1, 0).channelId))->chargedCumulativeAmount, Uint128{20}) << newer_in_first;
    EXPECT_EQ((*store->get(channel(2, 0).channelId))->chargedCumulativeAmount, Uint128{3}) << newer_in_first;
  }
}

// The fold runs on a thread of its own: while another process holds SQLite's write lock (a settle
// job's transaction), commits still become durable, and a read asking for the fold gets its error
// once SQLite gives up waiting (5 s), not a hang. Nothing is lost: the fold is tried again, and
// the reads after the lock is released see every commit.
TEST(VoucherLogStore, CommitsGoOnWhileAFoldWaitsOrFails) {
  TempDir dir;
  StoreOptions o = owner();
  std::atomic<int> reported{0};
  o.on_fold_failure = [&](const Status& failed) {
    EXPECT_FALSE(failed);
    ++reported;
  };
  auto store = *ChannelStore::open(dir.file(), o);
  ASSERT_TRUE(store->commit_and_wait(channel(1, 7)));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto read = std::async(std::launch::async, [&] { return store->get(channel(1, 0).channelId); });
  std::this_thread::sleep_for(std::chrono::milliseconds{100});  // lets the fold start (and block) first
  for (std::uint8_t n = 2; n <= 50; ++n) ASSERT_TRUE(store->commit_and_wait(channel(n, n)));
  EXPECT_EQ(read.wait_for(std::chrono::seconds{0}), std::future_status::timeout)
      << "the commits did not wait for the fold";
  const auto failed = read.get();
  EXPECT_FALSE(failed) << "the fold could not take the write lock";
  EXPECT_GE(reported.load(), 1);
  EXPECT_GE(store->log_backlog().fold_failures, 1u);
  EXPECT_GE(store->log_backlog().unfolded_commits, 50u) << "the first and the 49 since";
  ASSERT_TRUE(store->commit_and_wait(channel(1, 8)));
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ((*store->get(channel(1, 0).channelId))->chargedCumulativeAmount, Uint128{8});
  EXPECT_EQ(stored_rows(dir.file()), 50);
  EXPECT_EQ(store->log_backlog().unfolded_commits, 0u);
  store.reset();
  auto reopened = *ChannelStore::open(dir.file());
  EXPECT_EQ((*reopened->load_all()).size(), 50u);
}

// A real write failure: the file size limit (RLIMIT_FSIZE) stops the log growing past its first
// 4 MiB. The batch that needed the room fails to its callers; the batches before and after it are
// durable, and the failed one is not replayed. In a child process: the limit is the process's.
TEST(VoucherLogStore, AFailedAppendFailsItsCallersAndLosesNothingAcknowledged) {
  TempDir dir;
  constexpr std::uint32_t kChannels = 512;  // ~200 KB a batch: the log's first 4 MiB fill in ~20
  const auto state = [](std::uint32_t id, Uint128 charged) {
    ChannelState s = channel(1, charged);
    std::memcpy(s.channelId.data(), &id, sizeof id);
    return s;
  };
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG
    auto store = ChannelStore::open(dir.file(), owner());
    if (!store) _exit(2);
    // Round r charges r on channels [0, n): every channel, until a round fails (the first before
    // the limit: the log then has 4 MiB); then the round after it, without the limit, on half of
    // them.
    const auto round = [&](Uint128 r, std::uint32_t n) {
      std::atomic<std::uint32_t> pending{n};
      std::atomic<bool> failed{false};
      std::promise<void> all;
      for (std::uint32_t id = 0; id < n; ++id)
        (void)(*store)->enqueue(state(id, r), [&](const Status& st) {
          if (!st) failed = true;
          if (--pending == 0) all.set_value();
        }, &pending);
      (*store)->flush(&pending);
      all.get_future().wait();
      return !failed;
    };
    const rlimit limit{4u << 20, RLIM_INFINITY};
    if (!round(1, kChannels) || setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(3);
    std::uint64_t r = 2;
    while (r < 200 && round(r, kChannels)) ++r;
    const rlimit none{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_FSIZE, &none) != 0 || !round(r + 1, kChannels / 2)) _exit(4);
    if (write(report[1], &r, sizeof r) != sizeof r) _exit(5);
    _exit(0);  // no destructor: the log is replayed, as after kill -9
  }
  close(report[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  std::uint64_t failed_round = 0;
  ASSERT_EQ(read(report[0], &failed_round, sizeof failed_round), static_cast<ssize_t>(sizeof failed_round));
  close(report[0]);
  ASSERT_LT(failed_round, 200u) << "the limit never stopped an append";
  auto store = *ChannelStore::open(dir.file());
  for (std::uint32_t id = 0; id < kChannels; ++id) {
    const Uint128 expected = id < kChannels / 2 ? failed_round + 1 : failed_round - 1;
    const auto stored = *store->get(state(id, 0).channelId);
    ASSERT_TRUE(stored) << "channel " << id;
    ASSERT_EQ(stored->chargedCumulativeAmount, expected) << "channel " << id;
  }
}

// The gate's open writes both segments' first step of zeros, so its first commits overwrite
// blocks already written rather than extend the file (a 4 MiB write and its sync, ~10 ms, that the
// first paid requests after a start would wait for). The settle job's open adds nothing.
TEST(VoucherLogStore, TheOwnersOpenPreallocatesBothSegments) {
  TempDir dir;
  const auto sizes = [&] {
    return std::pair{std::filesystem::file_size(dir.file() + "-vlog"), std::filesystem::file_size(dir.file() + "-vlog1")};
  };
  auto store = *ChannelStore::open(dir.file(), owner());
  const auto opened = sizes();
  EXPECT_GE(opened.first, VoucherLog::kGrowth);
  EXPECT_GE(opened.second, VoucherLog::kGrowth);
  for (Uint128 c = 1; c <= 100; ++c) ASSERT_TRUE(store->commit_and_wait(channel(1, c)));
  EXPECT_EQ(sizes(), opened) << "the commits grew a segment";
  store.reset();
  std::filesystem::resize_file(dir.file() + "-vlog1", 0);
  ASSERT_TRUE(ChannelStore::open(dir.file()));
  EXPECT_LT(std::filesystem::file_size(dir.file() + "-vlog1"), VoucherLog::kGrowth) << "a store not owning the log grew it";
}

TEST(VoucherLogStore, ReadsSeeEveryCompletedCommit) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file(), owner());
  ASSERT_TRUE(store->commit_and_wait(channel(1, 7)));
  EXPECT_EQ(stored_rows(dir.file()), 0) << "not folded yet (an hour's interval)";
  EXPECT_EQ((*store->get(channel(1, 0).channelId))->chargedCumulativeAmount, Uint128{7});
  EXPECT_EQ(stored_rows(dir.file()), 1) << "the read folded it";
  ASSERT_TRUE(store->commit_and_wait(channel(1, 8)));
  ASSERT_TRUE(store->record_claimed(channel(1, 0).channelId, 8));
  EXPECT_EQ((*store->unclaimed()).size(), 0u) << "the claim was recorded on the folded charge";
}

// The gate reads a closed-channel record on its I/O thread for every channel it does not hold, and
// a fold of many channels takes tens of milliseconds: the read waits for one only while an erase,
// whose record is in the log, is not folded yet.
TEST(VoucherLogStore, AClosedChannelReadWaitsForAFoldOnlyWhileAnEraseIsInTheLog) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file(), owner());
  ChannelState s = channel(1, 1000);
  ASSERT_TRUE(store->commit_and_wait(s));
  EXPECT_FALSE(*store->closed_channel(channel(2, 0).channelId));
  EXPECT_EQ(store->log_backlog().unfolded_commits, 1u) << "a read with no erase in the log folded it";
  EXPECT_EQ(stored_rows(dir.file()), 0);

  s.onchain.refundNonce = U256{4};
  s.onchain.totalClaimed = 1000;
  ASSERT_TRUE(store_write(*store, s, ChannelStore::Write::erase, std::nullopt));
  EXPECT_EQ(*store->closed_channel(s.channelId), (ClosedChannel{U256{4}, 1000})) << "the erase, from the log";
  EXPECT_EQ(store->log_backlog().unfolded_commits, 0u);

  ASSERT_TRUE(store->commit_and_wait(channel(3, 10)));
  EXPECT_EQ(*store->closed_channel(s.channelId), (ClosedChannel{U256{4}, 1000}));
  EXPECT_EQ(store->log_backlog().unfolded_commits, 1u) << "folded again for an erase already folded";
}

TEST(VoucherLogStore, TheLogIsFoldedWithinItsInterval) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file(), owner(std::chrono::milliseconds{20}));
  ASSERT_TRUE(store->commit_and_wait(channel(1, 7)));
  // Polled, not timed: the writer folds once the interval has passed, whenever that is seen here.
  for (int i = 0; i < 1000 && stored_rows(dir.file()) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_EQ(stored_rows(dir.file()), 1);
}

// Past 65,536 channels the log is folded without waiting for its interval (or an idle moment),
// which bounds the memory unfolded writes take, a fold's transaction and the time a read asking for
// one waits.
TEST(VoucherLogStore, ManyChannelsAreFoldedBeforeTheInterval) {
  TempDir dir;
  StoreOptions o = owner();
  o.durable = false;
  auto store = *ChannelStore::open(dir.file(), o);
  // Commits of new channels, 256 at a time, past the bound: no read asks for a fold, and the
  // interval and the idle time before a fold are an hour; only the bound can fold. Then SQLite
  // must come to hold them, whenever the fold thread gets to run (polled: a loaded machine may
  // starve it for a while, and committing on meanwhile would only prove the commits faster).
  constexpr std::uint32_t kBound = 65536;
  std::uint32_t committed = 0;
  while (committed < kBound + 256) {
    std::atomic<int> pending{256};
    std::promise<void> all;
    for (int k = 0; k < 256; ++k, ++committed) {
      ChannelState s = channel(1, 1);
      std::memcpy(s.channelId.data(), &committed, sizeof committed);
      (void)store->enqueue(s, [&](const Status& st) {
        EXPECT_TRUE(st.ok());
        if (--pending == 0) all.set_value();
      }, &pending);
    }
    store->flush(&pending);
    all.get_future().wait();
  }
  for (int i = 0; i < 6000 && stored_rows(dir.file()) < kBound; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_GE(stored_rows(dir.file()), kBound) << "not folded within a minute of passing the bound";
}

TEST(VoucherLogStore, OneOwnerAtATime) {
  TempDir dir;
  auto gate = *ChannelStore::open(dir.file(), owner());
  ASSERT_TRUE(gate->commit_and_wait(channel(1, 7)));
  const auto second = ChannelStore::open(dir.file(), owner());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::store_failed);
  EXPECT_NE(second.error().detail.find("running paychan gate"), std::string::npos) << second.error().detail;
  // The settle job's store opens beside it, and reads SQLite as the gate last folded it (here
  // when it closes).
  auto settle = ChannelStore::open(dir.file());
  ASSERT_TRUE(settle);
  EXPECT_TRUE((*settle)->load_all());
  gate.reset();
  EXPECT_EQ((*(*settle)->get(channel(1, 0).channelId))->chargedCumulativeAmount, Uint128{7});
}

// The log changes where and when states are written, not what the tables end up holding: random
// writes of every kind, on a few channels, leave the same rows and closed-channel records with it
// as without it, across folds (reads fold), reopenings and merged runs of keeps.
RC_GTEST_PROP(VoucherLogStore, SameTablesAsWithoutTheLog, ()) {
  const auto ids = *rc::gen::container<std::vector<std::uint8_t>>(3, rc::gen::inRange<std::uint8_t>(1, 255));
  const auto writes = *rc::gen::resize(30, rc::gen::container<std::vector<LoggedState>>(rc::gen::apply(
      [ids](LoggedState e, std::size_t which) {
        e.state.channelId.fill(ids[which]);
        e.state.config = ChannelConfig{};  // one config per channel id, as on chain
        e.state.config.payer.bytes.fill(ids[which]);
        return e;
      },
      gen_logged(), rc::gen::inRange<std::size_t>(0, ids.size()))));
  const auto folds = *rc::gen::container<std::vector<bool>>(writes.size(), rc::gen::weightedElement<bool>({{1, true}, {4, false}}));
  TempDir dir;
  const std::string plain = dir.file("plain.sqlite"), logged = dir.file("logged.sqlite");
  {
    auto a = *ChannelStore::open(plain, StoreOptions{false});
    StoreOptions o = owner();
    o.durable = false;
    auto b = ChannelStore::open(logged, o);
    RC_ASSERT(b.ok());
    for (std::size_t i = 0; i < writes.size(); ++i) {
      const LoggedState& w = writes[i];
      RC_ASSERT(store_write(*a, w.state, w.write, w.pendingRefund).ok());
      RC_ASSERT(store_write(**b, w.state, w.write, w.pendingRefund).ok());
      if (folds[i]) RC_ASSERT((*b)->pending_refunds().ok());
    }
  }
  auto a = *ChannelStore::open(plain), b = *ChannelStore::open(logged);
  auto by_id = [](std::vector<ChannelState> v) {
    std::map<Bytes32, ChannelState> m;
    for (auto& s : v) m[s.channelId] = s;
    return m;
  };
  RC_ASSERT(by_id(*a->load_all()) == by_id(*b->load_all()));
  RC_ASSERT(*a->pending_refunds() == *b->pending_refunds());
  for (std::uint8_t id : ids) {
    Bytes32 key;
    key.fill(id);
    RC_ASSERT(*a->closed_channel(key) == *b->closed_channel(key));
  }
}

}  // namespace
}  // namespace paychan::persistence
