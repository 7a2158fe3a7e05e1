// RpcClient and TransactionSender against a node that misbehaves. anvil always answers well, so
// these replies come from a scripted engine/http server: a test double, for faults a real node
// cannot be made to produce. Each must become a typed Error, never a crash or a hang.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "engine/evm/rpc_client.hpp"
#include "engine/evm/tx_sender.hpp"
#include "engine/http/run_blocking.hpp"
#include "http_test_support.hpp"

namespace paychan::engine::evm {
namespace {

using http::Exchange;
using http::Handled;
using http::run_blocking;

constexpr auto kReadFailed = ErrorCode::invalid_batch_settlement_evm_rpc_read_failed;

// The id of a JSON-RPC request body (0 when it has none), and its method.
std::uint64_t id_of(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  return doc.IsObject() && doc.HasMember("id") && doc["id"].IsUint64() ? doc["id"].GetUint64() : 0;
}
std::string method_of(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  return doc.IsObject() && doc.HasMember("method") && doc["method"].IsString() ? doc["method"].GetString() : "";
}

std::string result(std::uint64_t id, std::string_view json) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":)" + std::string(json) + "}";
}
std::string error(std::uint64_t id, std::string_view json) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"error":)" + std::string(json) + "}";
}

// A node whose every reply is script(method, id) → (status, body).
using Script = std::function<std::pair<int, std::string>(const std::string& method, std::uint64_t id)>;
struct ScriptedNode {
  explicit ScriptedNode(Script script)
      : server([s = std::move(script)](Exchange& ex) -> Handled {
          const auto [status, body] = s(method_of(ex.request().body()), id_of(ex.request().body()));
          ex.response().set(status, "application/json", body);
          return std::nullopt;
        }) {}
  http::test::TestServer<std::function<Handled(Exchange&)>> server;
};

// A node's answer to a sender's fee quote (eth_maxPriorityFeePerGas, the latest block's base fee);
// none for any other method.
std::optional<std::string> fee_quote_reply(const std::string& method, std::uint64_t id) {
  if (method == "eth_maxPriorityFeePerGas") return result(id, R"("0x1")");
  if (method == "eth_getBlockByNumber") return result(id, R"({"number":"0x1","timestamp":"0x1","baseFeePerGas":"0x7"})");
  return std::nullopt;
}

// The sender's test key, and a transfer to itself with its gas given (no estimate asked).
const PrivateKey& sender_key() {
  static const PrivateKey key = *PrivateKey::from_hex("0x" + std::string(63, '0') + "1");
  return key;
}
TxRequest to_self() {
  TxRequest request;
  request.to = sender_key().address();
  request.gas = 21'000;
  return request;
}

ScriptedNode answering(std::function<std::string(std::uint64_t id)> reply) {
  return ScriptedNode{[reply](const std::string&, std::uint64_t id) { return std::pair{200, reply(id)}; }};
}

