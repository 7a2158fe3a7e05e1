// Multicall3's tryAggregate: the call as Multicall3 takes it, and its outcomes read back from what a
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
Bytes returned(const std::vector<MulticallOutcome>& outcomes) {
  std::vector<AbiValue> results;
  for (const auto& o : outcomes) results.push_back(AbiValue::tuple({AbiValue::boolean(o.success), AbiValue::bytes(o.returnData)}));
  Bytes out;
  AbiValue::tuple({AbiValue::array(std::move(results))}).encode_to(out);
  return out;
}

RC_GTEST_PROP(Multicall3, OutcomesRoundTrip, ()) {
  const auto count = *rc::gen::inRange<std::size_t>(0, 5);
  std::vector<MulticallOutcome> outcomes(count);
  for (auto& o : outcomes) {
    o.success = *rc::gen::arbitrary<bool>();
    o.returnData = gen_bytes(100);
  }
  auto decoded = decode_try_aggregate(returned(outcomes), count);
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
  std::vector<MulticallOutcome> outcomes(2);
  outcomes[0] = {true, gen_bytes(40)};
  outcomes[1] = {false, gen_bytes(40)};
  const Bytes whole = returned(outcomes);
  const auto cut = *rc::gen::inRange<std::size_t>(0, whole.size());
  const auto decoded = decode_try_aggregate(ByteView{whole}.first(cut), 2);
  const std::size_t padding = (32 - outcomes[1].returnData.size() % 32) % 32;
  if (cut >= whole.size() - padding) {
    RC_ASSERT(decoded.ok());
    RC_ASSERT((*decoded)[1].returnData == outcomes[1].returnData);
  } else {
    RC_ASSERT(!decoded.ok());
    RC_ASSERT(decoded.error().code == ErrorCode::invalid_batch_settlement_evm_rpc_read_failed);
  }
}

TEST(Multicall3, TheCallIsTryAggregateOfTargetsAndCalldata) {
  const Address a = *parse_address("0x1111111111111111111111111111111111111111");
  const MulticallCall calls[] = {{a, Bytes{0xab, 0xcd}}, {kMulticall3Address, Bytes{}}};
  const Bytes call = try_aggregate_call(true, calls);
  // tryAggregate(bool,(address,bytes)[]) is 0xbce38bd7 (Multicall3's ABI).
  EXPECT_EQ(to_hex(ByteView{call}.first(4)), "0xbce38bd7");
  const AbiReader args{ByteView{call}.subspan(4)};
  EXPECT_EQ(*args.boolean(0), true);
  auto array = args.tail(1);
  ASSERT_TRUE(array.ok());
  EXPECT_EQ(*array->uint64(0), 2u);
  auto first = array->from_word(1)->tail(0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first->address(0), a);
  EXPECT_EQ(to_hex(*first->bytes(1)), "0xabcd");
  EXPECT_EQ(to_checksum_hex(kMulticall3Address), "0xcA11bde05977b3631167028862bE2a173976CA11");
}

TEST(Multicall3, ARepliesOfAnotherShapeAreErrors) {
  const std::vector<MulticallOutcome> one{{true, Bytes{1, 2, 3}}};
  EXPECT_EQ(decode_try_aggregate(returned(one), 2).error().code, ErrorCode::invalid_batch_settlement_evm_rpc_read_failed)
      << "one outcome for two calls";
  EXPECT_FALSE(decode_try_aggregate(Bytes{}, 0).ok()) << "an empty reply (no contract there)";

  Bytes not_bool = returned(one);
  not_bool[32 * 4 - 1] = 2;  // the outcome's success word (offset, length, element offset, then the tuple)
  EXPECT_FALSE(decode_try_aggregate(not_bool, 1).ok());
  Bytes far = returned(one);
  far[31] = 0xff;  // the array's offset past the data
  EXPECT_FALSE(decode_try_aggregate(far, 1).ok());
}

}  // namespace
}  // namespace paychan::engine::chain
