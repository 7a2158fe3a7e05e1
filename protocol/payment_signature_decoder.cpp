#include "protocol/payment_signature_decoder.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>

#include "channel/amount.hpp"
#include "protocol/headers.hpp"

namespace paychan::protocol {
namespace {

// Characters of decimal amounts and 0x-hex signatures: none needs a JSON escape, none ends a string.
bool escape_free(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == 'x' || c == 'X';
  });
}

// Whether `n` bytes of `a` from `a_at` equal those of `b` from `b_at` (false if either is shorter).
bool equal_at(std::string_view a, std::size_t a_at, std::string_view b, std::size_t b_at, std::size_t n) noexcept {
  return a_at <= a.size() && b_at <= b.size() && a.size() - a_at >= n && b.size() - b_at >= n &&
         std::memcmp(a.data() + a_at, b.data() + b_at, n) == 0;
}

// Whether the spans are whole, escape-free strings of `text`, the first ending before the second
// begins. Checked in the text as it came: a string with escapes was shorter once parsed, so its
// span would take in a backslash, or end short of its closing quote.
bool lines_up(std::string_view text, const std::array<TextSpan, 2>& spans) noexcept {
  const auto whole = [&](const TextSpan& s) {
    return s.at >= 1 && s.at + s.size < text.size() && text[s.at - 1] == '"' && text[s.at + s.size] == '"' &&
           escape_free(text.substr(s.at, s.size));
  };
  return whole(spans[0]) && whole(spans[1]) && spans[0].at + spans[0].size < spans[1].at;
}

}  // namespace

Result<SharedPayload> PaymentSignatureDecoder::decode(std::string_view header) {
  auto json = header_json(header);
  if (!json) return json.failure();
  if (remembered_) {
    if (auto repeated = from_remembered(*json)) {
      ++repeats_;
      return std::move(*repeated);
    }
  }
  // A text past kMaxRemembered is decoded, not kept (no spans asked).
  const bool rememberable = json->size() <= kMaxRemembered;
  std::string text = rememberable ? *json : std::string();  // parsing in place rewrites `json`
  std::optional<VoucherValueSpans> spans;
  auto decoded = decode_payment_payload_in_place(*json, rememberable ? &spans : nullptr);
  if (!decoded) return decoded.failure();
  auto payload = std::make_shared<PaymentPayload>(std::move(*decoded));
  if (!spans) return SharedPayload{payload};
  const bool amount_first = spans->amount.at < spans->signature.at;
  const std::array<TextSpan, 2> values = amount_first ? std::array{spans->amount, spans->signature}
                                                      : std::array{spans->signature, spans->amount};
  if (lines_up(text, values)) {
    // Built whole, then moved in (which cannot throw): never a text with another's payload.
    Remembered next{std::move(text), payload, values, amount_first};
    remembered_ = std::move(next);
  }
  return SharedPayload{payload};
}

std::optional<SharedPayload> PaymentSignatureDecoder::from_remembered(std::string_view json) {
  // The remembered text in five pieces: before the first value, the first value, between the two,
  // the second value, after it. The new text must have the same three pieces around values of
  // its own (which may differ in size: an amount gains digits).
  const std::string_view text = remembered_->text;
  const std::array<TextSpan, 2>& old_values = remembered_->values;
  const bool amount_first = remembered_->amount_first;
  std::array<std::string_view, 2> new_values;
  std::size_t old_at = 0, new_at = 0;
  for (std::size_t k = 0; k < 2; ++k) {
    const std::size_t piece = old_values[k].at - old_at;
    if (!equal_at(json, new_at, text, old_at, piece)) return std::nullopt;
    new_at += piece;
    old_at = old_values[k].at + old_values[k].size;
    const std::size_t end = json.find('"', new_at);
    if (end == std::string_view::npos) return std::nullopt;
    new_values[k] = json.substr(new_at, end - new_at);
    if (!escape_free(new_values[k])) return std::nullopt;
    new_at = end;  // the closing quote, compared with the rest
  }
  if (json.size() - new_at != text.size() - old_at || !equal_at(json, new_at, text, old_at, json.size() - new_at))
    return std::nullopt;
  auto amount = parse_uint128(new_values[amount_first ? 0 : 1]);
  auto signature = parse_wallet_signature(new_values[amount_first ? 1 : 0]);
  if (!amount || !signature) return std::nullopt;
  std::shared_ptr<PaymentPayload>& p = remembered_->payload;
  if (p.use_count() != 1) {
    p = std::make_shared<PaymentPayload>(*p);  // the holder keeps the voucher it was given
  } else {
    // The last holder let go, maybe on another thread: its reads happen before these writes.
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  SignedVoucher& voucher = std::get<VoucherPayload>(std::get<BatchSettlementPayload>(p->payload)).voucher;
  voucher.voucher.maxClaimableAmount = *amount;
  voucher.signature = *signature;
  return p;
}

}  // namespace paychan::protocol
