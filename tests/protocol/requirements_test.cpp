// Offers: PaymentRequirements / PaymentRequired codecs, the batch-settlement extra (including a
// corrective 402's channelState and voucherState), and offer matching like the reference.
#include "protocol/requirements.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "channel/hex.hpp"
#include "generators.hpp"
#include "protocol/headers.hpp"
#include "protocol/offer_match.hpp"

namespace paychan::protocol {
namespace {

BatchSettlementExtra extra() {
  BatchSettlementExtra e;
  e.receiverAuthorizer = *parse_address("0x8e73d351DA173229f35Ef3FBd20B512594DE23D8");
  e.withdrawDelay = 900;
  e.name = "USD Coin";
  e.version = "2";
  return e;
}

PaymentRequirements offer(std::string amount = "10000") {
  return PaymentRequirements{"batch-settlement", "eip155:8453", std::move(amount),
                             "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
                             "0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902", 300, make_extra(extra())};
}

TEST(Requirements, BatchExtraSpelling) {
  EXPECT_EQ(offer().extra.text(),
            R"({"receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8","withdrawDelay":900,)"
            R"("name":"USD Coin","version":"2"})");
  auto e = batch_settlement_extra(offer());
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, extra());
}

TEST(Requirements, CorrectiveExtraRoundTrips) {
  BatchSettlementExtra e = extra();
  e.channelState = ChannelSnapshot{*fixed_from_hex<32>("0xf632fd7f59b600f9412deab1233c4a0a0a05f80d24a1b07a8ff050499eb8fdc9"),
                                   100'000, 500, 0, U256{Uint128{1}}, Uint128{3200}};
  Signature sig{};
  sig[64] = 27;
  e.voucherState = VoucherState{Uint128{3200}, sig};
  PaymentRequirements r = offer();
  r.extra = make_extra(e);
  auto back = batch_settlement_extra(r);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, e);
  EXPECT_NE(r.extra.text().find(R"("withdrawRequestedAt":0,"refundNonce":"1","chargedCumulativeAmount":"3200")"),
            std::string::npos)
      << r.extra.text();
}

// A corrective 402 hands back the channel's last voucher signature as the payer made it, a smart
// wallet's of any length too, through the PAYMENT-REQUIRED header.
RC_GTEST_PROP(Requirements, AVoucherStateOfAnyLengthRoundTripsInA402, ()) {
  BatchSettlementExtra e = extra();
  e.voucherState = VoucherState{*test::gen_uint128(), *test::gen_wallet_signature()};
  PaymentRequired required;
  required.resource = ResourceInfo{"http://127.0.0.1/v1/infer", std::nullopt, std::nullopt};
  required.accepts.push_back(offer());
  required.accepts[0].extra = make_extra(e);
  auto back = decode_payment_required_header(encode_payment_required_header(required));
  RC_ASSERT(back.ok());
  RC_ASSERT(back->accepts.size() == 1u);
  auto extra_back = batch_settlement_extra(back->accepts[0]);
  RC_ASSERT(extra_back.ok());
  RC_ASSERT(extra_back->voucherState == e.voucherState);
}

TEST(Requirements, RefundNonceMayArriveAsANumber) {
  PaymentRequirements r = offer();
  r.extra = *Json::parse(
      R"({"receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8","withdrawDelay":900,"name":"USDC","version":"2",)"
      R"("channelState":{"channelId":"0xf632fd7f59b600f9412deab1233c4a0a0a05f80d24a1b07a8ff050499eb8fdc9","balance":"1",)"
      R"("totalClaimed":"0","withdrawRequestedAt":0,"refundNonce":7}})");
  auto e = batch_settlement_extra(r);
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->channelState->refundNonce, U256{Uint128{7}});
}

TEST(Requirements, MinDepositHintRoundTrips) {
  BatchSettlementExtra e = extra();
  e.minDeposit = Uint128{100'000};
  PaymentRequirements r = offer();
  r.extra = make_extra(e);
  EXPECT_NE(r.extra.text().find(R"("minDeposit":"100000")"), std::string::npos) << r.extra.text();
  auto back = batch_settlement_extra(r);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, e);
}

// The reference client takes a hint only when it is a positive decimal string; anything else is
// no hint at all, and the offer stays usable.
TEST(Requirements, AMalformedMinDepositIsNoHint) {
  for (const char* hint : {R"(100000)", R"("1e5")", R"("0")", R"("-5")", R"("$1.00")", R"(null)", R"({"a":1})",
                           R"("340282366920938463463374607431768211456")"}) {
    PaymentRequirements r = offer();
    r.extra = *Json::parse(std::string(R"({"receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8",)") +
                           R"("withdrawDelay":900,"name":"USD Coin","version":"2","minDeposit":)" + hint + "}");
    auto e = batch_settlement_extra(r);
    ASSERT_TRUE(e) << hint << ": " << e.error().to_string();
    EXPECT_EQ(*e, extra()) << hint;
  }
}

// The token's domain signs ERC-3009 deposits: an offer needs it unless its deposits go by Permit2,
// whose offers for a token without one leave it out (and make_extra then writes none).
TEST(Requirements, MissingTokenDomainHasItsCodeUnlessDepositsGoByPermit2) {
  PaymentRequirements r = offer();
  const std::string terms = R"({"receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8","withdrawDelay":900)";
  r.extra = *Json::parse(terms + "}");
  EXPECT_EQ(batch_settlement_extra(r).error().code, ErrorCode::invalid_batch_settlement_evm_missing_eip712_domain);
  r.extra = *Json::parse(terms + R"(,"assetTransferMethod":"eip3009"})");
  EXPECT_EQ(batch_settlement_extra(r).error().code, ErrorCode::invalid_batch_settlement_evm_missing_eip712_domain);
  r.extra = *Json::parse(terms + R"(,"assetTransferMethod":"permit2"})");
  auto permit2 = batch_settlement_extra(r);
  ASSERT_TRUE(permit2) << permit2.error().to_string();
  EXPECT_TRUE(permit2->name.empty() && permit2->version.empty());
  EXPECT_EQ(make_extra(*permit2).text(), r.extra.text());
  r.scheme = "exact";
  EXPECT_EQ(batch_settlement_extra(r).error().code, ErrorCode::invalid_batch_settlement_evm_scheme);
}

