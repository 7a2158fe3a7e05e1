// The PAYMENT-SIGNATURE headers of one connection, decoded as decode_payment_signature does, but
// remembering the last voucher payload: an agent's next voucher differs from it only in
// maxClaimableAmount and the signature, so its JSON is the remembered text with those two strings
// replaced, and it is read from the remembered payload without parsing the JSON again. That skips
// the parse and the reading of the accepted offer, the resource and the channel's config, about
// 40k of the 50k instructions a full decode of the benchmarks' header takes.
//
// Why the result is the same as a full decode: the two strings hold only characters of [0-9a-fA-FxX]
// in the remembered text and in the new one, so neither needs an escape or can hold a quote. The
// new text therefore parses to the remembered tree with only those two values changed, every check
// a full decode makes on the tree holds for it as it did, and the two values are read by the same
// functions (parse_uint128, parse_signature). Any other difference (another byte changed, moved or
// added) takes the full decode, as does a value those functions refuse, so that its error is the
// full decode's.
//
// Thread-safety: none; one per connection (or per caller).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/payment_payload.hpp"

namespace paychan::protocol {

class PaymentSignatureDecoder {
 public:
  // As decode_payment_signature(header).
  [[nodiscard]] Result<PaymentPayload> decode(std::string_view header);
  // How many decodes were read from the remembered payload.
  [[nodiscard]] std::uint64_t repeats() const noexcept { return repeats_; }

  // Texts above this size are decoded but not remembered: a connection keeps at most this much.
  static constexpr std::size_t kMaxRemembered = 8 * 1024;

 private:
  struct Value {  // a remembered string's content within text_
    std::size_t at = 0, size = 0;
  };
  // The remembered payload with the two values read from `json`, or nullopt if `json` differs
  // from the remembered text in any other way (or holds values a full decode refuses).
  [[nodiscard]] std::optional<PaymentPayload> repeat(std::string_view json) const;
  void remember(std::string text, const PaymentPayload& payload, Value amount, Value signature);

  std::string text_;  // the remembered voucher payload's JSON, as it came; empty: none
  PaymentPayload payload_;
  Value amount_, signature_;
  std::uint64_t repeats_ = 0;
};

}  // namespace paychan::protocol
