// RpcClient and TransactionSender against a real anvil node: reads, transfers, concurrent
// submissions from one key, nonce recovery, receipt timeouts, stuck-transaction replacement,
// reverts and logs, and contract placement at the canonical addresses.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "devnet_fixture.hpp"
#include "engine/chain/abi.hpp"
#include "engine/http/beast.hpp"
#include "probe_contract.hpp"

namespace paychan::engine::evm {
namespace {

using test::Devnet;
namespace asio = http::asio;

constexpr Uint128 kEther = 1'000'000'000'000'000'000;

Bytes probe_creation(std::uint64_t initial) {
  Bytes code = *bytes_from_hex(test::kProbeBytecode);
  chain::AbiValue::uint(U256{initial}).encode_to(code);
  return code;
}

Uint128 small(const Result<U256>& v) { return v ? v->to_uint128().value_or(0) : 0; }

TxRequest call_to(const Address& to, Bytes data, std::optional<std::uint64_t> gas = std::nullopt) {
  TxRequest r;
  r.to = to;
  r.data = std::move(data);
  r.gas = gas;
  return r;
}

TxRequest transfer(const Address& to, Uint128 wei) {
  TxRequest r;
  r.to = to;
  r.value = U256{wei};
  return r;
}

TEST(EvmRpc, ReadsTheChain) {
  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  auto id = chain.run(chain.rpc().chain_id());
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(*id, 31337u);
  auto block = chain.run(chain.rpc().latest_block());
  ASSERT_TRUE(block) << block.error().to_string();
  EXPECT_EQ(block->number, 0u);
  EXPECT_GT(small(block->baseFeePerGas), 0u) << "London rules and later have a base fee";
  auto fees = chain.run(chain.rpc().fee_quote());
  ASSERT_TRUE(fees);
  EXPECT_GE(small(fees->maxFeePerGas), 2 * small(block->baseFeePerGas) + small(fees->maxPriorityFeePerGas));
  EXPECT_EQ(small(chain.run(chain.rpc().balance(chain.key(1).address()))), 10'000 * kEther);
  EXPECT_TRUE(chain.run(chain.rpc().code(chain.key(1).address()))->empty());
  EXPECT_EQ(*chain.run(chain.rpc().transaction_count(chain.key(1).address())), 0u);
}

TEST(EvmRpc, TransferIsSubmittedAndMined) {
  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  const Address to = chain.key(1).address();
  auto sent = chain.run(chain.sender().submit(transfer(to, kEther)));
  ASSERT_TRUE(sent) << sent.error().to_string();
  EXPECT_EQ(sent->nonce, 0u);
  auto receipt = chain.run(chain.sender().wait(*sent));
  ASSERT_TRUE(receipt) << receipt.error().to_string();
  EXPECT_TRUE(receipt->success);
  EXPECT_EQ(receipt->transactionHash, sent->hash);
  EXPECT_EQ(receipt->gasUsed, 21'000u);
  EXPECT_EQ(small(chain.run(chain.rpc().balance(to))), 10'001 * kEther);
  EXPECT_EQ(*chain.run(chain.rpc().block_number()), receipt->blockNumber);
}

// 20 submissions from one key at once, on two threads: each gets its own nonce, all are mined.
TEST(EvmRpc, ConcurrentSubmitsFromOneKeyAllMine) {
  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  constexpr int kCount = 20;
  const Address to = chain.key(2).address();
  asio::io_context context;
  std::mutex mutex;
  std::vector<std::uint64_t> nonces;
  std::vector<std::string> errors;
  for (int i = 0; i < kCount; ++i) {
    asio::co_spawn(
        context,
        [&, i]() -> http::Awaitable<void> {
          TxRequest request = transfer(to, static_cast<Uint128>(i + 1));  // named: g++ 12 (engine/http/asio.hpp)
          auto sent = co_await chain.sender().submit(std::move(request));
          if (!sent) {
            std::lock_guard lock(mutex);
            errors.push_back(sent.error().to_string());
            co_return;
          }
          // anvil, rarely (here once in 300 to 1,500 runs), left the transactions from one nonce on
          // in its pool's queue for good, every nonce before it mined (sent in nonce order), and a
          // block mined after did not release them. A replacement (the same nonce, higher fees), as
          // a stuck transaction gets on any chain, moves them on: no failure in 2,000 runs with it.
          WaitOptions replacing;
          replacing.replace_after = std::chrono::seconds(5);
          auto receipt = co_await chain.sender().wait(*sent, replacing);
          std::lock_guard lock(mutex);
          if (!receipt) errors.push_back(receipt.error().to_string());
          else if (!receipt->success) errors.push_back("reverted");
          else nonces.push_back(sent->nonce);
        },
        asio::detached);
  }
  std::thread second([&] { context.run(); });
  context.run();
  second.join();
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += e + "\n";
    auto pool = chain.run(chain.rpc().raw("txpool_inspect", "[]"));
    auto count = chain.run(chain.rpc().transaction_count(chain.key(0).address(), "latest"));
    ADD_FAILURE() << all << "txpool: " << (pool ? *pool : pool.error().to_string()) << ", nonces mined: "
                  << (count ? std::to_string(*count) : count.error().to_string());
  }
  std::sort(nonces.begin(), nonces.end());
  std::vector<std::uint64_t> expected(kCount);
  for (int i = 0; i < kCount; ++i) expected[i] = static_cast<std::uint64_t>(i);
  EXPECT_EQ(nonces, expected);
  // 1 + 2 + … + 20 wei arrived: every transfer was mined exactly once.
  EXPECT_EQ(small(chain.run(chain.rpc().balance(to))), 10'000 * kEther + kCount * (kCount + 1) / 2);
}

// Another process sends from the same key: the sender's counter is behind, the node says
// "nonce too low", and the sender catches up and sends with the next free nonce.
TEST(EvmRpc, NonceResyncsAfterAnExternalTransaction) {
  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  const Address to = chain.key(1).address();
  auto first = chain.run(chain.sender().submit(transfer(to, 1)));
  ASSERT_TRUE(first);
  ASSERT_TRUE(chain.run(chain.sender().wait(*first)));

  TransactionSender external(chain.rpc(), chain.key(0), chain.chain_id());
  auto theirs = chain.run(external.submit(transfer(to, 2)));
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->nonce, 1u);
  ASSERT_TRUE(chain.run(external.wait(*theirs)));

  auto ours = chain.run(chain.sender().submit(transfer(to, 3)));
  ASSERT_TRUE(ours) << ours.error().to_string();
  EXPECT_EQ(ours->nonce, 2u);
  auto receipt = chain.run(chain.sender().wait(*ours));
  ASSERT_TRUE(receipt);
  EXPECT_TRUE(receipt->success);
}

TEST(EvmRpc, ReceiptWaitTimesOutWhenNothingIsMined) {
  AnvilOptions options;
  options.automine = false;
  Devnet chain(options);
  ASSERT_TRUE(chain.ok()) << chain.error();
  auto sent = chain.run(chain.sender().submit(transfer(chain.key(1).address(), 1)));
  ASSERT_TRUE(sent) << sent.error().to_string();
  WaitOptions wait;
  wait.timeout = std::chrono::milliseconds(300);
  wait.poll = std::chrono::milliseconds(20);
  auto receipt = chain.run(chain.sender().wait(*sent, wait));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed);
  EXPECT_NE(receipt.error().detail.find(to_hex(sent->hash)), std::string::npos) << receipt.error().detail;
}

// A transaction that stays unmined is sent again with higher fees; once a block is mined, the
// replacement is in it and the original is not.
TEST(EvmRpc, StuckTransactionIsReplacedAndTheReplacementMined) {
  AnvilOptions options;
  options.automine = false;
  Devnet chain(options);
  ASSERT_TRUE(chain.ok()) << chain.error();
  auto sent = chain.run(chain.sender().submit(transfer(chain.key(1).address(), 1)));
  ASSERT_TRUE(sent) << sent.error().to_string();
  // No block has been mined, so the fee quote is unchanged and the replacement is the bumped one.
  const Bytes32 replacement = chain::sign_transaction(with_bumped_fees(sent->tx), chain.key(0)).hash;
  ASSERT_NE(replacement, sent->hash);

  asio::io_context context;
  std::optional<Result<chain::Receipt>> receipt;
  WaitOptions wait;
  wait.replace_after = std::chrono::milliseconds(50);
  wait.poll = std::chrono::milliseconds(20);
  wait.timeout = std::chrono::seconds(60);  // a safety net; the miner below ends the wait
  asio::co_spawn(context, [&]() -> http::Awaitable<void> { receipt.emplace(co_await chain.sender().wait(*sent, wait)); },
                 asio::detached);
  // The miner: once the node holds the replacement, mine one block.
  asio::co_spawn(
      context,
      [&]() -> http::Awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        const std::string params = "[" + chain::quote(to_hex(replacement)) + "]";
        for (;;) {
          auto tx = co_await chain.rpc().raw("eth_getTransactionByHash", params);
          if (!tx) ADD_FAILURE() << tx.error().to_string();
          if (!tx || *tx != "null") break;
          timer.expires_after(std::chrono::milliseconds(10));
          co_await timer.async_wait(asio::use_awaitable);
        }
        auto mined = co_await chain.rpc().raw("evm_mine", "[]");
        if (!mined) ADD_FAILURE() << mined.error().to_string();
      },
      asio::detached);
  context.run();
  ASSERT_TRUE(receipt);
  ASSERT_TRUE(*receipt) << receipt->error().to_string();
  EXPECT_TRUE((*receipt)->success);
  EXPECT_EQ((*receipt)->transactionHash, replacement);
  auto original = chain.run(chain.rpc().receipt(sent->hash));
  ASSERT_TRUE(original);
  EXPECT_FALSE(original->has_value()) << "the original was replaced, never mined";
  EXPECT_EQ(*chain.run(chain.rpc().transaction_count(chain.key(0).address(), "latest")), 1u);
}

// Another process with the same key replaces our pending transaction: its nonce gets mined, ours
// never will, and the wait says so instead of running into its timeout.
TEST(EvmRpc, WaitReportsANonceTakenByAnotherTransaction) {
  AnvilOptions options;
  options.automine = false;
  Devnet chain(options);
  ASSERT_TRUE(chain.ok()) << chain.error();
  auto ours = chain.run(chain.sender().submit(transfer(chain.key(1).address(), 1)));
  ASSERT_TRUE(ours) << ours.error().to_string();
  TransactionSender external(chain.rpc(), chain.key(0), chain.chain_id());
  auto theirs = chain.run(external.replace(*ours));  // same nonce, higher fees, another hash
  ASSERT_TRUE(theirs) << theirs.error().to_string();
  ASSERT_TRUE(chain.run(chain.rpc().raw("evm_mine", "[]")));
  SentTransaction only_ours = *ours;  // the sender's wait knows only the original hash
  WaitOptions wait;
  wait.timeout = std::chrono::seconds(60);
  auto receipt = chain.run(chain.sender().wait(only_ours, wait));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed);
  EXPECT_NE(receipt.error().detail.find("another transaction"), std::string::npos) << receipt.error().detail;
  EXPECT_TRUE(chain.run(chain.rpc().receipt(theirs->hash))->has_value());
}

TEST(EvmRpc, RevertReasonsAndLogs) {
  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  auto probe = chain.run(deploy_contract(chain.sender(), probe_creation(7)));
  ASSERT_TRUE(probe) << probe.error().to_string();
  EXPECT_EQ(*probe, chain::create_address(chain.key(0).address(), 0));
  auto stored = chain.run(chain.rpc().call(*probe, chain::encode_call("stored()", {})));
  ASSERT_TRUE(stored);
  EXPECT_EQ(*chain::AbiReader(*stored).uint64(0), 7u);

  // eth_call, gas estimation and submission all surface the contract's reason.
  const Bytes refuse = chain::encode_call("refuse()", {});
  auto called = chain.run(chain.rpc().call(*probe, refuse));
  ASSERT_FALSE(called);
  EXPECT_EQ(called.error().code, ErrorCode::invalid_batch_settlement_evm_transaction_reverted);
  EXPECT_EQ(called.error().detail, "probe refuses");
  auto estimated = chain.run(chain.rpc().estimate_gas(chain.key(0).address(), *probe, refuse));
  ASSERT_FALSE(estimated);
  EXPECT_EQ(estimated.error().code, ErrorCode::invalid_batch_settlement_evm_transaction_reverted);
  auto submitted = chain.run(chain.sender().submit(call_to(*probe, refuse)));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().detail, "probe refuses");
  // Forced on chain with a fixed gas limit, the revert is a receipt with success = false.
  auto forced = chain.run(chain.sender().submit(call_to(*probe, refuse, 100'000)));
  ASSERT_TRUE(forced) << forced.error().to_string();
  auto reverted = chain.run(chain.sender().wait(*forced));
  ASSERT_TRUE(reverted);
  EXPECT_FALSE(reverted->success);

  // A log in the receipt, and the same log found by eth_getLogs with a topic filter.
  auto ping = chain.run(chain.sender().submit(
      call_to(*probe, chain::encode_call("ping(uint256)", {chain::AbiValue::uint(U256{42})}))));
  ASSERT_TRUE(ping) << ping.error().to_string();
  auto receipt = chain.run(chain.sender().wait(*ping));
  ASSERT_TRUE(receipt && receipt->success);
  const Bytes32 topic = keccak256(as_bytes("Ping(address,uint256)"));
  ASSERT_EQ(receipt->logs.size(), 1u);
  EXPECT_EQ(receipt->logs[0].topics.at(0), topic);
  LogFilter filter;
  filter.address = *probe;
  filter.topics = {topic, std::nullopt};
  auto logs = chain.run(chain.rpc().logs(filter));
  ASSERT_TRUE(logs) << logs.error().to_string();
  ASSERT_EQ(logs->size(), 1u);
  const chain::Log& log = logs->front();
  EXPECT_EQ(log.address, *probe);
  Bytes32 sender_topic{};
  std::copy(chain.key(0).address().bytes.begin(), chain.key(0).address().bytes.end(), sender_topic.begin() + 12);
  EXPECT_EQ(log.topics.at(1), sender_topic);
  EXPECT_EQ(*chain::AbiReader(log.data).uint64(0), 42u);
  EXPECT_EQ(log.blockNumber, receipt->blockNumber);
  EXPECT_EQ(log.transactionHash, ping->hash);
  filter.toBlock = receipt->blockNumber - 1;
  EXPECT_TRUE(chain.run(chain.rpc().logs(filter))->empty()) << "the block range is honoured";
}

// An account's code and a call to it in one batch: the call's revert is the call's, not the read's;
// an account without code has empty code and an empty answer.
TEST(EvmRpc, CodeAndCallAreReadTogether) {
  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  auto probe = chain.run(deploy_contract(chain.sender(), probe_creation(7)));
  ASSERT_TRUE(probe) << probe.error().to_string();
  auto stored = chain.run(chain.rpc().code_and_call(*probe, chain::encode_call("stored()", {})));
  ASSERT_TRUE(stored) << stored.error().to_string();
  EXPECT_EQ(stored->code, *chain.run(chain.rpc().code(*probe)));
  EXPECT_FALSE(stored->code.empty());
  ASSERT_TRUE(stored->call) << stored->call.error().to_string();
  EXPECT_EQ(*chain::AbiReader(*stored->call).uint64(0), 7u);

  auto refused = chain.run(chain.rpc().code_and_call(*probe, chain::encode_call("refuse()", {})));
  ASSERT_TRUE(refused) << refused.error().to_string();
  EXPECT_FALSE(refused->code.empty());
  ASSERT_FALSE(refused->call);
  EXPECT_EQ(refused->call.error().code, ErrorCode::invalid_batch_settlement_evm_transaction_reverted);
  EXPECT_EQ(refused->call.error().detail, "probe refuses");

  auto account = chain.run(chain.rpc().code_and_call(chain.key(1).address(), chain::encode_call("stored()", {})));
  ASSERT_TRUE(account) << account.error().to_string();
  EXPECT_TRUE(account->code.empty());
  ASSERT_TRUE(account->call);
  EXPECT_TRUE(account->call->empty());
}

// Runtime code copied to the canonical settlement address runs there (its own address in logs);
// storage is not copied, so the constructor's value is absent.
TEST(EvmRpc, CodeCopiedToACanonicalAddressRuns) {
  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  auto probe = chain.run(deploy_contract(chain.sender(), probe_creation(7)));
  ASSERT_TRUE(probe) << probe.error().to_string();
  auto copied = chain.run(copy_code(chain.rpc(), *probe, kBatchSettlementAddress));
  ASSERT_TRUE(copied) << copied.error().to_string();
  EXPECT_EQ(*chain.run(chain.rpc().code(kBatchSettlementAddress)), *chain.run(chain.rpc().code(*probe)));
  auto stored = chain.run(chain.rpc().call(kBatchSettlementAddress, chain::encode_call("stored()", {})));
  ASSERT_TRUE(stored);
  EXPECT_EQ(*chain::AbiReader(*stored).uint64(0), 0u);
  auto ping = chain.run(chain.sender().submit(
      call_to(kBatchSettlementAddress, chain::encode_call("ping(uint256)", {chain::AbiValue::uint(U256{5})}))));
  ASSERT_TRUE(ping) << ping.error().to_string();
  auto receipt = chain.run(chain.sender().wait(*ping));
  ASSERT_TRUE(receipt && receipt->success);
  ASSERT_EQ(receipt->logs.size(), 1u);
  EXPECT_EQ(receipt->logs[0].address, kBatchSettlementAddress);

  auto nothing = chain.run(copy_code(chain.rpc(), chain.key(3).address(), kErc3009CollectorAddress));
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error().code, ErrorCode::invalid_config) << "an account without code is refused";
}

}  // namespace
}  // namespace paychan::engine::evm
