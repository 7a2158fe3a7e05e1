// The connection's PAYMENT-SIGNATURE decoder: whatever it remembers, it decodes every header to
// what decode_payment_signature makes of it (the payload, or the same error), and it reads an
// agent's next voucher from the remembered one.
#include "protocol/payment_signature_decoder.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "generators.hpp"
#include "protocol/base64.hpp"
#include "protocol/headers.hpp"

namespace paychan::protocol {
namespace {

PaymentPayload voucher_payload(const ChannelConfig& config, const SignedVoucher& voucher) {
  PaymentPayload p;
  p.resource = ResourceInfo{"http://127.0.0.1/v1/infer", "inference", std::nullopt};
  p.accepted.scheme = "batch-settlement";
  p.accepted.network = "eip155:84532";
  p.accepted.amount = "10000";
  p.accepted.asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
  p.accepted.payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
  p.accepted.maxTimeoutSeconds = 3600;
  p.accepted.extra = *Json::parse(R"({"receiverAuthorizer":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C",)"
                                  R"("withdrawDelay":900,"name":"USDC","version":"2"})");
  p.payload = BatchSettlementPayload{VoucherPayload{config, voucher}};
  return p;
}

// What a decode came to, comparable: the payload re-encoded, or the error.
std::string outcome(const Result<PaymentPayload>& r) {
  return r ? "payload " + encode_payment_payload(*r) : "error " + r.error().to_string();
}
std::string outcome(const Result<SharedPayload>& r) {
  return r ? outcome(Result<PaymentPayload>(**r)) : outcome(Result<PaymentPayload>(r.failure()));
}

std::string header_of(std::string_view json) { return base64_encode(json); }

// The next voucher's JSON text: the same channel and offer, another amount and signature (of any
// length: a smart wallet's too).
std::string next_voucher_json(const PaymentPayload& first) {
  PaymentPayload next = first;
  auto& voucher = std::get<VoucherPayload>(std::get<BatchSettlementPayload>(next.payload)).voucher;
  voucher.voucher.maxClaimableAmount = *test::gen_uint128();
  voucher.signature = *test::gen_wallet_signature();
  return encode_payment_payload(next);
}

// One to three random edits of `text`: a byte (any of 256) replaced, inserted (also after the
// end) or removed. Half of them land near the voucher's two values or at the end, where the
// remembered text's pieces meet.
std::string edited(std::string text) {
  for (int edits = *rc::gen::inRange(1, 4); edits > 0 && !text.empty(); --edits) {
    std::size_t at = *rc::gen::inRange<std::size_t>(0, text.size() + 1);
    if (*rc::gen::arbitrary<bool>()) {
      const std::size_t near[] = {text.find("maxClaimableAmount"), text.rfind("signature"), text.size() - 8};
      const std::size_t base = near[*rc::gen::inRange(0, 3)];
      at = std::min(text.size(), (base == std::string::npos ? 0 : base) + *rc::gen::inRange<std::size_t>(0, 40));
    }
    const auto byte = static_cast<char>(*rc::gen::inRange(0, 256));
    const int kind = *rc::gen::inRange(0, 3);
    if (kind == 1 || at == text.size()) {
      text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte);
    } else if (kind == 0) {
      text[at] = byte;
    } else {
      text.erase(at, 1);
    }
  }
  return text;
}

RC_GTEST_PROP(PaymentSignatureDecoder, DecodesEveryHeaderAsAFullDecodeDoes, ()) {
  const PaymentPayload first = voucher_payload(*test::gen_channel_config(), *test::gen_signed_voucher());
  PaymentSignatureDecoder decoder;
  const std::string first_header = encode_payment_signature(first);
  RC_ASSERT(outcome(decoder.decode(first_header)) == outcome(decode_payment_signature(first_header)));

  std::string next = next_voucher_json(first);
  const bool edit = *rc::gen::arbitrary<bool>();
  if (edit) next = edited(next);
  const std::string header = header_of(next);
  const auto expected = decode_payment_signature(header);
  RC_ASSERT(outcome(decoder.decode(header)) == outcome(expected));
  RC_CLASSIFY(decoder.repeats() == 1, "read from the remembered payload");
  RC_CLASSIFY(!expected, "refused");
  // The agent's next voucher never needs a parse (when the first was short enough to remember:
  // a smart wallet's longest signatures make texts past the limit).
  if (!edit && encode_payment_payload(first).size() <= PaymentSignatureDecoder::kMaxRemembered)
    RC_ASSERT(decoder.repeats() == 1u);
}