TEST(EvmRpcHostile, MalformedRepliesAreReadFailures) {
  const std::vector<std::pair<const char*, std::function<std::string(std::uint64_t)>>> cases = {
      {"not JSON", [](std::uint64_t) { return std::string("<html>bad gateway</html>"); }},
      {"wrong id", [](std::uint64_t id) { return result(id + 1, R"("0x7a69")"); }},
      {"no id", [](std::uint64_t) { return std::string(R"({"jsonrpc":"2.0","result":"0x7a69"})"); }},
      {"neither result nor error", [](std::uint64_t id) { return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + "}"; }},
      {"result of the wrong type", [](std::uint64_t id) { return result(id, R"({"chainId":31337})"); }},
      {"quantity past 64 bits", [](std::uint64_t id) { return result(id, R"("0x10000000000000000")"); }},
      {"truncated", [](std::uint64_t id) { return result(id, R"("0x7a69")").substr(0, 20); }},
      {"deeply nested", [](std::uint64_t id) { return result(id, std::string(50'000, '[') + std::string(50'000, ']')); }},
  };
  for (const auto& [name, reply] : cases) {
    auto node = answering(reply);
    RpcClient rpc(node.server.url());
    auto id = run_blocking(rpc.chain_id());
    ASSERT_FALSE(id) << name;
    EXPECT_EQ(id.error().code, kReadFailed) << name << ": " << id.error().to_string();
  }
}

// A node that takes no batches answers one with a single error object: the calls are then made
// one by one (an account's code and a call to it too), and later ones without a batch first. A
// batch answered with ids it was not asked for is a read failure.
TEST(EvmRpcHostile, BatchesFallBackToSingleCallsAndCheckTheirIds) {
  const auto is_batch = [](const std::string& method, std::uint64_t id) { return method.empty() && id == 0; };
  {
    std::atomic<int> batches{0};
    ScriptedNode node{[&](const std::string& method, std::uint64_t id) {
      if (is_batch(method, id)) {
        ++batches;
        return std::pair{200, error(0, R"({"code":-32600,"message":"batch requests are not supported"})")};
      }
      return std::pair{200, result(id, "\"0x" + std::string(64, '0').replace(63, 1, std::to_string(id % 10)) + "\"")};
    }};
    RpcClient rpc(node.server.url());
    auto replies = run_blocking(rpc.calls(Address{}, std::vector<Bytes>{Bytes{1}, Bytes{2}}));
    ASSERT_TRUE(replies) << replies.error().to_string();
    EXPECT_EQ(batches.load(), 1);
    ASSERT_EQ(replies->size(), 2u);
    EXPECT_EQ(replies->at(0).size(), 32u);
    ASSERT_TRUE(run_blocking(rpc.calls(Address{}, std::vector<Bytes>{Bytes{3}})));
    EXPECT_EQ(batches.load(), 1) << "a node that refused a batch was asked for another";
  }
  {
    // One by one, an account's code and a call to it that reverts: the revert stays the call's.
    ScriptedNode node{[&](const std::string& method, std::uint64_t id) {
      if (is_batch(method, id)) return std::pair{200, error(0, R"({"code":-32600,"message":"no batches"})")};
      if (method == "eth_getCode") return std::pair{200, result(id, R"("0x6001")")};
      return std::pair{200, error(id, R"({"code":3,"message":"execution reverted"})")};
    }};
    RpcClient rpc(node.server.url());
    auto read = run_blocking(rpc.code_and_call(Address{}, Bytes{1}));
    ASSERT_TRUE(read) << read.error().to_string();
    EXPECT_EQ(read->code, (Bytes{0x60, 0x01}));
    ASSERT_FALSE(read->call);
    EXPECT_EQ(read->call.error().code, ErrorCode::invalid_batch_settlement_evm_transaction_reverted);
  }
  {
    // The code's read failing fails both.
    ScriptedNode node{[&](const std::string& method, std::uint64_t id) {
      if (is_batch(method, id)) return std::pair{200, error(0, R"({"code":-32600,"message":"no batches"})")};
      if (method == "eth_getCode") return std::pair{200, error(id, R"({"code":-32000,"message":"header not found"})")};
      return std::pair{200, result(id, R"("0x")")};
    }};
    RpcClient rpc(node.server.url());
    auto read = run_blocking(rpc.code_and_call(Address{}, Bytes{1}));
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, kReadFailed);
  }
  {
    ScriptedNode node{[&](const std::string&, std::uint64_t) {
      return std::pair{200, "[" + result(1000, R"("0x")") + "," + result(1001, R"("0x")") + "]"};
    }};
    RpcClient rpc(node.server.url());
    auto replies = run_blocking(rpc.calls(Address{}, std::vector<Bytes>{Bytes{1}, Bytes{2}}));
    ASSERT_FALSE(replies);
    EXPECT_EQ(replies.error().code, kReadFailed);
    EXPECT_NE(replies.error().detail.find("ids do not match"), std::string::npos) << replies.error().detail;
  }
}

TEST(EvmRpcHostile, OversizedReplyIsRefused) {
  auto node = answering([](std::uint64_t id) { return result(id, "\"0x" + std::string(10 << 20, '0') + "\""); });
  RpcClient rpc(node.server.url());
  auto code = run_blocking(rpc.code(Address{}));
  ASSERT_FALSE(code);
  EXPECT_EQ(code.error().code, kReadFailed);
  EXPECT_NE(code.error().detail.find("http_response_too_large"), std::string::npos) << code.error().detail;
}

