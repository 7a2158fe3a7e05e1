// paychan against the x402 reference SDK, case by case (cases from reference_cases.mjs, run by
// CTest just before this test). Then paychan signs its own vouchers, refunds and claim batches
// for verify_ours.mjs to check with viem.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sstream>

#include "channel/ecdsa.hpp"
#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "channel/server_rules.hpp"
#include "protocol/channel_json.hpp"
#include "protocol/headers.hpp"
#include "vectors.hpp"

namespace paychan {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string{} : std::string{v};
}

const rapidjson::Document& cases() {
  static const rapidjson::Document doc = [] {
    std::ifstream in(env("PAYCHAN_REFERENCE_CASES"));
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document d;
    d.Parse(text.str().c_str());
    return d;
  }();
  return doc;
}

std::string str(const rapidjson::Value& v, const char* k) { return v[k].GetString(); }

std::string json_of(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

TEST(ReferenceXcheck, EveryCaseAgrees) {
  ASSERT_TRUE(cases().IsObject()) << "set PAYCHAN_REFERENCE_CASES (CTest runs reference_cases.mjs first)";
  int checked = 0;
  for (const auto& c : cases()["cases"].GetArray()) {
    SCOPED_TRACE("case " + std::to_string(checked) + " (seed " + std::to_string(cases()["seed"].GetInt()) + ")");
    const std::uint64_t chain = c["chainId"].GetUint64();
    const Bytes32 domain = batch_settlement_domain_separator(chain);
    const PrivateKey key = *PrivateKey::from_hex(str(c, "privateKey"));
    ASSERT_EQ(to_checksum_hex(key.address()), str(c, "address"));

    auto config = protocol::decode_channel_config(json_of(c["config"]));
    ASSERT_TRUE(config) << config.error().to_string();
    const Bytes32 id = channel_id(domain, *config);
    EXPECT_EQ(to_hex(id), str(c, "channelId"));

    // Voucher: same digest, byte-identical deterministic signature, recovered signer.
    auto voucher = protocol::decode_signed_voucher(json_of(c["voucher"]));
    ASSERT_TRUE(voucher) << voucher.error().to_string();
    const Bytes32 digest = voucher_digest(domain, voucher->voucher);
    EXPECT_EQ(key.sign(digest), voucher->signature);
    EXPECT_EQ(*check_voucher_signature(domain, *config, id, *voucher), SignatureCheck::verified);

    const auto& refund = c["refund"];
    EXPECT_EQ(to_hex(refund_digest(domain, id, *U256::parse(str(refund, "nonce")), *parse_uint128(str(refund, "amount")))),
              str(refund, "digest"));

    const auto& batch = c["claimBatch"];
    std::vector<ClaimEntry> claims;
    for (const auto& e : batch["claims"].GetArray())
      claims.push_back({*fixed_from_hex<32>(str(e, "channelId")), *parse_uint128(str(e, "maxClaimableAmount")),
                        *parse_uint128(str(e, "totalClaimed"))});
    const Bytes32 claim_digest = claim_batch_digest(domain, claims);
    EXPECT_EQ(to_hex(claim_digest), str(batch, "digest"));
    EXPECT_EQ(to_hex(key.sign(claim_digest)), str(batch, "signature"));

    // A stock client's deposit header: decodes, passes the server's rules, and its ERC-3009
    // authorization is the payer's signature over the nonce paychan derives.
    const auto& dep = c["deposit"];
    auto payment = protocol::decode_payment_signature(str(dep, "header"));
    ASSERT_TRUE(payment) << payment.error().to_string();
    const auto* d = std::get_if<protocol::DepositPayload>(protocol::batch_payload(*payment));
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->channelConfig, *config);
    auto extra = protocol::batch_settlement_extra(payment->accepted);
    ASSERT_TRUE(extra) << extra.error().to_string();
    const Uint128 price = *parse_uint128(payment->accepted.amount);
    const OfferTerms terms{*parse_address(payment->accepted.asset), *parse_address(payment->accepted.payTo),
                           extra->receiverAuthorizer, extra->withdrawDelay, price};
    EXPECT_TRUE(check_offer_terms(terms, d->channelConfig));
    EXPECT_TRUE(check_channel_id(domain, d->channelConfig, d->voucher.voucher.channelId));
    EXPECT_TRUE(check_voucher_signature(domain, d->channelConfig, id, d->voucher));
    EXPECT_TRUE(check_cumulative(PayloadType::deposit, 0, price, d->voucher.voucher.maxClaimableAmount));
    ASSERT_TRUE(d->deposit.erc3009Authorization);
    const auto& auth = *d->deposit.erc3009Authorization;
    const Bytes32 token_domain = domain_separator({str(dep, "tokenName"), str(dep, "tokenVersion"), chain, config->token});
    const Erc3009Authorization message{config->payer, *parse_address(str(dep, "collector")), U256{d->deposit.amount},
                                       auth.validAfter, auth.validBefore, deposit_nonce(id, auth.salt)};
    EXPECT_TRUE(signed_by(receive_with_authorization_digest(token_domain, message), auth.signature, config->payer));

    // The same offer asking for Permit2 deposits: the stock client's PermitWitnessTransferFrom, to
    // the Permit2 collector, under Permit2's domain, its witness the channel.
    const auto& p2 = c["permit2Deposit"];
    auto permit2_payment = protocol::decode_payment_signature(str(p2, "header"));
    ASSERT_TRUE(permit2_payment) << permit2_payment.error().to_string();
    const auto* pd = std::get_if<protocol::DepositPayload>(protocol::batch_payload(*permit2_payment));
    ASSERT_NE(pd, nullptr);
    ASSERT_TRUE(pd->deposit.permit2Authorization);
    const auto& permit = *pd->deposit.permit2Authorization;
    EXPECT_EQ(permit.from, config->payer);
    EXPECT_EQ(permit.spender, *parse_address(str(p2, "collector")));
    EXPECT_EQ(permit.token, config->token);
    EXPECT_EQ(permit.amount, U256{pd->deposit.amount});
    EXPECT_EQ(permit.channelId, pd->voucher.voucher.channelId);
    EXPECT_TRUE(check_channel_id(domain, pd->channelConfig, permit.channelId));
    const Bytes32 permit2_digest = permit2_deposit_digest(permit2_domain_separator(chain), permit.permit());
    EXPECT_TRUE(signed_by(permit2_digest, permit.signature, config->payer));
    ++checked;
  }
  EXPECT_GT(checked, 0);
  std::printf("reference xcheck: %d cases agree\n", checked);
}

