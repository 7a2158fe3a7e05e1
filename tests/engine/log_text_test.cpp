// one_line: text from outside fit for one line of an operator's log.
#include "engine/log_text.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace paychan::engine {
namespace {

TEST(OneLine, BlanksBecomeOneSpaceAndControlsAQuestionMark) {
  EXPECT_EQ(one_line("<html>\r\n  <body>\tNot Found\x1b[31m</body>"), "<html> <body> Not Found?[31m</body>");
  EXPECT_EQ(one_line("eip155:1\nsettle of a claim sent 0xforged"), "eip155:1 settle of a claim sent 0xforged");
}

TEST(OneLine, ALongTextIsCutWhereACharacterBegins) {
  EXPECT_EQ(one_line(std::string(10, 'a'), 4), "aaaa…");
  // "é" is two bytes: a cut at byte 2 would split the second one.
  EXPECT_EQ(one_line("aé" "é", 2), "a…");
  EXPECT_EQ(one_line("aé" "é", 3), "aé…");
  EXPECT_EQ(one_line("short", 200), "short");
}

RC_GTEST_PROP(OneLine, IsOneBoundedLine, (const std::string& text)) {
  const std::size_t max = *rc::gen::inRange<std::size_t>(0, 300);
  const std::string line = one_line(text, max);
  for (const char c : line) RC_ASSERT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  RC_ASSERT(line.size() <= max + std::string("…").size());
}

}  // namespace
}  // namespace paychan::engine