TEST(EvmRpcHostile, NodeErrorsAndHttpFailures) {
  {
    auto node = answering([](std::uint64_t id) { return error(id, R"({"code":-32000,"message":"header not found"})"); });
    RpcClient rpc(node.server.url());
    auto n = run_blocking(rpc.block_number());
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, kReadFailed);
    EXPECT_NE(n.error().detail.find("header not found"), std::string::npos) << n.error().detail;
  }
  {
    // Error(string) "no": selector 0x08c379a0, offset 0x20, length 2, "no".
    const std::string revert = "0x08c379a0" + std::string(62, '0') + "20" + std::string(62, '0') + "02" + "6e6f" +
                               std::string(60, '0');
    auto node = answering([&](std::uint64_t id) {
      return error(id, R"({"code":3,"message":"execution reverted: no","data":")" + revert + "\"}");
    });
    RpcClient rpc(node.server.url());
    auto called = run_blocking(rpc.call(Address{}, Bytes{}));
    ASSERT_FALSE(called);
    EXPECT_EQ(called.error().code, ErrorCode::invalid_batch_settlement_evm_transaction_reverted);
    EXPECT_EQ(called.error().detail, "no");
  }
  {
    ScriptedNode node{[](const std::string&, std::uint64_t id) { return std::pair{502, result(id, R"("0x1")")}; }};
    RpcClient rpc(node.server.url());
    auto n = run_blocking(rpc.block_number());
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, kReadFailed);
    EXPECT_NE(n.error().detail.find("502"), std::string::npos);
  }
  {
    std::string url;
    {
      auto gone = answering([](std::uint64_t id) { return result(id, R"("0x1")"); });
      url = gone.server.url();
    }
    RpcClient rpc(url);
    auto n = run_blocking(rpc.block_number());
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, kReadFailed) << "a node that is not there";
  }
}

TEST(EvmRpcHostile, MalformedReceiptsAndLogs) {
  auto node = answering([](std::uint64_t id) {
    return result(id, R"({"status":"0x1","transactionHash":"0x12","blockNumber":"0x1","gasUsed":"0x5208","logs":[]})");
  });
  RpcClient rpc(node.server.url());
  auto receipt = run_blocking(rpc.receipt(Bytes32{}));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, kReadFailed);
  auto logs = run_blocking(rpc.logs(LogFilter{}));
  ASSERT_FALSE(logs);
  EXPECT_EQ(logs.error().code, kReadFailed) << "an object where the log array should be";
}

TEST(EvmRpcHostile, FeesBeyondAnyMarketAreRefused) {
  ScriptedNode node{[](const std::string& method, std::uint64_t id) {
    if (method == "eth_maxPriorityFeePerGas") return std::pair{200, result(id, R"("0x1")")};
    return std::pair{200, result(id, R"({"number":"0x1","timestamp":"0x1","baseFeePerGas":"0x)" +
                                         std::string(40, 'f') + "\"}")};
  }};
  RpcClient rpc(node.server.url());
  auto fees = run_blocking(rpc.fee_quote());
  ASSERT_FALSE(fees);
  EXPECT_EQ(fees.error().code, kReadFailed);
}

// A node that accepts a transaction under another hash than the one signed is lying.
TEST(EvmRpcHostile, SenderRefusesAForeignTransactionHash) {
  ScriptedNode node{[](const std::string& method, std::uint64_t id) {
    if (method == "eth_getTransactionCount") return std::pair{200, result(id, R"("0x0")")};
    if (auto fees = fee_quote_reply(method, id)) return std::pair{200, *fees};
    return std::pair{200, result(id, "\"0x" + std::string(64, 'a') + "\"")};
  }};
  RpcClient rpc(node.server.url());
  TransactionSender sender(rpc, sender_key(), 31337);
  auto sent = run_blocking(sender.submit(to_self()));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, kReadFailed);
}

// A node that keeps saying "nonce too low", its pending count past each nonce tried, gets a
// bounded number of retries, then an error.
TEST(EvmRpcHostile, EndlessNonceConflictsEndInAnError) {
  std::atomic<int> sends = 0;  // the server answers on its own threads
  std::atomic<int> counts = 0;
  ScriptedNode node{[&sends, &counts](const std::string& method, std::uint64_t id) {
    if (method == "eth_getTransactionCount")
      return std::pair{200, result(id, "\"0x" + std::to_string(5 + counts++) + "\"")};
    if (auto fees = fee_quote_reply(method, id)) return std::pair{200, *fees};
    ++sends;
    return std::pair{200, error(id, R"({"code":-32003,"message":"nonce too low"})")};
  }};
  RpcClient rpc(node.server.url());
  TransactionSender sender(rpc, sender_key(), 31337);
  auto sent = run_blocking(sender.submit(to_self()));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, kReadFailed);
  EXPECT_NE(sent.error().detail.find("nonce too low"), std::string::npos);
  EXPECT_EQ(sends, TransactionSender::kNonceRetries + 1);
}

