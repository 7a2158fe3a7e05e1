// The facilitator's receiverAuthorizer key over HTTP, on a real chain: it signs a refund only for
// an authenticated client whose receivers include the channel's, and never for more than stays
// unclaimed; a channel delegating to it is refused to a client outside its receiver. Without that rule a payer could
// ask /settle for a refund of his whole deposit, and the contract would hand back what the server
// had charged but not yet claimed (the attack a reviewer reproduced in session 8).
#include <gtest/gtest.h>

#include "engine/facilitator/facilitator_service.hpp"
#include "engine/http/client.hpp"
#include "engine/http/server.hpp"
#include "facilitator_support.hpp"

namespace paychan::engine::facilitator::test {
namespace {

constexpr Uint128 kDeposit = 10'000;
constexpr Uint128 kCharged = 3'000;  // served and recorded by the server, not claimed yet
const std::string kServerToken = "the-receivers-own-server-token-0123456789";
const std::string kOtherToken = "another-receivers-server-token-0123456789";

std::string code(ErrorCode c) { return std::string(to_string(c)); }

class FacilitatorAuthTest : public FacilitatorChainTest {
 protected:
  void SetUp() override {
    FacilitatorChainTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    receiver_ = fresh_receiver();
    other_receiver_ = fresh_receiver();
    auto clients = ClientAuth::load({
        ClientConfig{"server", dir_.secret_file("server.token", kServerToken), {receiver_}},
        ClientConfig{"other", dir_.secret_file("other.token", kOtherToken), {other_receiver_}},
    });
    ASSERT_TRUE(clients) << clients.error().to_string();
    service_ =
        std::make_unique<FacilitatorService>(*facilitator_, std::make_shared<const ClientAuth>(std::move(*clients)));
    http::ServerOptions options;
    options.threads = 1;
    options.limits.max_body_bytes = protocol::kMaxFacilitatorRequestBytes;
    server_ = std::make_unique<http::HttpServer>(*service_, options);
    ASSERT_TRUE(server_->start());
  }
  void TearDown() override {
    if (server_) server_->stop(std::chrono::seconds(1));
  }

  // POSTs `r` to `path` over HTTP with `token` (none when empty); the status and the body.
  std::pair<unsigned, std::string> post(const char* path, const protocol::FacilitatorRequest& r,
                                        const std::string& token) {
    http::BlockingHttpClient client;
    auto request = http::ClientRequest::post("http://127.0.0.1:" + std::to_string(server_->port()) + path,
                                             protocol::encode_facilitator_request(r));
    if (!token.empty()) request.header("Authorization", "Bearer " + token);
    auto reply = client.request(std::move(request));
    EXPECT_TRUE(reply) << reply.error().to_string();
    if (!reply) return {0u, std::string{}};
    return {static_cast<unsigned>(reply->status), reply->body};
  }
  std::pair<unsigned, protocol::SettlementResponse> post_settle(const protocol::FacilitatorRequest& r,
                                                                const std::string& token) {
    const auto reply = post("/settle", r, token);
    auto answer = protocol::decode_settlement_response(reply.second);
    EXPECT_TRUE(answer) << reply.second;
    return {reply.first, answer ? *answer : protocol::SettlementResponse{}};
  }

  // A refusal because the key may not sign for `receiver` (named in the message); nothing was sent.
  void expect_not_signed_for(const std::pair<unsigned, protocol::SettlementResponse>& reply, const Address& receiver,
                             std::uint64_t sent_before) {
    const auto& [status, answer] = reply;
    EXPECT_EQ(status, 200u);
    EXPECT_FALSE(answer.success);
    EXPECT_EQ(answer.errorReason, code(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch));
    EXPECT_NE(answer.errorMessage.value_or("").find(to_checksum_hex(receiver)), std::string::npos)
        << answer.errorMessage.value_or("");
    EXPECT_EQ(signer_transactions(), sent_before);
  }

  // A refund payload for `c`: its payer's zero-charge voucher at `signed_total`, completed with
  // amount, the next refundNonce and `claims`; no signatures, so the facilitator's key must sign.
  static protocol::FacilitatorRequest refund(const TestChannel& c, Uint128 signed_total, Uint128 amount,
                                             std::vector<protocol::VoucherClaimRow> claims) {
    auto payload = client::refund_payload(c.offer, c.config, c.id, signed_total, std::nullopt, c.keys);
    auto& r = std::get<protocol::RefundPayload>(std::get<protocol::BatchSettlementPayload>(payload.payload));
    r.amount = amount;
    r.refundNonce = U256{0};
    r.claims = std::move(claims);
    return c.request(payload);
  }

