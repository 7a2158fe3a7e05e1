#include "protocol/price.hpp"

#include <algorithm>
#include <string>

namespace paychan::protocol {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Result<Uint128> parse_scaled_decimal(std::string_view text, unsigned scale, std::size_t max_fraction) {
  if (scale > 38) return fail(ErrorCode::amount_overflow, "more than 38 decimals");
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

Result<Uint128> parse_price(std::string_view text, unsigned assetDecimals) {
  if (text.starts_with('$')) return parse_scaled_decimal(text.substr(1), assetDecimals);
  auto atomic = parse_uint128(text);
  if (!atomic && atomic.error().code == ErrorCode::malformed_decimal)
    return fail(ErrorCode::malformed_decimal, "not an amount: atomic units (10000) or dollars ($0.01)");
  return atomic;
}

Result<Uint128> parse_exact_price(std::string_view text, unsigned assetDecimals) {
  PAYCHAN_ASSIGN(const Uint128 atomic, parse_price(text, assetDecimals));
  const auto dot = text.find('.');
  if (text.starts_with('$') && dot != std::string_view::npos &&
      text.find_first_not_of('0', dot + 1 + assetDecimals) != std::string_view::npos)
    return fail(ErrorCode::malformed_decimal, "finer than the token's " + std::to_string(assetDecimals) + " decimals");
  return atomic;
}

std::string format_price(Uint128 atomic, unsigned assetDecimals) {
  std::string digits = to_decimal(atomic);
  if (digits.size() <= assetDecimals) digits.insert(0, assetDecimals + 1 - digits.size(), '0');
  if (assetDecimals == 0) return "$" + digits;
  return "$" + digits.substr(0, digits.size() - assetDecimals) + "." + digits.substr(digits.size() - assetDecimals);
}

}  // namespace paychan::protocol
