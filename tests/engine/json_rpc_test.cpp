// JSON-RPC replies as anvil 1.7.1 sends them (captured with curl), and hostile variations of them.
#include "engine/chain/json_rpc.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "channel/hex.hpp"

namespace paychan::engine::chain {
namespace {

// eth_getTransactionReceipt from anvil (logsBloom shortened: it is not read).
constexpr std::string_view kReceipt =
    R"({"jsonrpc":"2.0","id":3,"result":{"type":"0x2","status":"0x1","cumulativeGasUsed":"0x5208","logs":[],)"
    R"("logsBloom":"0x00","transactionHash":"0xa23b52004fe574000765fbe20a311b2785a318c9dbe6b0bf6a4c1f8936f57ff3",)"
    R"("transactionIndex":"0x0","blockHash":"0xd931db3d6df4d29fdb8870a34aa8a3134a82b68d792c25c9e2a5b53eeeb3c465",)"
    R"("blockNumber":"0x1","gasUsed":"0x5208","effectiveGasPrice":"0x77359400","blobGasPrice":"0x1",)"
    R"("from":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","to":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8",)"
    R"("contractAddress":null,"blockTimestamp":1795490994}})";

TEST(JsonRpc, RequestShape) {
  EXPECT_EQ(rpc_request(7, "eth_chainId", "[]"), R"({"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]})");
  Address to;
  to.bytes.fill(0x11);
  const std::uint8_t data[] = {0xde, 0xad};
  EXPECT_EQ(call_params(to, data),
            R"([{"to":"0x1111111111111111111111111111111111111111","data":"0xdead"},"latest"])");
  Address from;
  from.bytes.fill(0x22);
  EXPECT_EQ(call_params(to, data, "latest", from, 2'000'000),
            R"([{"from":"0x2222222222222222222222222222222222222222","gas":"0x1e8480",)"
            R"("to":"0x1111111111111111111111111111111111111111","data":"0xdead"},"latest"])");
}

TEST(JsonRpc, ChainIdReply) {
  auto reply = parse_rpc_reply(R"({"jsonrpc":"2.0","id":1,"result":"0x7a69"})", 1);
  ASSERT_TRUE(reply);
  ASSERT_FALSE(reply->error);
  auto q = read_quantity(reply->result);
  ASSERT_TRUE(q);
  EXPECT_EQ(*q->to_uint128(), Uint128{31337});
}

TEST(JsonRpc, ReceiptFromAnvil) {
  auto reply = parse_rpc_reply(kReceipt, 3);
  ASSERT_TRUE(reply);
  auto receipt = read_receipt(reply->result);
  ASSERT_TRUE(receipt) << receipt.error().to_string();
  ASSERT_TRUE(receipt->has_value());
  const Receipt& r = **receipt;
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.gasUsed, 21000u);
  EXPECT_EQ(r.blockNumber, 1u);
  EXPECT_EQ(*r.effectiveGasPrice.to_uint128(), Uint128{2'000'000'000});
  EXPECT_EQ(to_hex(r.transactionHash), "0xa23b52004fe574000765fbe20a311b2785a318c9dbe6b0bf6a4c1f8936f57ff3");
}

TEST(JsonRpc, PendingReceiptIsNull) {
  auto receipt = read_receipt("null");
  ASSERT_TRUE(receipt);
  EXPECT_FALSE(receipt->has_value());
}

TEST(JsonRpc, NodeErrorCarriesMessageAndRevertData) {
  auto reply = parse_rpc_reply(
      R"({"jsonrpc":"2.0","id":6,"error":{"code":3,"message":"execution reverted","data":"0xdeadbeef"}})", 6);
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->error);
  EXPECT_EQ(reply->error->code, 3);
  EXPECT_EQ(reply->error->message, "execution reverted");
  EXPECT_EQ(to_hex(reply->error->revertData), "0xdeadbeef");
}

TEST(JsonRpc, BatchRequestNumbersItsCalls) {
  const std::vector<RpcCall> calls{{"eth_chainId", "[]"}, {"eth_blockNumber", "[]"}};
  EXPECT_EQ(rpc_batch_request(7, calls),
            R"([{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]},)"
            R"({"jsonrpc":"2.0","id":8,"method":"eth_blockNumber","params":[]}])");
}

// Nodes may answer a batch in any order; each reply lands where its id says, node errors included.
TEST(JsonRpc, BatchRepliesComeBackInRequestOrder) {
  auto replies = parse_rpc_batch_reply(
      R"([{"jsonrpc":"2.0","id":9,"result":"0x3"},)"
      R"({"jsonrpc":"2.0","id":7,"result":"0x1"},)"
      R"({"jsonrpc":"2.0","id":8,"error":{"code":3,"message":"execution reverted"}}])",
      7, 3);
  ASSERT_TRUE(replies) << replies.error().to_string();
  ASSERT_EQ(replies->size(), 3u);
  EXPECT_EQ((*replies)[0].result, R"("0x1")");
  ASSERT_TRUE((*replies)[1].error);
  EXPECT_EQ((*replies)[1].error->message, "execution reverted");
  EXPECT_EQ((*replies)[2].result, R"("0x3")");
}

