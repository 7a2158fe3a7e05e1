// The PAYMENT-SIGNATURE headers of one connection, decoded as decode_payment_signature does, but
// remembering the last voucher payload: an agent's next voucher differs from it only in
// maxClaimableAmount and the signature, so its JSON is the remembered text with those two strings
// replaced, and it is read from the remembered payload without parsing the JSON again. That skips
// the parse and the reading of the accepted offer, the resource and the channel's config: most of
// a decode (bench_channel: BM_DecodePaymentSignature against BM_DecodeNextVoucherOnAConnection).
//
// Why the result is the same as a full decode: the two strings hold only characters of [0-9a-fA-FxX]
// in the remembered text and in the new one, so neither needs an escape or can hold a quote. The
// new text therefore parses to the remembered tree with only those two values changed, every check
// a full decode makes on the tree holds for it as it did, and the two values are read by the same
// functions (parse_uint128, parse_signature). Any other difference (another byte changed, moved or
// added) takes the full decode, as does a value those functions refuse, so that its error is the
// full decode's.
//
// The payload is shared, not copied: the decoder hands out the payload it remembers and changes
// it in place for the next voucher, unless the payload handed out is still held (by a caller that
// kept it), which then keeps it as it was while the decoder reads the next into a copy.
//
// One decoder serves one connection, normally one agent's. Behind a proxy that pools connections,
// one may carry several agents': each then mostly takes the full decode, and how long a decode
// takes tells whether a header matched the previous one's offer, resource and (public) channel.
//
// Thread-safety: none; one per connection (or per caller).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/codec_parts.hpp"
#include "protocol/payment_payload.hpp"

namespace paychan::protocol {

using SharedPayload = std::shared_ptr<const PaymentPayload>;

class PaymentSignatureDecoder {
 public:
  // As decode_payment_signature(header).
  [[nodiscard]] Result<SharedPayload> decode(std::string_view header);
  // How many decodes were read from the remembered payload.
  [[nodiscard]] std::uint64_t repeats() const noexcept { return repeats_; }

  // Texts above this size are decoded but not remembered: a connection keeps at most this much
  // text, and the payload read from it (a voucher's header carries about 1.1 KB of JSON).
  static constexpr std::size_t kMaxRemembered = 4 * 1024;

 private:
  struct Remembered {
    std::string text;  // the voucher payload's JSON, as it came
    std::shared_ptr<PaymentPayload> payload;  // its voucher the last one read
    std::array<TextSpan, 2> values;  // the amount's and the signature's, in the text's order
    bool amount_first = true;
  };
  // The remembered payload with the two values read from `json`, or nullopt if `json` differs
  // from the remembered text in any other way (or holds values a full decode refuses).
  [[nodiscard]] std::optional<SharedPayload> from_remembered(std::string_view json);

  std::optional<Remembered> remembered_;
  std::uint64_t repeats_ = 0;
};

}  // namespace paychan::protocol
