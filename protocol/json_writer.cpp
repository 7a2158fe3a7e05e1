#include "protocol/json_writer.hpp"

#include "protocol/json_string.hpp"

#include <charconv>
#include <cstring>

namespace paychan::protocol {
namespace {

// The second character of a byte's escape (\n, \", …), 'u' for \u00XX, 0 for a byte written as is.
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> e{};
  for (int c = 0; c < 0x20; ++c) e[static_cast<std::size_t>(c)] = 'u';
  e['\b'] = 'b';
  e['\t'] = 't';
  e['\n'] = 'n';
  e['\f'] = 'f';
  e['\r'] = 'r';
  e['"'] = '"';
  e['\\'] = '\\';
  return e;
}();

// Whether any of 8 bytes needs an escape: one below 0x20, a quote or a backslash. Exact for
// "any" (the bit tricks' false positives only concern which byte), so a word of plain text, as
// nearly every word of a channel id, an amount or a key is, is skipped whole.
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
constexpr bool any_below(std::uint64_t x, std::uint8_t n) noexcept { return ((x - kOnes * n) & ~x & kHighs) != 0; }
constexpr bool any_equal(std::uint64_t x, std::uint8_t c) noexcept { return any_below(x ^ (kOnes * c), 1); }
constexpr bool needs_escape(std::uint64_t x) noexcept { return any_below(x, 0x20) || any_equal(x, '"') || any_equal(x, '\\'); }

}  // namespace

void JsonWriter::quoted(std::string_view text) {
  constexpr char kHex[] = "0123456789ABCDEF";
  out_ += '"';
  std::size_t run = 0;  // where the characters not yet copied start
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (std::uint64_t word; i + 8 <= text.size() && (std::memcpy(&word, text.data() + i, 8), !needs_escape(word))) {
      i += 7;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    const char escape = kEscape[c];
    if (escape == 0) continue;
    out_.append(text.data() + run, i - run);
    run = i + 1;
    const char simple[2] = {'\\', escape};
    const char unicode[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
    if (escape == 'u')
      out_.append(unicode, sizeof unicode);
    else
      out_.append(simple, sizeof simple);
  }
  out_.append(text.data() + run, text.size() - run);
  out_ += '"';
}

JsonWriter& JsonWriter::number(std::string_view k, std::uint64_t v) {
  key(k);
  separate();
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  out_.append(digits, static_cast<std::size_t>(end - digits));
  return *this;
}

std::string json_string(std::string_view text) {
  JsonWriter w;
  w.value(text);  // a value outside any object: its quoted text alone
  return w.take();
}

}  // namespace paychan::protocol
