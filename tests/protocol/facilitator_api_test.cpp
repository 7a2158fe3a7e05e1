// Facilitator messages and SettlementResponse extras: round trips and the reference's spellings.
#include "protocol/facilitator_api.hpp"

#include <gtest/gtest.h>

#include "channel/hex.hpp"

namespace paychan::protocol {
namespace {

const Bytes32 kChannel = *fixed_from_hex<32>("0xf632fd7f59b600f9412deab1233c4a0a0a05f80d24a1b07a8ff050499eb8fdc9");

TEST(VerifyResponse, SnapshotInExtra) {
  // The spec's /verify example, with real values.
  constexpr std::string_view kJson =
      R"({"isValid":true,"payer":"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a","extra":{"channelId":)"
      R"("0xf632fd7f59b600f9412deab1233c4a0a0a05f80d24a1b07a8ff050499eb8fdc9","balance":"1000000",)"
      R"("totalClaimed":"500000","withdrawRequestedAt":0,"refundNonce":"0"}})";
  auto r = decode_verify_response(kJson);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->isValid);
  auto s = verify_snapshot(*r);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->channelId, kChannel);
  EXPECT_EQ(s->balance, Uint128{1'000'000});
  EXPECT_EQ(s->totalClaimed, Uint128{500'000});
  EXPECT_EQ(encode_verify_response(*r), kJson);
}

TEST(VerifyResponse, InvalidCarriesTheReason) {
  VerifyResponse r;
  r.invalidReason = "invalid_batch_settlement_evm_voucher_signature";
  auto back = decode_verify_response(encode_verify_response(r));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->isValid);
  EXPECT_EQ(back->invalidReason, r.invalidReason);
  EXPECT_FALSE(verify_snapshot(*back));
}

TEST(SettlementResponse, VoucherResponseExtra) {
  SettlementResponse r;
  r.success = true;
  r.network = "eip155:8453";
  r.payer = "0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a";
  r.amount = "";
  r.extra = make_response_extra(
      BatchSettlementResponseExtra{Uint128{700}, ChannelSnapshot{kChannel, 100'000, 0, 0, U256{}, Uint128{3900}}, {}});
  const std::string json = encode_settlement_response(r);
  const std::string_view head =
      R"({"success":true,"transaction":"","network":"eip155:8453","payer":"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a",)"
      R"("amount":"","extra":{"chargedAmount":"700","channelState":{)";
  EXPECT_EQ(json.substr(0, head.size()), head);
  auto back = decode_settlement_response(json);
  ASSERT_TRUE(back);
  auto extra = batch_response_extra(*back);
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->chargedAmount, Uint128{700});
  EXPECT_EQ(extra->channelState->chargedCumulativeAmount, Uint128{3900});
  auto one_pass = decode_batch_response_extra(json);
  ASSERT_TRUE(one_pass) << one_pass.error().to_string();
  EXPECT_EQ(*one_pass, *extra);
  EXPECT_FALSE(decode_batch_response_extra(R"({"success":true,"network":"eip155:8453","extra":{"chargedAmount":"7"}})"))
      << "the envelope is checked too (no transaction)";
  EXPECT_FALSE(decode_batch_response_extra(R"({"success":true,"transaction":"","network":"n","extra":{"chargedAmount":-1}})"));
}

TEST(Supported, RoundTripsTheSpecShape) {
  SupportedResponse s;
  s.kinds.push_back(SupportedKind{2, "batch-settlement", "eip155:31337",
                                  *Json::parse(R"({"receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8"})")});
  s.signers["eip155:*"] = {"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a"};
  const std::string json = encode_supported_response(s);
  EXPECT_EQ(json,
            R"({"kinds":[{"x402Version":2,"scheme":"batch-settlement","network":"eip155:31337","extra":)"
            R"({"receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8"}}],"extensions":[],)"
            R"("signers":{"eip155:*":["0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a"]}})");
  auto back = decode_supported_response(json);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->signers, s.signers);
  ASSERT_EQ(back->kinds.size(), 1u);
  EXPECT_EQ(*supported_receiver_authorizer(back->kinds[0]),
            std::optional<Address>(*parse_address("0x8e73d351DA173229f35Ef3FBd20B512594DE23D8")));
}

TEST(Supported, AKindMayAdvertiseNoReceiverAuthorizerButNotAnUnreadableOne) {
  SupportedKind kind{2, "batch-settlement", "eip155:8453", {}};
  EXPECT_EQ(*supported_receiver_authorizer(kind), std::optional<Address>{});
  kind.extra = *Json::parse(R"({"other":1})");
  EXPECT_EQ(*supported_receiver_authorizer(kind), std::optional<Address>{});
  kind.extra = *Json::parse(R"({"receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D9"})");
  auto read = supported_receiver_authorizer(kind);
  ASSERT_FALSE(read) << "a wrong checksum";
  EXPECT_EQ(read.error().code, ErrorCode::malformed_json);
  kind.extra = *Json::parse(R"({"receiverAuthorizer":7})");
  EXPECT_FALSE(supported_receiver_authorizer(kind));
}

TEST(FacilitatorRequest, SettleClaimRoundTrips) {
  FacilitatorRequest r;
  r.paymentRequirements = PaymentRequirements{"batch-settlement", "eip155:31337", "1000", "0xA331d0E957513E3882845CC0af837d838f9d3BBe",
                                              "0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902", 60, {}};
  r.paymentPayload.accepted = r.paymentRequirements;
  ClaimPayload claim;
  claim.claims.push_back(VoucherClaimRow{ChannelConfig{}, 5000, Signature{}, 5000});
  r.paymentPayload.payload = BatchSettlementPayload{claim};
  auto back = decode_facilitator_request(encode_facilitator_request(r));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->paymentRequirements, r.paymentRequirements);
  ASSERT_NE(batch_payload(back->paymentPayload), nullptr);
  EXPECT_EQ(std::get<ClaimPayload>(*batch_payload(back->paymentPayload)), claim);
}

}  // namespace
}  // namespace paychan::protocol
