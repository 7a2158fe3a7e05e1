#include "protocol/settlement_overrides.hpp"

#include "protocol/json_depth.hpp"
#include "protocol/price.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>

namespace paychan::protocol {
namespace {

constexpr std::size_t kMaxHeader = 1024;

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
    auto bps = parse_scaled_decimal(amount.substr(0, amount.size() - 1), 2, 2);
    if (!bps) return bps.failure();
    if (*bps != 0 && offeredAmount > kUint128Max / *bps) return fail(ErrorCode::amount_overflow, "percentage overflows");
    return offeredAmount * *bps / 10'000;
  }
  return parse_price(amount, assetDecimals);
}

}  // namespace paychan::protocol
