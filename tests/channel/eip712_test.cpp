// Known answers for every EIP-712 structure the scheme signs: tests/vectors/batch-settlement.json
// (viem 2.57.20 hashTypedData / signTypedData over the contract's type strings).
#include "channel/eip712.hpp"

#include <gtest/gtest.h>

#include "channel/ecdsa.hpp"
#include "channel/hex.hpp"
#include "vectors.hpp"

namespace paychan {
namespace {

using test::str;
using test::vectors;

Address address(const rapidjson::Value& v, const char* key) { return *parse_address(str(v, key)); }
Bytes32 b32(const rapidjson::Value& v, const char* key) { return *fixed_from_hex<32>(str(v, key)); }
Uint128 u128(const rapidjson::Value& v, const char* key) { return *parse_uint128(str(v, key)); }
U256 u256(const rapidjson::Value& v, const char* key) { return *U256::parse(str(v, key)); }
Signature sig(const rapidjson::Value& v) { return *parse_signature(str(v, "signature")); }

const PrivateKey& key_of(const Address& signer) {
  static const std::vector<PrivateKey> keys = [] {
    std::vector<PrivateKey> k;
    for (const auto& e : vectors()["keys"].GetArray()) k.push_back(*PrivateKey::from_hex(str(e, "privateKey")));
    return k;
  }();
  for (const auto& k : keys)
    if (k.address() == signer) return k;
  throw std::runtime_error("no vector key for " + to_checksum_hex(signer));
}

// Our deterministic (RFC 6979) signature equals viem's byte for byte, and recovers the signer.
void expect_signature(const Bytes32& digest, const rapidjson::Value& v) {
  const Address signer = address(v, "signer");
  EXPECT_EQ(to_hex(key_of(signer).sign(digest)), str(v, "signature"));
  auto recovered = recover_signer(digest, sig(v));
  ASSERT_TRUE(recovered);
  EXPECT_EQ(*recovered, signer);
}

ChannelConfig config_of(const rapidjson::Value& c) {
  return ChannelConfig{address(c, "payer"),
                       address(c, "payerAuthorizer"),
                       address(c, "receiver"),
                       address(c, "receiverAuthorizer"),
                       address(c, "token"),
                       c["withdrawDelay"].GetUint64(),
                       b32(c, "salt")};
}

TEST(Eip712Vectors, ChannelsAndVouchers) {
  ASSERT_TRUE(vectors().IsObject()) << "vectors file not found or not JSON";
  int checked = 0;
  for (const auto& ch : vectors()["channels"].GetArray()) {
    const Bytes32 domain = batch_settlement_domain_separator(ch["chainId"].GetUint64(), address(ch, "verifyingContract"));
    EXPECT_EQ(to_hex(domain), str(ch, "domainSeparator"));
    const Bytes32 id = channel_id(domain, config_of(ch["config"]));
    EXPECT_EQ(to_hex(id), str(ch, "channelId"));
    for (const auto& v : ch["vouchers"].GetArray()) {
      const Bytes32 digest = voucher_digest(domain, Voucher{id, u128(v, "maxClaimableAmount")});
      EXPECT_EQ(to_hex(digest), str(v, "digest"));
      expect_signature(digest, v);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(Eip712Vectors, Refunds) {
  for (const auto& r : vectors()["refunds"].GetArray()) {
    const Bytes32 domain = batch_settlement_domain_separator(r["chainId"].GetUint64());
    const Bytes32 digest = refund_digest(domain, b32(r, "channelId"), u256(r, "nonce"), u128(r, "amount"));
    EXPECT_EQ(to_hex(digest), str(r, "digest"));
    expect_signature(digest, r);
  }
}

TEST(Eip712Vectors, ClaimBatchesOfZeroToThreeEntries) {
  for (const auto& b : vectors()["claimBatches"].GetArray()) {
    const Bytes32 domain = batch_settlement_domain_separator(b["chainId"].GetUint64(), address(b, "verifyingContract"));
    std::vector<ClaimEntry> claims;
    for (const auto& c : b["claims"].GetArray())
      claims.push_back(ClaimEntry{b32(c, "channelId"), u128(c, "maxClaimableAmount"), u128(c, "totalClaimed")});
    const Bytes32 digest = claim_batch_digest(domain, claims);
    EXPECT_EQ(to_hex(digest), str(b, "digest")) << claims.size() << " entries";
    expect_signature(digest, b);
  }
}

TEST(Eip712Vectors, Erc3009DepositAuthorizations) {
  for (const auto& e : vectors()["erc3009"].GetArray()) {
    const auto& d = e["domain"];
    const Bytes32 token_domain = domain_separator(
        Eip712Domain{d["name"].GetString(), d["version"].GetString(), d["chainId"].GetUint64(),
                     address(d, "verifyingContract")});
    const auto& m = e["message"];
    EXPECT_EQ(to_hex(deposit_nonce(b32(e, "channelId"), b32(e, "depositSalt"))), str(m, "nonce"));
    const Erc3009Authorization auth{address(m, "from"), address(m, "to"), u256(m, "value"),
                                    u256(m, "validAfter"), u256(m, "validBefore"), b32(m, "nonce")};
    const std::string primary = str(e, "primaryType");
    const Bytes32 digest = primary == "ReceiveWithAuthorization" ? receive_with_authorization_digest(token_domain, auth)
                                                                 : transfer_with_authorization_digest(token_domain, auth);
    EXPECT_EQ(to_hex(digest), str(e, "digest")) << primary;
    expect_signature(digest, e);
  }
}

TEST(Eip712, CanonicalAddressesAreTheSpecs) {
  EXPECT_EQ(to_checksum_hex(kBatchSettlementAddress), "0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003");
  EXPECT_EQ(to_checksum_hex(kErc3009CollectorAddress), "0x4020806089470a89826cB9fB1f4059150b550004");
  EXPECT_EQ(to_checksum_hex(kPermit2CollectorAddress), "0x4020425FAf3B746C082C2f942b4E5159887B0005");
}

}  // namespace
}  // namespace paychan
