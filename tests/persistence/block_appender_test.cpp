// BlockAppender: every write is whole aligned blocks, yet after any mix of appends, appends that are
// not kept (their flush failed) and restarts at an earlier end, the file begins with exactly the
// bytes kept.
#include "persistence/block_appender.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <fstream>
#include <optional>
#include <stdexcept>
#include <iterator>

#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// An empty file at `path` and its appender; nullopt where the file system refuses O_DIRECT (tmpfs
// before Linux 6.6), as the voucher log then writes through the page cache.
std::optional<BlockAppender> appender_of(const std::string& path) {
  std::ofstream{path};
  auto opened = BlockAppender::open(path);
  if (!opened) throw std::runtime_error(opened.error().to_string());
  return std::move(*opened);
}

TEST(BlockAppender, AnAppendRewritesItsTailBlockWholeWithZerosAfter) {
  TempDir dir;
  auto direct = appender_of(dir.file("log"));
  if (!direct) GTEST_SKIP() << "the file system under " << dir.path << " refuses O_DIRECT";
  BlockAppender& appender = *direct;
  appender.restart("head");
  EXPECT_EQ(appender.end_of_blocks(3), BlockAppender::kBlock);
  ASSERT_TRUE(*appender.write("abc"));
  appender.advance();
  std::string expected = "headabc";
  expected.resize(BlockAppender::kBlock, '\0');
  EXPECT_EQ(contents(dir.file("log")), expected);
  // The next append starts in the same block: its bytes so far are written again, unchanged.
  const std::string spanning(BlockAppender::kBlock, 'x');
  EXPECT_EQ(appender.end_of_blocks(spanning.size()), 2 * BlockAppender::kBlock);
  ASSERT_TRUE(*appender.write(spanning));
  appender.advance();
  expected = "headabc" + spanning;
  expected.resize(2 * BlockAppender::kBlock, '\0');
  EXPECT_EQ(contents(dir.file("log")), expected);
}

RC_GTEST_PROP(BlockAppender, TheFileBeginsWithWhatWasKept, ()) {
  TempDir dir;
  const std::string path = dir.file("log");
  auto direct = appender_of(path);
  if (!direct) RC_SUCCEED("the file system refuses O_DIRECT");
  BlockAppender& appender = *direct;
  std::string kept;
  const int steps = *rc::gen::inRange(1, 20);
  for (int step = 0; step < steps; ++step) {
    const int what = *rc::gen::inRange(0, 4);
    if (what == 3) {  // a reset: the file is taken to end earlier
      kept.resize(*rc::gen::inRange<std::size_t>(0, kept.size() + 1));
      appender.restart(kept);
    } else {
      std::string bytes(*rc::gen::inRange<std::size_t>(0, 3 * BlockAppender::kBlock), '\0');
      const auto seed = *rc::gen::arbitrary<std::uint8_t>();
      for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(seed + 31 * i + 1);
      const std::size_t size_before = contents(path).size();
      const std::uint64_t end = appender.end_of_blocks(bytes.size());
      RC_ASSERT(end % BlockAppender::kBlock == 0);
      const auto written = appender.write(bytes);
      RC_ASSERT(written && *written);
      const std::string file = contents(path);
      RC_ASSERT(file.size() == std::max<std::uint64_t>(size_before, end));
      RC_ASSERT(file.compare(kept.size(), bytes.size(), bytes) == 0);
      const std::size_t padding = end - kept.size() - bytes.size();  // zeros to the end of the block
      RC_ASSERT(file.compare(kept.size() + bytes.size(), padding, std::string(padding, '\0')) == 0);
      if (what != 2) {  // 2: the flush failed, and the caller does not keep the write
        appender.advance();
        kept += bytes;
      }
    }
    const std::string file = contents(path);
    RC_ASSERT(file.size() % BlockAppender::kBlock == 0);
    RC_ASSERT(file.size() >= kept.size());
    RC_ASSERT(file.compare(0, kept.size(), kept) == 0);
  }
}

}  // namespace
}  // namespace paychan::persistence
