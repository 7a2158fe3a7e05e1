#include "protocol/settlement_overrides.hpp"

#include "protocol/json_depth.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>

namespace paychan::protocol {
namespace {

constexpr std::size_t kMaxHeader = 1024;

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// "I" or "I.F" with at most `max_fraction` fractional digits (0 = unlimited) → (I·10^scale + F') where
// F' is F padded/truncated to `scale` digits: the value scaled to an integer, rounded down.
Result<Uint128> scaled(std::string_view text, unsigned scale, std::size_t max_fraction) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (!all_digits(whole) || (dot != std::string_view::npos && !fraction.empty() && !all_digits(fraction)) ||
      (max_fraction != 0 && fraction.size() > max_fraction))
    return fail(ErrorCode::malformed_decimal, "not a decimal amount");
  std::string digits{whole};
  digits.append(fraction.substr(0, std::min<std::size_t>(fraction.size(), scale)));
  digits.append(scale - std::min<std::size_t>(fraction.size(), scale), '0');
  const auto first = digits.find_first_not_of('0');
  return parse_uint128(first == std::string::npos ? "0" : std::string_view{digits}.substr(first));
}

}  // namespace

Result<Uint128> parse_settlement_overrides(std::string_view header, Uint128 offeredAmount, unsigned assetDecimals) {
  if (header.size() > kMaxHeader) return fail(ErrorCode::input_too_large, "Settlement-Overrides is too long");
  if (!json_depth_within(header)) return fail(ErrorCode::malformed_json, "Settlement-Overrides nests too deeply");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(header.data(), header.size());
  if (doc.HasParseError() || !doc.IsObject())
    return fail(ErrorCode::malformed_json, "Settlement-Overrides must be a JSON object");
  const auto it = doc.FindMember("amount");
  if (it == doc.MemberEnd() || !it->value.IsString())
    return fail(ErrorCode::malformed_json, "Settlement-Overrides needs a string \"amount\"");
  const std::string_view amount{it->value.GetString(), it->value.GetStringLength()};

  if (amount.ends_with('%')) {
    // Basis points (percent with two decimals), so 12.5% of 1000 is 125 exactly.
    auto bps = scaled(amount.substr(0, amount.size() - 1), 2, 2);
    if (!bps) return bps.failure();
    if (*bps != 0 && offeredAmount > kUint128Max / *bps) return fail(ErrorCode::amount_overflow, "percentage overflows");
    return offeredAmount * *bps / 10'000;
  }
  if (amount.starts_with('$')) {
    if (assetDecimals > 38) return fail(ErrorCode::amount_overflow, "asset decimals out of range");
    return scaled(amount.substr(1), assetDecimals, 0);
  }
  return parse_uint128(amount);
}

}  // namespace paychan::protocol