// "transaction underpriced" for a fee below the node's floor, the nonce still free (the node's
// pending count not past it): the refusal is returned at once and the nonce is not consumed, so
// the next submit uses it; so is a send the node's transport failed.
TEST(EvmRpcHostile, ARefusedSendLeavesItsNonceForTheNext) {
  std::atomic<int> sends = 0;
  ScriptedNode node{[&sends](const std::string& method, std::uint64_t id) {
    if (method == "eth_getTransactionCount") return std::pair{200, result(id, R"("0x5")")};
    if (auto fees = fee_quote_reply(method, id)) return std::pair{200, *fees};
    const int n = sends++;
    if (n == 0) return std::pair{200, error(id, R"({"code":-32000,"message":"transaction underpriced"})")};
    if (n == 1) return std::pair{502, std::string("bad gateway")};
    return std::pair{200, error(id, R"({"code":-32000,"message":"already known"})")};
  }};
  RpcClient rpc(node.server.url());
  TransactionSender sender(rpc, sender_key(), 31337);
  const auto submit = [&] { return run_blocking(sender.submit(to_self())); };
  auto underpriced = submit();
  ASSERT_FALSE(underpriced);
  EXPECT_NE(underpriced.error().detail.find("transaction underpriced"), std::string::npos) << underpriced.error().detail;
  EXPECT_EQ(sends, 1) << "no retry with another nonce";
  EXPECT_FALSE(submit()) << "the transport failed";
  auto sent = submit();
  ASSERT_TRUE(sent) << sent.error().to_string();
  EXPECT_EQ(sent->nonce, 5u) << "a refused or failed send consumed its nonce";
}

// Submits made at once, from coroutines on two threads, reach the node in nonce order: a node holds
// a transaction arriving after a gap as "queued" (anvil, under load, never mined such ones).
TEST(EvmRpcHostile, ConcurrentSubmitsReachTheNodeInNonceOrder) {
  std::mutex mutex;
  std::vector<std::string> arrivals;  // the hashes of the raw transactions, as they came
  http::test::TestServer<std::function<Handled(Exchange&)>> node{[&](Exchange& ex) -> Handled {
    const std::string body(ex.request().body());
    const std::uint64_t id = id_of(body);
    const std::string method = method_of(body);
    std::string reply;
    if (method == "eth_getTransactionCount") {
      reply = result(id, R"("0x0")");
    } else if (auto fees = fee_quote_reply(method, id)) {
      reply = *fees;
    } else {
      rapidjson::Document doc;
      doc.Parse(body.data(), body.size());
      const auto raw = bytes_from_hex(doc["params"][0].GetString());
      const std::string hash = raw ? to_hex(keccak256(*raw)) : "";
      {
        std::lock_guard lock(mutex);
        arrivals.push_back(hash);
      }
      reply = result(id, "\"" + hash + "\"");
    }
    ex.response().set(200, "application/json", reply);
    return std::nullopt;
  }};
  RpcClient rpc(node.url());
  TransactionSender sender(rpc, sender_key(), 31337);
  constexpr int kCount = 20;
  http::asio::io_context context;
  std::map<std::string, std::uint64_t> nonce_of;  // by hash
  std::vector<std::string> errors;
  for (int i = 0; i < kCount; ++i) {
    http::asio::co_spawn(
        context,
        [&]() -> http::Awaitable<void> {
          TxRequest request = to_self();  // named: g++ 12 (engine/http/asio.hpp)
          auto sent = co_await sender.submit(std::move(request));
          std::lock_guard lock(mutex);
          if (sent) nonce_of[to_hex(sent->hash)] = sent->nonce;
          else errors.push_back(sent.error().to_string());
        },
        http::asio::detached);
  }
  std::thread second([&] { context.run(); });
  context.run();
  second.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(arrivals.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(nonce_of.at(arrivals[static_cast<std::size_t>(i)]), static_cast<std::uint64_t>(i));
}

}  // namespace
}  // namespace paychan::engine::evm
