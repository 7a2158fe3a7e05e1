// Multicall3's aggregate3: the call as Multicall3 takes it, and its outcomes read back from what a
// node returns, where a hostile or broken reply is a typed error.
#include "engine/chain/multicall3.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "channel/hex.hpp"
#include "engine/chain/abi.hpp"
#include "generators.hpp"

namespace paychan::engine::chain {
namespace {

Bytes gen_bytes(int max) {
  return *rc::gen::container<Bytes>(
      *rc::gen::inRange(0, max), rc::gen::map(rc::gen::inRange(0, 256), [](int b) { return static_cast<std::uint8_t>(b); }));
}

// abi.encode(Result[]), as Multicall3 returns it.
Bytes returned(const std::vector<Call3Outcome>& outcomes) {
  std::vector<AbiValue> results;
  for (const auto& o : outcomes) results.push_back(AbiValue::tuple({AbiValue::boolean(o.success), AbiValue::bytes(o.returnData)}));
  Bytes out;
  AbiValue::tuple({AbiValue::array(std::move(results))}).encode_to(out);
  return out;
}

RC_GTEST_PROP(Multicall3, OutcomesRoundTrip, ()) {
  const auto count = *rc::gen::inRange<std::size_t>(0, 5);
  std::vector<Call3Outcome> outcomes(count);
  for (auto& o : outcomes) {
    o.success = *rc::gen::arbitrary<bool>();
    o.returnData = gen_bytes(100);
  }
  auto decoded = decode_aggregate3(returned(outcomes), count);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->size() == count);
  for (std::size_t i = 0; i < count; ++i) {
    RC_ASSERT((*decoded)[i].success == outcomes[i].success);
    RC_ASSERT((*decoded)[i].returnData == outcomes[i].returnData);
  }
}

// A reply cut short is an error, never a read past its end; only a cut into the last value's
// zero padding leaves the same outcomes.
RC_GTEST_PROP(Multicall3, ATruncatedReplyIsAnErrorUnlessOnlyPaddingIsGone, ()) {
  std::vector<Call3Outcome> outcomes(2);
  outcomes[0] = {true, gen_bytes(40)};
  outcomes[1] = {false, gen_bytes(40)};
  const Bytes whole = returned(outcomes);
  const auto cut = *rc::gen::inRange<std::size_t>(0, whole.size());
  const auto decoded = decode_aggregate3(ByteView{whole}.first(cut), 2);
  const std::size_t padding = (32 - outcomes[1].returnData.size() % 32) % 32;
  if (cut >= whole.size() - padding) {
    RC_ASSERT(decoded.ok());
    RC_ASSERT((*decoded)[1].returnData == outcomes[1].returnData);
  } else {
    RC_ASSERT(!decoded.ok());
    RC_ASSERT(decoded.error().code == ErrorCode::invalid_batch_settlement_evm_rpc_read_failed);
  }
}

TEST(Multicall3, TheCallIsAggregate3OfTargetsFailurePoliciesAndCalldata) {
  const Address a = *parse_address("0x1111111111111111111111111111111111111111");
  const Call3 calls[] = {{a, true, Bytes{0xab, 0xcd}}, {kMulticall3Address, false, Bytes{}}};
  const Bytes call = aggregate3_call(calls);
  // aggregate3((address,bool,bytes)[]) is 0x82ad56cb (Multicall3's ABI).
  EXPECT_EQ(to_hex(ByteView{call}.first(4)), "0x82ad56cb");
  auto array = AbiReader{ByteView{call}.subspan(4)}.tail(0);
  ASSERT_TRUE(array.ok());
  EXPECT_EQ(*array->uint64(0), 2u);
  const auto elements = array->from_word(1);
  ASSERT_TRUE(elements.ok());
  auto first = elements->tail(0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first->address(0), a);
  EXPECT_EQ(*first->boolean(1), true);
  EXPECT_EQ(to_hex(*first->bytes(2)), "0xabcd");
  auto second = elements->tail(1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second->address(0), kMulticall3Address);
  EXPECT_EQ(*second->boolean(1), false);
  EXPECT_TRUE(second->bytes(2)->empty());
  EXPECT_EQ(to_checksum_hex(kMulticall3Address), "0xcA11bde05977b3631167028862bE2a173976CA11");
}

TEST(Multicall3, RepliesOfAnotherShapeAreErrors) {
  const std::vector<Call3Outcome> one{{true, Bytes{1, 2, 3}}};
  EXPECT_EQ(decode_aggregate3(returned(one), 2).error().code, ErrorCode::invalid_batch_settlement_evm_rpc_read_failed)
      << "one outcome for two calls";
  EXPECT_FALSE(decode_aggregate3(Bytes{}, 0).ok()) << "an empty reply (no contract there)";

  Bytes not_bool = returned(one);
  not_bool[32 * 4 - 1] = 2;  // the outcome's success word (offset, length, element offset, then the tuple)
  EXPECT_FALSE(decode_aggregate3(not_bool, 1).ok());
  Bytes far = returned(one);
  far[31] = 0xff;  // the array's offset past the data
  EXPECT_FALSE(decode_aggregate3(far, 1).ok());
}

}  // namespace
}  // namespace paychan::engine::chain
