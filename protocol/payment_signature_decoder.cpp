#include "protocol/payment_signature_decoder.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "channel/amount.hpp"
#include "protocol/codec_parts.hpp"
#include "protocol/headers.hpp"

namespace paychan::protocol {
namespace {

// Characters of decimal amounts and 0x-hex signatures: none needs a JSON escape, none ends a string.
bool plain(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == 'x' || c == 'X';
  });
}

bool same(std::string_view a, std::size_t a_at, std::string_view b, std::size_t b_at, std::size_t n) noexcept {
  return a.size() - a_at >= n && b.size() - b_at >= n && std::memcmp(a.data() + a_at, b.data() + b_at, n) == 0;
}

VoucherPayload& voucher_payload(PaymentPayload& p) {
  return std::get<VoucherPayload>(std::get<BatchSettlementPayload>(p.payload));
}

}  // namespace

Result<PaymentPayload> PaymentSignatureDecoder::decode(std::string_view header) {
  auto json = header_json(header);
  if (!json) return json.failure();
  if (!text_.empty()) {
    if (auto repeated = repeat(*json)) {
      ++repeats_;
      return std::move(*repeated);
    }
  }
  if (json->size() > kMaxRemembered) return decode_payment_payload_in_place(*json);
  std::string text = *json;  // parsing in place rewrites `json`
  std::optional<VoucherValueSpans> spans;
  auto payload = decode_payment_payload_in_place(*json, &spans);
  if (payload && spans) {
    remember(std::move(text), *payload, Value{spans->amount_at, spans->amount_size},
             Value{spans->signature_at, spans->signature_size});
  }
  return payload;
}

void PaymentSignatureDecoder::remember(std::string text, const PaymentPayload& payload, Value amount, Value signature) {
  // Checked in the text as it came: strings with escapes were shorter once parsed, and would not
  // line up with it.
  for (const Value& v : {amount, signature}) {
    const bool quoted = v.at >= 1 && v.at + v.size < text.size() && text[v.at - 1] == '"' && text[v.at + v.size] == '"';
    if (!quoted || !plain(std::string_view(text).substr(v.at, v.size))) return;
  }
  text_ = std::move(text);
  payload_ = payload;
  amount_ = amount;
  signature_ = signature;
}

std::optional<PaymentPayload> PaymentSignatureDecoder::repeat(std::string_view json) const {
  // The remembered text in five pieces: before the first value, the first value, between the two,
  // the second value, after it. The new text must have the same three pieces around values of
  // its own (which may differ in size: an amount gains digits).
  const bool amount_first = amount_.at < signature_.at;
  const std::array<Value, 2> values = amount_first ? std::array{amount_, signature_} : std::array{signature_, amount_};
  std::array<std::string_view, 2> read;
  std::size_t old_at = 0, new_at = 0;
  for (std::size_t k = 0; k < 2; ++k) {
    const std::size_t piece = values[k].at - old_at;
    if (!same(json, new_at, text_, old_at, piece)) return std::nullopt;
    new_at += piece;
    old_at = values[k].at + values[k].size;
    const std::size_t end = json.find('"', new_at);
    if (end == std::string_view::npos) return std::nullopt;
    read[k] = json.substr(new_at, end - new_at);
    if (!plain(read[k])) return std::nullopt;
    new_at = end;  // the closing quote, compared with the rest
  }
  if (json.size() - new_at != text_.size() - old_at || !same(json, new_at, text_, old_at, json.size() - new_at))
    return std::nullopt;
  auto amount = parse_uint128(read[amount_first ? 0 : 1]);
  auto signature = parse_signature(read[amount_first ? 1 : 0]);
  if (!amount || !signature) return std::nullopt;
  PaymentPayload p = payload_;
  SignedVoucher& voucher = voucher_payload(p).voucher;
  voucher.voucher.maxClaimableAmount = *amount;
  voucher.signature = *signature;
  return p;
}

}  // namespace paychan::protocol