// paychan signs; verify_ours.mjs checks each signature with viem.
TEST(ReferenceXcheck, WriteOurSignatures) {
  const std::string out = env("PAYCHAN_OUR_SIGNATURES");
  if (out.empty()) GTEST_SKIP() << "PAYCHAN_OUR_SIGNATURES not set";
  ASSERT_TRUE(cases().IsObject());
  std::ofstream file(out);
  file << R"({"signer":"paychan","items":[)";
  bool first = true;
  for (const auto& c : cases()["cases"].GetArray()) {
    // A key of our own per case, derived from the reference's one.
    const Bytes32 secret = keccak256(as_bytes(str(c, "privateKey")));
    const PrivateKey key = *PrivateKey::from_bytes(secret);
    const std::uint64_t chain = c["chainId"].GetUint64();
    const Bytes32 domain = batch_settlement_domain_separator(chain);
    const Bytes32 id = *fixed_from_hex<32>(str(c, "channelId"));
    const Voucher v{id, *parse_uint128(str(c["voucher"], "maxClaimableAmount"))};
    const auto& refund = c["refund"];
    const U256 nonce = *U256::parse(str(refund, "nonce"));
    const Uint128 amount = *parse_uint128(str(refund, "amount"));
    file << (first ? "" : ",") << R"({"chainId":)" << chain << R"(,"address":")" << to_checksum_hex(key.address())
         << R"(","channelId":")" << to_hex(id) << R"(","maxClaimableAmount":")" << to_decimal(v.maxClaimableAmount)
         << R"(","voucherSignature":")" << to_hex(key.sign(voucher_digest(domain, v))) << R"(","refundNonce":")"
         << nonce.to_decimal() << R"(","refundAmount":")" << to_decimal(amount) << R"(","refundSignature":")"
         << to_hex(key.sign(refund_digest(domain, id, nonce, amount))) << "\"}";
    first = false;
  }
  file << "]}\n";
  ASSERT_TRUE(file.good());
}

}  // namespace
}  // namespace paychan
