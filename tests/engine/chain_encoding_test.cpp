// RLP, EIP-1559 signing and ABI call encoding against viem 2.57.20 (tests/vectors/evm-encoding.json).
#include <gtest/gtest.h>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "engine/chain/abi.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/chain/rlp.hpp"
#include "engine/chain/transaction.hpp"
#include "vectors.hpp"

namespace paychan::engine::chain {
namespace {

const rapidjson::Document& evm() {
  static const rapidjson::Document doc = test::load_vectors("evm-encoding.json");
  return doc;
}

Bytes hex(std::string_view h) { return *bytes_from_hex(h); }

TEST(Rlp, KnownAnswers) {
  ASSERT_TRUE(evm().IsObject());
  const auto& v = evm()["rlp"];
  auto expect = [&](int i, const Bytes& got) { EXPECT_EQ(to_hex(got), test::str(v[i], "rlp")) << test::str(v[i], "name"); };
  expect(0, rlp_bytes({}));
  expect(1, rlp_bytes(as_bytes("dog")));
  expect(2, RlpList{}.bytes(as_bytes("cat")).bytes(as_bytes("dog")).encode());
  expect(3, RlpList{}.encode());
  // [ [], [[]], [ [], [[]] ] ]: the set-theoretic three.
  RlpList empty, one, two;
  one.list(empty);
  two.list(empty).list(one);
  expect(4, RlpList{}.list(empty).list(one).list(two).encode());
  expect(5, rlp_bytes(hex("0x0f")));
  expect(6, rlp_bytes(hex("0x0400")));
  expect(7, rlp_bytes(as_bytes(std::string(56, 'a'))));
}

TEST(Eip1559, SignedLikeViem) {
  const auto key = *PrivateKey::from_hex(test::str(evm(), "key"));
  for (const auto& t : evm()["eip1559"].GetArray()) {
    Eip1559Transaction tx;
    tx.chainId = t["chainId"].GetUint64();
    tx.nonce = t["nonce"].GetUint64();
    tx.maxPriorityFeePerGas = *U256::parse(test::str(t, "maxPriorityFeePerGas"));
    tx.maxFeePerGas = *U256::parse(test::str(t, "maxFeePerGas"));
    tx.gas = std::stoull(test::str(t, "gas"));
    tx.to = *parse_address(test::str(t, "to"));
    tx.value = *U256::parse(test::str(t, "value"));
    tx.data = hex(test::str(t, "data"));
    const SignedTransaction signed_tx = sign_transaction(tx, key);
    EXPECT_EQ(to_hex(signed_tx.raw), test::str(t, "raw"));
    EXPECT_EQ(to_hex(signed_tx.hash), test::str(t, "hash"));
  }
}

// The first contracts anvil's account 0 deploys (the addresses every Hardhat/Foundry tutorial shows).
TEST(CreateAddress, KnownAnswers) {
  const Address deployer = *parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  EXPECT_EQ(to_checksum_hex(create_address(deployer, 0)), "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  EXPECT_EQ(to_checksum_hex(create_address(deployer, 1)), "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
}

ChannelConfig config_of(const rapidjson::Value& c, const Bytes32& salt) {
  auto a = [&](const char* k) { return *parse_address(test::str(c, k)); };
  return ChannelConfig{a("payer"), a("payerAuthorizer"), a("receiver"), a("receiverAuthorizer"), a("token"),
                       c["withdrawDelay"].GetUint64(), salt};
}

TEST(Abi, CallsEncodeLikeViem) {
  const auto& abi = evm()["abi"];
  const auto& calls = abi["calls"];
  const Address receiver = *parse_address("0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902");
  const Address token = *parse_address("0xA331d0E957513E3882845CC0af837d838f9d3BBe");
  EXPECT_EQ(to_hex(encode_call("settle(address,address)", {AbiValue::address(receiver), AbiValue::address(token)})),
            test::str(calls, "settle"));

  Bytes32 ab{};
  ab.fill(0xab);
  EXPECT_EQ(to_hex(encode_call("channels(bytes32)", {AbiValue::word(ab)})), test::str(calls, "channels"));

  // claimWithSignature(VoucherClaim[] claims, bytes authorizerSignature): nested tuples with
  // dynamic members exercise every offset rule.
  const Bytes32 salt7 = *fixed_from_hex<32>(test::str(abi["config"], "salt"));
  auto sig = [](std::uint8_t b) {
    Signature s;
    s.fill(b);
    return s;
  };
  const VoucherClaim claims[] = {{config_of(abi["config"], salt7), 5000, sig(0x11), 5000},
                                 {config_of(abi["config"], Bytes32{}), kUint128Max, sig(0x22), 1}};
  const Bytes call = claim_with_signature_call(claims, sig(0x33));
  EXPECT_EQ(to_hex(call), test::str(calls, "claimWithSignature2"));
}

TEST(AbiReader, HostileReturnDataIsAnError) {
  Bytes data(64, 0);
  data[0] = 1;  // word 0 exceeds uint128 and is no address
  const AbiReader r{data};
  EXPECT_FALSE(r.uint128(0));
  EXPECT_TRUE(r.uint128(1));
  EXPECT_FALSE(r.word(2)) << "past the end";
  EXPECT_FALSE(r.address(0)) << "high bytes set";
  EXPECT_FALSE(AbiReader{ByteView{data}.subspan(0, 31)}.word(0)) << "short data";
}

// decimals() answers a uint8: a larger word or a short reply is an error, not a truncated number.
TEST(AbiReader, DecimalsAreAUint8) {
  EXPECT_EQ(to_hex(erc20_decimals_call()), "0x313ce567");
  Bytes word(32, 0);
  word[31] = 6;
  const auto six = decode_decimals(word);
  ASSERT_TRUE(six) << six.error().to_string();
  EXPECT_EQ(*six, 6u);
  word[30] = 1;  // 262
  EXPECT_FALSE(decode_decimals(word));
  EXPECT_FALSE(decode_decimals(ByteView{word}.subspan(0, 31)));
}

// A dynamic `bytes` behind an offset: found where the offset says, refused when the offset or the
// length points past the data (even by values that overflow a naive sum).
TEST(AbiReader, BytesBehindAnOffset) {
  Bytes data(32 * 4, 0);
  data[31] = 0x40;  // word 0: the offset of the value, word 2
  data[95] = 3;     // word 2: its length
  data[96] = 0xaa;
  data[97] = 0xbb;
  data[98] = 0xcc;
  const auto value = AbiReader{data}.bytes(0);
  ASSERT_TRUE(value) << value.error().to_string();
  EXPECT_EQ(Bytes(value->begin(), value->end()), (Bytes{0xaa, 0xbb, 0xcc}));

  Bytes hostile = data;
  hostile[95] = 33;  // one byte more than the data holds after the length
  EXPECT_FALSE(AbiReader{hostile}.bytes(0));
  hostile = data;
  hostile[31] = 0x70;  // the length word would run past the end
  EXPECT_FALSE(AbiReader{hostile}.bytes(0));
  hostile = data;
  std::fill(hostile.begin() + 64, hostile.begin() + 96, 0xff);  // a length near 2^256
  EXPECT_FALSE(AbiReader{hostile}.bytes(0));
  hostile = data;
  std::fill(hostile.begin() + 24, hostile.begin() + 32, 0xff);  // an offset near 2^64
  EXPECT_FALSE(AbiReader{hostile}.bytes(0));
  EXPECT_FALSE(AbiReader{data}.bytes(4)) << "no such word";
}

TEST(AbiReader, RevertReasons) {
  // Error("nope"): selector, offset 0x20, length 4, "nope" padded.
  Bytes revert = hex("0x08c379a0");
  Bytes body(96, 0);
  body[31] = 0x20;
  body[63] = 4;
  std::copy_n("nope", 4, body.begin() + 64);
  revert.insert(revert.end(), body.begin(), body.end());
  EXPECT_EQ(describe_revert(revert), "nope");
  revert[4 + 63] = 200;  // length beyond the data
  EXPECT_EQ(describe_revert(revert), "malformed Error(string)");
  EXPECT_EQ(describe_revert(hex("0xdeadbeef")), "custom error 0xdeadbeef");
  // The contracts' own errors are named: the test token's refused authorization (its selector as
  // viem computes it), and one of the settlement contract's, arguments and all.
  EXPECT_EQ(describe_revert(hex("0x77c207f4")), "custom error ERC3009InvalidSignature() (0x77c207f4)");
  const Bytes32 claim = keccak256(ByteView(reinterpret_cast<const std::uint8_t*>("ClaimExceedsBalance()"), 21));
  Bytes with_args(claim.begin(), claim.begin() + 4);
  with_args.resize(4 + 32);
  EXPECT_EQ(describe_revert(with_args), "custom error ClaimExceedsBalance() (" + to_hex(ByteView(with_args).first(4)) + ")");
  EXPECT_EQ(describe_revert({}), "reverted without data");
}

}  // namespace
}  // namespace paychan::engine::chain