TEST(JsonRpc, HostileBatchRepliesAreTypedErrors) {
  const auto code = ErrorCode::invalid_batch_settlement_evm_rpc_read_failed;
  const auto one = [](int id) { return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":"0x1"})"; };
  EXPECT_EQ(parse_rpc_batch_reply(one(1), 1, 1).error().code, code) << "not an array";
  EXPECT_EQ(parse_rpc_batch_reply("[" + one(1) + "]", 1, 2).error().code, code) << "a reply missing";
  EXPECT_EQ(parse_rpc_batch_reply("[" + one(1) + "," + one(1) + "]", 1, 2).error().code, code) << "an id twice";
  EXPECT_EQ(parse_rpc_batch_reply("[" + one(1) + "," + one(3) + "]", 1, 2).error().code, code) << "an id not asked";
  EXPECT_EQ(parse_rpc_batch_reply("[" + one(0) + "]", 1, 1).error().code, code) << "below the first id";
  EXPECT_EQ(parse_rpc_batch_reply(R"([1])", 1, 1).error().code, code);
  EXPECT_EQ(parse_rpc_batch_reply(R"([{"jsonrpc":"2.0","id":1}])", 1, 1).error().code, code) << "no result";
  EXPECT_EQ(parse_rpc_batch_reply("[" + one(1) + "," + one(2) + "," + one(3) + "]", 1, 2).error().code, code)
      << "more replies than requests";
}

TEST(JsonRpc, HostileRepliesAreTypedErrors) {
  const auto code = ErrorCode::invalid_batch_settlement_evm_rpc_read_failed;
  EXPECT_EQ(parse_rpc_reply("not json", 1).error().code, code);
  EXPECT_EQ(parse_rpc_reply(R"({"jsonrpc":"2.0","id":2,"result":"0x1"})", 1).error().code, code) << "wrong id";
  EXPECT_EQ(parse_rpc_reply(R"({"jsonrpc":"2.0","id":1})", 1).error().code, code);
  EXPECT_EQ(parse_rpc_reply(R"([1,2])", 1).error().code, code);
  EXPECT_EQ(parse_rpc_reply(std::string(17 << 20, ' '), 1).error().code, code) << "oversized";
  EXPECT_EQ(read_quantity(R"("0x")").error().code, code);
  EXPECT_EQ(read_quantity(R"("12")").error().code, code);
  EXPECT_EQ(read_quantity(R"("0xzz")").error().code, code);
  EXPECT_EQ(read_quantity(R"(12)").error().code, code);
  EXPECT_EQ(read_quantity("\"0x" + std::string(65, 'f') + "\"").error().code, code) << "above 256 bits";
  EXPECT_EQ(read_hash(R"("0x1234")").error().code, code);
  EXPECT_EQ(read_data(R"("0x123")").error().code, code);
  EXPECT_EQ(read_receipt(R"({"status":"0x1"})").error().code, code);
  EXPECT_EQ(read_receipt(R"({"status":"0x1","transactionHash":"0x00","blockNumber":"0x1","gasUsed":"0x1","logs":[]})")
                .error()
                .code,
            code);
  EXPECT_EQ(read_block(R"({"number":"0x1"})").error().code, code);
}

TEST(JsonRpc, QuantityEncoding) {
  EXPECT_EQ(to_quantity(U256{}), "0x0");
  EXPECT_EQ(to_quantity(U256{1}), "0x1");
  EXPECT_EQ(to_quantity(U256{31337}), "0x7a69");
  EXPECT_EQ(to_quantity(U256{Uint128{1} << 64}), "0x10000000000000000");
}