// A voucher payload's JSON with the voucher's members in the order given (the reference client's
// order may differ from ours).
std::string voucher_json(std::string_view voucher_members) {
  return R"({"x402Version":2,"accepted":{"scheme":"batch-settlement","network":"eip155:84532","amount":"10",)"
         R"("asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C",)"
         R"("maxTimeoutSeconds":60},"payload":{"type":"voucher","channelConfig":{)"
         R"("payer":"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a","payerAuthorizer":"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a",)"
         R"("receiver":"0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902","receiverAuthorizer":"0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902",)"
         R"("token":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","withdrawDelay":900,)"
         R"("salt":"0x0000000000000000000000000000000000000000000000000000000000000000"},"voucher":{)" +
         std::string(voucher_members) + "}}}";
}

const std::string kChannelId = R"("channelId":"0xf632fd7f59b600f9412deab1233c4a0a0a05f80d24a1b07a8ff050499eb8fdc9")";
std::string signature(char digit) { return R"("signature":"0x)" + std::string(128, digit) + R"(1b")"; }
std::string amount(std::string_view decimal) { return R"("maxClaimableAmount":")" + std::string(decimal) + "\""; }

// Decodes `json` with `decoder` and expects what a full decode makes of it.
Result<SharedPayload> decode_as_full(PaymentSignatureDecoder& decoder, const std::string& json) {
  auto got = decoder.decode(header_of(json));
  EXPECT_EQ(outcome(got), outcome(decode_payment_signature(header_of(json))));
  return got;
}

const SignedVoucher& voucher_of(const Result<SharedPayload>& p) {
  return std::get<VoucherPayload>(std::get<BatchSettlementPayload>((*p)->payload)).voucher;
}
Uint128 amount_of(const Result<SharedPayload>& p) { return voucher_of(p).voucher.maxClaimableAmount; }

TEST(PaymentSignatureDecoder, ReadsTheNextVoucherWhateverTheOrderOfItsMembersAndTheAmountsLength) {
  for (const bool signature_first : {false, true}) {
    const auto json = [&](std::string_view decimal, char digit) {
      return signature_first ? voucher_json(signature(digit) + "," + amount(decimal) + "," + kChannelId)
                             : voucher_json(kChannelId + "," + amount(decimal) + "," + signature(digit));
    };
    PaymentSignatureDecoder decoder;
    ASSERT_TRUE(decode_as_full(decoder, json("99", '1')));
    auto next = decode_as_full(decoder, json("100", '2'));  // one digit more: what follows moves
    ASSERT_TRUE(next);
    EXPECT_EQ(amount_of(next), 100u);
    EXPECT_TRUE(decode_as_full(decoder, json("7", '3')));
    EXPECT_EQ(decoder.repeats(), 2u) << "signature first: " << signature_first;
  }
}

TEST(PaymentSignatureDecoder, EscapesAndWhitespaceBeforeTheVoucherDoNotMoveItsValues) {
  // In-place parsing shortens an escaped string where it stands: the strings after it keep their
  // offsets in the text, which is what the remembered spans are.
  const auto json = [](std::string_view decimal, char digit) {
    std::string text = voucher_json(kChannelId + ",\n  " + amount(decimal) + " ,\t" + signature(digit));
    text.insert(text.find(R"("accepted")"), R"("resource":{"url":"http:\/\/h\u0041\/x"},)" "\n ");
    return text;
  };
  PaymentSignatureDecoder decoder;
  auto first = decode_as_full(decoder, json("5", '1'));
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ((*first)->resource->url, "http://hA/x");
  auto next = decode_as_full(decoder, json("12345", '2'));
  ASSERT_TRUE(next);
  EXPECT_EQ(amount_of(next), 12345u);
  EXPECT_EQ(decoder.repeats(), 1u);
}

// The payload handed out is the remembered one: a request still holding it (in flight on the
// connection) keeps its voucher when the next is read, and once let go it is changed in place.
TEST(PaymentSignatureDecoder, APayloadStillHeldKeepsItsVoucherWhenTheNextIsRead) {
  const auto json = [](std::string_view decimal, char digit) {
    return voucher_json(kChannelId + "," + amount(decimal) + "," + signature(digit));
  };
  PaymentSignatureDecoder decoder;
  auto held = decode_as_full(decoder, json("5", '1'));
  ASSERT_TRUE(held);
  const WalletSignature held_signature = voucher_of(held).signature;
  auto next = decode_as_full(decoder, json("6", '2'));
  ASSERT_TRUE(next);
  EXPECT_EQ(amount_of(held), 5u);
  EXPECT_EQ(voucher_of(held).signature, held_signature);
  EXPECT_EQ(amount_of(next), 6u);
  EXPECT_NE(voucher_of(next).signature, held_signature);

  const PaymentPayload* released = next->get();
  next = Result<SharedPayload>(SharedPayload{});
  auto third = decode_as_full(decoder, json("7", '3'));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->get(), released) << "read into the payload let go, not a copy";
  EXPECT_EQ(amount_of(third), 7u);
  EXPECT_EQ(amount_of(held), 5u);
  EXPECT_EQ(decoder.repeats(), 2u);
}

