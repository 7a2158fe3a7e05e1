// Reading the contract's Settled/Refunded events from receipt logs, and the calldata the facilitator
// adds to the contract's calls (multicall, EIP-1271 isValidSignature).
#include <gtest/gtest.h>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/chain/batch_settlement_events.hpp"

namespace paychan::engine::chain {
namespace {

Address address(std::uint8_t fill) {
  Address a;
  a.bytes.fill(fill);
  return a;
}

Bytes32 word_of(const Address& a) {
  Bytes32 w{};
  std::copy(a.bytes.begin(), a.bytes.end(), w.begin() + 12);
  return w;
}

Bytes amount_data(Uint128 v) {
  const Bytes32 word = U256{v}.to_be();
  return Bytes(word.begin(), word.end());
}

Bytes32 topic0(std::string_view signature) { return keccak256(as_bytes(signature)); }

TEST(BatchSettlementEvents, SettledAmountOfTheReceiverAndToken) {
  const Address contract = address(0xc0), receiver = address(0x11), token = address(0x22), sender = address(0x33);
  const Bytes32 settled = topic0("Settled(address,address,address,uint128)");
  std::vector<Log> logs{
      // Another receiver's sweep, a foreign contract's identical event, then ours.
      Log{contract, {settled, word_of(address(0x99)), word_of(token), word_of(sender)}, amount_data(1)},
      Log{address(0xee), {settled, word_of(receiver), word_of(token), word_of(sender)}, amount_data(2)},
      Log{contract, {settled, word_of(receiver), word_of(token), word_of(sender)}, amount_data(123'456)},
  };
  auto amount = settled_amount(logs, contract, receiver, token);
  ASSERT_TRUE(amount);
  EXPECT_EQ(*amount, std::optional<Uint128>{123'456});

  auto none = settled_amount(std::span<const Log>(logs).first(2), contract, receiver, token);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(BatchSettlementEvents, RefundedAmountOfTheChannel) {
  const Address contract = address(0xc0);
  Bytes32 channel{};
  channel[0] = 0x42;
  const Bytes32 refunded = topic0("Refunded(bytes32,address,uint128)");
  std::vector<Log> logs{Log{contract, {refunded, channel, word_of(address(1))}, amount_data(7)}};
  EXPECT_EQ(*refunded_amount(logs, contract, channel), std::optional<Uint128>{7});
  Bytes32 other = channel;
  other[1] = 1;
  EXPECT_FALSE(*refunded_amount(logs, contract, other));
}

TEST(BatchSettlementEvents, MalformedMatchingLogIsAnError) {
  const Address contract = address(0xc0);
  Bytes32 channel{};
  const Bytes32 refunded = topic0("Refunded(bytes32,address,uint128)");
  const Log short_data{contract, {refunded, channel, word_of(address(1))}, Bytes(31, 0)};
  Bytes too_big(32, 0);
  too_big[0] = 1;  // above uint128
  const Log wide{contract, {refunded, channel, word_of(address(1))}, too_big};
  for (const Log& log : {short_data, wide}) {
    auto r = refunded_amount(std::span<const Log>(&log, 1), contract, channel);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_batch_settlement_evm_rpc_read_failed);
  }
}

TEST(BatchSettlementCalls, MulticallWrapsEachCallAsBytes) {
  const std::vector<Bytes> calls{{0x12, 0x34, 0x56, 0x78}, {0xab, 0xcd}};
  const std::string hex = to_hex(multicall_call(calls));
  // multicall(bytes[]) = 0xac9650d8; one dynamic argument: offset, length 2, two offsets, two bytes.
  EXPECT_EQ(hex,
            "0xac9650d8"
            "0000000000000000000000000000000000000000000000000000000000000020"
            "0000000000000000000000000000000000000000000000000000000000000002"
            "0000000000000000000000000000000000000000000000000000000000000040"
            "0000000000000000000000000000000000000000000000000000000000000080"
            "0000000000000000000000000000000000000000000000000000000000000004"
            "1234567800000000000000000000000000000000000000000000000000000000"
            "0000000000000000000000000000000000000000000000000000000000000002"
            "abcd000000000000000000000000000000000000000000000000000000000000");
}

// The first word as the contract reads it: the magic value left-aligned, the rest zero; what a
// wallet returns after it does not matter (the contract would accept it too).
TEST(BatchSettlementCalls, Erc1271MagicIsTheFirstWordExactly) {
  Bytes magic(32, 0);
  magic[0] = 0x16, magic[1] = 0x26, magic[2] = 0xba, magic[3] = 0x7e;
  EXPECT_TRUE(is_erc1271_magic(magic));
  Bytes dirty = magic;
  dirty[31] = 1;
  EXPECT_FALSE(is_erc1271_magic(dirty));
  Bytes longer = magic;
  longer.resize(64, 0xee);
  EXPECT_TRUE(is_erc1271_magic(longer));
  EXPECT_FALSE(is_erc1271_magic(Bytes(magic.begin(), magic.begin() + 4)));
  EXPECT_FALSE(is_erc1271_magic(Bytes(32, 0)));
  Bytes32 digest{};
  const Bytes call = erc1271_is_valid_signature_call(digest, Bytes(65, 0x1b));
  EXPECT_EQ(to_hex(ByteView(call).first(4)), "0x1626ba7e");  // isValidSignature(bytes32,bytes)
}

}  // namespace
}  // namespace paychan::engine::chain