// eth_getLogs from anvil: a mined log, and one from a pending block (null position fields).
TEST(JsonRpc, LogsFromAnvil) {
  const std::string_view result =
      R"([{"address":"0x5fbdb2315678afecb367f032d93f642f64180aa3","topics":[)"
      R"("0x48257dc961b6f792c2b78a080dacfed693b660960a702de21cee364e20270e2f",)"
      R"("0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266"],)"
      R"("data":"0x000000000000000000000000000000000000000000000000000000000000002a",)"
      R"("blockHash":"0x9b7a4ee4ba2bd83b8b0a0aa4b8f0aabd3c2e0dfb4f8b0ab8f5b7ed3b0b2a1c11","blockNumber":"0x2",)"
      R"("blockTimestamp":"0x6a0d7f01","transactionHash":"0x1f0e6b3c5d8a3a4b9e0d2c7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b",)"
      R"("transactionIndex":"0x0","logIndex":"0x0","removed":false},)"
      R"({"address":"0x5fbdb2315678afecb367f032d93f642f64180aa3","topics":[],"data":"0x",)"
      R"("blockHash":null,"blockNumber":null,"transactionHash":null,"transactionIndex":null,"logIndex":null,"removed":false}])";
  auto logs = read_logs(result);
  ASSERT_TRUE(logs) << logs.error().to_string();
  ASSERT_EQ(logs->size(), 2u);
  EXPECT_EQ(to_checksum_hex((*logs)[0].address), "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  ASSERT_EQ((*logs)[0].topics.size(), 2u);
  EXPECT_EQ((*logs)[0].data.back(), 0x2a);
  EXPECT_EQ((*logs)[0].blockNumber, 2u);
  EXPECT_EQ(to_hex((*logs)[0].transactionHash), "0x1f0e6b3c5d8a3a4b9e0d2c7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b");
  EXPECT_EQ((*logs)[1].blockNumber, 0u);
  EXPECT_TRUE((*logs)[1].data.empty());

  const auto code = ErrorCode::invalid_batch_settlement_evm_rpc_read_failed;
  EXPECT_EQ(read_logs("{}").error().code, code);
  EXPECT_EQ(read_logs(R"([{"address":"0x00","topics":[],"data":"0x"}])").error().code, code);
  EXPECT_EQ(read_logs(R"([{"address":"0x5fbdb2315678afecb367f032d93f642f64180aa3","topics":["0x1"],"data":"0x"}])")
                .error()
                .code,
            code);
  EXPECT_EQ(read_logs(R"([{"address":"0x5fbdb2315678afecb367f032d93f642f64180aa3","topics":[],"data":"0x",)"
                      R"("blockNumber":7}])")
                .error()
                .code,
            code);
  EXPECT_TRUE(read_logs("[]", 0)) << "an empty list is fine";
  EXPECT_EQ(read_logs(R"([{"address":"0x5fbdb2315678afecb367f032d93f642f64180aa3","topics":[],"data":"0x"}])", 0)
                .error()
                .code,
            code)
      << "more logs than allowed";
}

TEST(JsonRpc, DeepNestingDoesNotOverflowTheStack) {
  const std::string deep = R"({"jsonrpc":"2.0","id":1,"result":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto reply = parse_rpc_reply(deep, 1);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().detail, "reply nests too deeply");
  EXPECT_TRUE(parse_rpc_reply(R"({"jsonrpc":"2.0","id":1,"result":[[["0x1"]]]})", 1)) << "shallow nesting is fine";
}

RC_GTEST_PROP(JsonRpc, QuantitiesRoundTrip, (std::uint64_t hi, std::uint64_t lo)) {
  const Uint128 v = static_cast<Uint128>(hi) << 64 | lo;
  const std::string hex = to_quantity(U256{v});
  RC_ASSERT(hex == "0x0" || hex[2] != '0');  // no leading zeros: nodes refuse them in params
  auto q = read_quantity(quote(hex));
  RC_ASSERT(q.ok());
  RC_ASSERT(*q->to_uint128() == v);
}

// A batch's replies, sent in any order, come back in request order with their own results.
RC_GTEST_PROP(JsonRpc, BatchRepliesInAnyOrderLandByTheirIds, (std::uint32_t first)) {
  const auto results =
      *rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint64_t>>(rc::gen::arbitrary<std::uint64_t>()));
  std::vector<std::size_t> order(results.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::shuffle(order.begin(), order.end(), std::mt19937{*rc::gen::arbitrary<std::uint32_t>()});
  const std::uint64_t first_id = std::uint64_t{first} + 1;
  std::string body = "[";
  for (std::size_t i : order) {
    if (body.size() > 1) body += ',';
    body += R"({"jsonrpc":"2.0","id":)" + std::to_string(first_id + i) + R"(,"result":)" +
            quote(to_quantity(U256{results[i]})) + "}";
  }
  body += ']';
  auto replies = parse_rpc_batch_reply(body, first_id, results.size());
  RC_ASSERT(replies.ok());
  for (std::size_t i = 0; i < results.size(); ++i)
    RC_ASSERT(*read_quantity((*replies)[i].result)->to_uint128() == Uint128{results[i]});
}

RC_GTEST_PROP(JsonRpc, ArbitraryBytesNeverCrash, (const std::string& body)) {
  if (auto reply = parse_rpc_reply(body, 1)) {
    (void)read_receipt(reply->result);
    (void)read_block(reply->result);
    (void)read_quantity(reply->result);
    (void)read_logs(reply->result);
  }
  (void)parse_rpc_batch_reply(body, 1, 3);
}

}  // namespace
}  // namespace paychan::engine::chain