TEST(PaymentSignatureDecoder, AValueAFullDecodeRefusesGetsItsError) {
  PaymentSignatureDecoder decoder;
  ASSERT_TRUE(decode_as_full(decoder, voucher_json(kChannelId + "," + amount("5") + "," + signature('1'))));
  for (const std::string& bad : {amount("05"), amount(""), amount("340282366920938463463374607431768211456")}) {
    EXPECT_FALSE(decode_as_full(decoder, voucher_json(kChannelId + "," + bad + "," + signature('2')))) << bad;
  }
  const std::string short_signature = R"("signature":"0x")";  // no bytes
  EXPECT_FALSE(decode_as_full(decoder, voucher_json(kChannelId + "," + amount("6") + "," + short_signature)));
  EXPECT_EQ(decoder.repeats(), 0u);
  // The remembered payload is still the first: the next good voucher is read from it.
  EXPECT_TRUE(decode_as_full(decoder, voucher_json(kChannelId + "," + amount("6") + "," + signature('2'))));
  EXPECT_EQ(decoder.repeats(), 1u);
}

TEST(PaymentSignatureDecoder, AnotherChangeIsAFullDecodeWhichIsThenRemembered) {
  PaymentSignatureDecoder decoder;
  ASSERT_TRUE(decode_as_full(decoder, voucher_json(kChannelId + "," + amount("5") + "," + signature('1'))));
  const std::string other_channel = R"("channelId":"0x0000000000000000000000000000000000000000000000000000000000000001")";
  ASSERT_TRUE(decode_as_full(decoder, voucher_json(other_channel + "," + amount("6") + "," + signature('2'))));
  EXPECT_EQ(decoder.repeats(), 0u);
  auto next = decode_as_full(decoder, voucher_json(other_channel + "," + amount("7") + "," + signature('3')));
  EXPECT_EQ(decoder.repeats(), 1u);
  EXPECT_EQ(amount_of(next), 7u);
}

TEST(PaymentSignatureDecoder, EscapedValuesAndNonAsciiTextAreNotRemembered) {
  // "\u0035" is "5": a full decode reads it, but its text does not line up with the parsed string.
  const std::string escaped_amount = R"("maxClaimableAmount":"\u0035")";
  PaymentSignatureDecoder decoder;
  auto first = decode_as_full(decoder, voucher_json(kChannelId + "," + escaped_amount + "," + signature('1')));
  ASSERT_TRUE(first);
  EXPECT_EQ(amount_of(first), 5u);
  EXPECT_TRUE(decode_as_full(decoder, voucher_json(kChannelId + "," + escaped_amount + "," + signature('2'))));
  EXPECT_EQ(decoder.repeats(), 0u);

  // Non-ASCII text is not parsed in place: nothing to line up with either.
  PaymentSignatureDecoder other;
  std::string accented = voucher_json(kChannelId + "," + amount("5") + "," + signature('1'));
  accented.insert(accented.find(R"("accepted")"), "\"resource\":{\"url\":\"http://h/caf\xc3\xa9\"},");
  ASSERT_TRUE(decode_as_full(other, accented));
  std::string next = accented;
  next.replace(next.find(R"(Amount":"5")"), 11, R"(Amount":"6")");
  EXPECT_TRUE(decode_as_full(other, next));
  EXPECT_EQ(other.repeats(), 0u);
}

TEST(PaymentSignatureDecoder, ADepositBetweenVouchersLeavesTheRememberedVoucher) {
  PaymentSignatureDecoder decoder;
  ASSERT_TRUE(decode_as_full(decoder, voucher_json(kChannelId + "," + amount("5") + "," + signature('1'))));
  std::string deposit = voucher_json(kChannelId + "," + amount("6") + "," + signature('2'));
  deposit.replace(deposit.find(R"("type":"voucher")"), 16, R"("type":"deposit")");
  deposit.insert(deposit.rfind("}}}") + 1,
                 R"(,"deposit":{"amount":"100","authorization":{"erc3009Authorization":{"validAfter":"0",)"
                 R"("validBefore":"9","salt":"0x0000000000000000000000000000000000000000000000000000000000000001",)"
                 R"("signature":"0x)" + std::string(130, '3') + R"("}}})");
  ASSERT_TRUE(decode_as_full(decoder, deposit));
  EXPECT_TRUE(decode_as_full(decoder, voucher_json(kChannelId + "," + amount("7") + "," + signature('4'))));
  EXPECT_EQ(decoder.repeats(), 1u);
}

}  // namespace
}  // namespace paychan::protocol