TEST(Requirements, PaymentRequiredRoundTrips) {
  PaymentRequired p;
  p.error = "invalid_batch_settlement_evm_cumulative_amount_mismatch";
  p.resource = ResourceInfo{"http://127.0.0.1:8402/v1/chat", "chat completion", "application/json"};
  p.accepts = {offer(), offer("20000")};
  auto back = decode_payment_required_header(encode_payment_required_header(p));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->error, p.error);
  EXPECT_EQ(back->resource, p.resource);
  EXPECT_EQ(back->accepts, p.accepts);
}

TEST(Requirements, AmountMustBeACanonicalDecimal) {
  std::string json = encode_payment_requirements(offer());
  const auto at = json.find(R"("amount":"10000")");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, 16, R"("amount":"1e4")");
  EXPECT_EQ(decode_payment_requirements(json).error().code, ErrorCode::invalid_payment_requirements);
}

TEST(ChainId, Eip155Networks) {
  EXPECT_EQ(*evm_chain_id("eip155:8453"), 8453u);
  EXPECT_EQ(*evm_chain_id("eip155:31337"), 31337u);
  EXPECT_FALSE(evm_chain_id("base"));
  EXPECT_FALSE(evm_chain_id("eip155:"));
  EXPECT_FALSE(evm_chain_id("eip155:0"));
  EXPECT_FALSE(evm_chain_id("eip155:018"));
  EXPECT_FALSE(evm_chain_id("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"));
}

TEST(OfferMatch, KeyOrderIsIgnored) {
  const PaymentRequirements offers[] = {offer("5000"), offer()};
  PaymentRequirements accepted = offer();
  accepted.extra = *Json::parse(
      R"({"version":"2","name":"USD Coin","withdrawDelay":900,"receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8"})");
  auto i = match_offer(accepted, offers);
  ASSERT_TRUE(i);
  EXPECT_EQ(*i, 1u);
}

TEST(OfferMatch, AnyChangedFieldIsRefused) {
  const PaymentRequirements offers[] = {offer()};
  auto changed = [&](auto mutate) {
    PaymentRequirements a = offer();
    mutate(a);
    return match_offer(a, offers).error().code;
  };
  EXPECT_EQ(changed([](auto& a) { a.amount = "9999"; }), ErrorCode::invalid_payment_requirements);
  EXPECT_EQ(changed([](auto& a) { a.payTo = "0x0be336624d73454d5cf8fcd68eba03aed7ea4902"; }),
            ErrorCode::invalid_payment_requirements)
      << "the reference compares address strings, so case matters";
  EXPECT_EQ(changed([](auto& a) { a.maxTimeoutSeconds = 301; }), ErrorCode::invalid_payment_requirements);
  EXPECT_EQ(changed([](auto& a) {
              BatchSettlementExtra e = extra();
              e.withdrawDelay = 901;
              a.extra = make_extra(e);
            }),
            ErrorCode::invalid_payment_requirements);
  EXPECT_EQ(changed([](auto& a) { a.network = "eip155:1"; }), ErrorCode::invalid_network);
  EXPECT_EQ(changed([](auto& a) { a.scheme = "exact"; }), ErrorCode::unsupported_scheme);
}

// The deposit hint is no term of the offer: an `accepted` stored before a gate announced it (or
// another value) still answers it, and nothing else about the offer may differ.
TEST(OfferMatch, TheMinDepositHintIsLeftOut) {
  BatchSettlementExtra hinted = extra();
  hinted.minDeposit = Uint128{100'000};
  PaymentRequirements offered = offer();
  offered.extra = make_extra(hinted);
  const PaymentRequirements offers[] = {offer("5000"), offered};
  auto stored = match_offer(offer(), offers);
  ASSERT_TRUE(stored) << "stored before the hint";
  EXPECT_EQ(*stored, 1u);
  hinted.minDeposit = Uint128{7};
  PaymentRequirements other = offer();
  other.extra = make_extra(hinted);
  auto another = match_offer(other, offers);
  ASSERT_TRUE(another) << "another hint";
  EXPECT_EQ(*another, 1u);
  hinted.withdrawDelay = 901;
  other.extra = make_extra(hinted);
  EXPECT_EQ(match_offer(other, offers).error().code, ErrorCode::invalid_payment_requirements);
  const PaymentRequirements plain_offers[] = {offer()};
  other = offer();
  other.extra = offered.extra;
  auto unasked = match_offer(other, plain_offers);
  ASSERT_TRUE(unasked) << "a hint the gate does not make";
  EXPECT_EQ(*unasked, 0u);
}

RC_GTEST_PROP(OfferMatch, MatchesExactlyTheEqualOffer, ()) {
  std::vector<PaymentRequirements> offers;
  const int n = *rc::gen::inRange(1, 6);
  for (int i = 0; i < n; ++i) offers.push_back(offer(to_decimal(*test::gen_uint128())));
  const auto pick = *rc::gen::inRange<std::size_t>(0, offers.size());
  auto i = match_offer(offers[pick], offers);
  RC_ASSERT(i.ok());
  RC_ASSERT(offers[*i] == offers[pick]);
}

}  // namespace
}  // namespace paychan::protocol
