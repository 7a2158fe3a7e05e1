// one_line: text from outside fit for one line of an operator's log.
#include "engine/log_text.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

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

TEST(OneLine, CharactersThatBreakOrReorderALineBecomeAQuestionMark) {
  EXPECT_EQ(one_line("a\u2028b\u2029c"), "a?b?c");                   // line and paragraph separators
  EXPECT_EQ(one_line("a\xC2\x85" "b\xC2\x9B" "31m"), "a?b?31m");    // C1: NEL, CSI
  EXPECT_EQ(one_line("paid \u202Egnp.exe"), "paid ?gnp.exe");          // right-to-left override
  EXPECT_EQ(one_line("x\u2066y\u2069"), "x?y?");                      // isolates
  EXPECT_EQ(one_line("\xC0\xAF\xFF\x80z"), "????z");                  // overlong, invalid, stray
  EXPECT_EQ(one_line("\xED\xA0\x80"), "???");                          // a surrogate
  EXPECT_EQ(one_line("caf\u00e9 \u4e2d \U0001F600"), "caf\u00e9 \u4e2d \U0001F600");
}

TEST(OneLine, StrayContinuationBytesDoNotEatTheText) {
  EXPECT_EQ(one_line(std::string(10, '\x80'), 4), "????…");
}

RC_GTEST_PROP(OneLine, IsOneBoundedLine, ()) {
  // Text built from pieces a hostile peer would send, so that cuts fall inside them too.
  const auto pieces = *rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
      rc::gen::arbitrary<std::string>(),
      rc::gen::element<std::string>("\u2028", "\u2029", "\u202E", "\xC2\x85", "\xE9", "\x80", "\u00e9", "\U0001F600",
                                    "\r\n", "\x1b[31m")));
  std::string text;
  for (const std::string& piece : pieces) text += piece;
  const std::size_t max = *rc::gen::inRange<std::size_t>(0, 300);
  const std::string line = one_line(text, max);
  for (const char c : line) RC_ASSERT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  RC_ASSERT(line.size() <= max + std::string("…").size());
  for (const char* forged : {"\u2028", "\u2029", "\u202E", "\xC2\x85"})
    RC_ASSERT(line.find(forged) == std::string::npos);
}

}  // namespace
}  // namespace paychan::engine