  Address receiver_;
  Address other_receiver_;
  std::unique_ptr<FacilitatorService> service_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(FacilitatorAuthTest, APayerCannotHaveTheFacilitatorSignAwayWhatTheServerCharged) {
  TestChannel c = channel(0, receiver_, 1);
  ASSERT_TRUE(settle(c.deposit(kPrice, kDeposit)).success);
  const U256 payer_before = token_balance(c.config.payer);
  const std::uint64_t sent_before = signer_transactions();

  // The payer's own refund of everything: no claim rows (he can sign any voucher he likes anyway).
  const auto attack = refund(c, 0, kDeposit, {});
  auto [anonymous, answer] = post_settle(attack, "");
  EXPECT_EQ(anonymous, 401u);
  EXPECT_EQ(answer.errorReason, std::optional<std::string>{"facilitator_unauthorized"});
  // A real client, but of another receiver: the key does not sign for this channel.
  expect_not_signed_for(post_settle(attack, kOtherToken), receiver_, sent_before);
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
  EXPECT_EQ(token_balance(c.config.payer), payer_before);

  // Nor does the receiver's own server get a signature for more than stays unclaimed once its
  // claim is in: sent alone, ahead of the claim, it would refund the charges too.
  auto [own, too_much] = post_settle(refund(c, kCharged, kDeposit, {c.claim_row(kCharged, kCharged)}), kServerToken);
  EXPECT_EQ(own, 200u);
  EXPECT_FALSE(too_much.success);
  EXPECT_EQ(too_much.errorReason, code(ErrorCode::invalid_batch_settlement_evm_refund_amount_invalid));
  EXPECT_EQ(signer_transactions(), sent_before);

  // The receiver's own server completes the refund the way the scheme means it: what was charged
  // is claimed in the same transaction, the rest goes back.
  auto [status, done] = post_settle(refund(c, kCharged, kDeposit - kCharged, {c.claim_row(kCharged, kCharged)}),
                                    kServerToken);
  EXPECT_EQ(status, 200u);
  ASSERT_TRUE(done.success) << done.errorReason.value_or("") << ": " << done.errorMessage.value_or("");
  EXPECT_EQ(onchain(c.id).balance, kCharged);
  EXPECT_EQ(onchain(c.id).totalClaimed, kCharged);
  EXPECT_EQ(*token_balance(c.config.payer).to_uint128(), *payer_before.to_uint128() + (kDeposit - kCharged));
}

TEST_F(FacilitatorAuthTest, TheKeySignsClaimsOnlyForTheClientsReceivers) {
  TestChannel c = channel(1, receiver_, 2);
  ASSERT_TRUE(settle(c.deposit(kPrice, kDeposit)).success);
  protocol::ClaimPayload claim;
  claim.claims.push_back(c.claim_row(kCharged, kCharged));
  const auto request = server_request(c.offer, claim);

  auto [other, refused] = post_settle(request, kOtherToken);
  EXPECT_EQ(other, 200u);
  EXPECT_FALSE(refused.success);
  EXPECT_EQ(refused.errorReason, code(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch));
  EXPECT_EQ(onchain(c.id).totalClaimed, 0u);

  auto [status, claimed] = post_settle(request, kServerToken);
  EXPECT_EQ(status, 200u);
  EXPECT_TRUE(claimed.success) << claimed.errorReason.value_or("") << ": " << claimed.errorMessage.value_or("");
  EXPECT_EQ(onchain(c.id).totalClaimed, kCharged);
}

// A refund is sent as one multicall with the claims that come with it: the key signs that claim
// batch only when every row's receiver is the client's, as it does for a claim alone.
TEST_F(FacilitatorAuthTest, AClaimRowOfAnotherReceiverInsideARefundIsNotSigned) {
  TestChannel mine = channel(3, receiver_, 4);
  TestChannel theirs = channel(4, other_receiver_, 5);
  ASSERT_TRUE(settle(mine.deposit(kPrice, kDeposit)).success);
  ASSERT_TRUE(settle(theirs.deposit(kPrice, kDeposit)).success);
  const std::uint64_t sent_before = signer_transactions();
  const auto request = refund(mine, kCharged, kDeposit - kCharged,
                              {mine.claim_row(kCharged, kCharged), theirs.claim_row(kCharged, kCharged)});
  expect_not_signed_for(post_settle(request, kServerToken), other_receiver_, sent_before);
  EXPECT_EQ(onchain(theirs.id).totalClaimed, 0u);
  EXPECT_EQ(onchain(mine.id).balance, kDeposit);
}

TEST_F(FacilitatorAuthTest, AChannelDelegatingToTheKeyIsRefusedToAClientOutsideItsReceiver) {
  // Its claims could never be signed for this client: taking its deposit would mean serving on
  // money the server cannot collect.
  TestChannel c = channel(2, receiver_, 3);
  const auto deposit = c.deposit(kPrice, kDeposit);
  const std::uint64_t sent_before = signer_transactions();
  auto [status, body] = post("/verify", deposit, kOtherToken);
  EXPECT_EQ(status, 200u);
  auto verdict = protocol::decode_verify_response(body);
  ASSERT_TRUE(verdict) << body;
  EXPECT_FALSE(verdict->isValid);
  EXPECT_EQ(verdict->invalidReason, code(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch));
  auto [settle_status, settled] = post_settle(deposit, kOtherToken);
  EXPECT_EQ(settle_status, 200u);
  EXPECT_FALSE(settled.success);
  EXPECT_EQ(settled.errorReason, code(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch));
  EXPECT_EQ(signer_transactions(), sent_before);
  EXPECT_EQ(onchain(c.id).balance, 0u);

  // The same for a voucher and a refund on that channel.
  for (const auto& request : {c.voucher(kPrice), refund(c, 0, kPrice, {})}) {
    auto [v_status, v_body] = post("/verify", request, kOtherToken);
    auto v = protocol::decode_verify_response(v_body);
    ASSERT_TRUE(v) << v_body;
    EXPECT_EQ(v->invalidReason, code(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch)) << v_body;
  }
  auto [refund_status, refunded] = post_settle(refund(c, 0, kPrice, {}), kOtherToken);
  EXPECT_EQ(refunded.errorReason, code(ErrorCode::invalid_batch_settlement_evm_authorizer_address_mismatch));
  EXPECT_EQ(signer_transactions(), sent_before);

  // The receiver's own server is served.
  auto [ok_status, ok_body] = post("/verify", deposit, kServerToken);
  EXPECT_EQ(ok_status, 200u);
  auto valid = protocol::decode_verify_response(ok_body);
  ASSERT_TRUE(valid) << ok_body;
  EXPECT_TRUE(valid->isValid) << ok_body;
}

}  // namespace
}  // namespace paychan::engine::facilitator::test
