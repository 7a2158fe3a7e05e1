// Helpers for the agent's chain tests (withdrawal, recovery) on a real anvil with paychan's
// contracts at the canonical addresses: the deposit an agent signed, sent on chain through the
// ERC-3009 collector as a facilitator would send it; the provider's claim; token balances.
#pragma once

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "devnet_fixture.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/client/payloads.hpp"
#include "gate_support.hpp"

namespace paychan::engine::client::test {

// Skips a test on a machine without anvil or the contracts' artifacts; otherwise the fixture `f`
// (with its Devnet `chain`) must have set itself up.
#define SKIP_WITHOUT_CHAIN(f)                                                                         \
  if (!(f).chain.ok()) GTEST_SKIP() << "no anvil: " << (f).chain.error();                             \
  if (!Devnet::have_artifacts()) GTEST_SKIP() << "no contracts artifacts (build the contracts target)"; \
  ASSERT_TRUE((f).ready())

using evm::test::Devnet;

// The offer a provider on `chain` makes: price per request in the deployment's TestUSDC.
inline protocol::PaymentRequirements chain_offer(const evm::Deployment& d, const Address& receiver,
                                                 const Address& receiverAuthorizer, std::uint64_t withdrawDelay,
                                                 Uint128 price) {
  protocol::PaymentRequirements r;
  r.scheme = "batch-settlement";
  r.network = "eip155:" + std::to_string(d.chainId);
  r.amount = to_decimal(price);
  r.asset = to_hex(d.token.bytes);
  r.payTo = to_hex(receiver.bytes);
  r.maxTimeoutSeconds = 300;
  protocol::BatchSettlementExtra extra;
  extra.receiverAuthorizer = receiverAuthorizer;
  extra.withdrawDelay = withdrawDelay;
  extra.name = d.tokenName;
  extra.version = d.tokenVersion;
  r.extra = protocol::make_extra(extra);
  return r;
}

// The test gate's terms (gate_support.hpp) in `d`'s test token on its chain, paying `payTo`.
inline gate::GateConfig test_config_on(const evm::Deployment& d, const Address& payTo) {
  gate::GateConfig c = gate::test::test_config();
  c.network = protocol::evm_network(d.chainId);
  c.chainId = d.chainId;
  c.asset = d.token;
  c.assetName = d.tokenName;
  c.assetVersion = d.tokenVersion;
  c.payTo = payTo;
  return c;
}

// Sends `tx` to `to` from dev account 0 and waits; the receipt must say success.
inline ::testing::AssertionResult send_from_dev0(Devnet& chain, const Address& to, Bytes data) {
  evm::TxRequest tx;
  tx.to = to;
  tx.data = std::move(data);
  auto sent = chain.run(chain.sender().submit(std::move(tx)));
  if (!sent) return ::testing::AssertionFailure() << "submit: " << sent.error().to_string();
  auto receipt = chain.run(chain.sender().wait(*sent));
  if (!receipt) return ::testing::AssertionFailure() << "wait: " << receipt.error().to_string();
  if (!receipt->success) return ::testing::AssertionFailure() << "reverted";
  return ::testing::AssertionSuccess();
}

// deposit(config, amount, collector, erc3009 data) with the agent's signed authorization, sent by
// dev account 0 (anyone may: the authorization is what moves the payer's tokens).
inline ::testing::AssertionResult deposit_on_chain(Devnet& chain, const protocol::DepositPayload& d) {
  const auto& auth = *d.deposit.erc3009Authorization;
  const Bytes data = chain::erc3009_collector_data(auth.validAfter, auth.validBefore, auth.salt, auth.signature.bytes());
  return send_from_dev0(chain, kBatchSettlementAddress,
                        chain::deposit_call(d.channelConfig, d.deposit.amount, kErc3009CollectorAddress, data));
}

// claim([{voucher, signature, totalClaimed}]) sent by `receiver` (the channel's receiver or
// receiverAuthorizer), funded with gas first.
inline ::testing::AssertionResult claim_on_chain(Devnet& chain, const PrivateKey& receiver, const ChannelConfig& config,
                                                 const SignedVoucher& voucher, Uint128 totalClaimed) {
  auto funded = chain.run(chain.rpc().raw("anvil_setBalance", "[\"" + to_hex(receiver.address().bytes) +
                                                                  "\",\"0x3635C9ADC5DEA00000\"]"));
  if (!funded) return ::testing::AssertionFailure() << funded.error().to_string();
  const chain::VoucherClaim row{config, voucher.voucher.maxClaimableAmount, voucher.signature, totalClaimed};
  evm::TransactionSender sender(chain.rpc(), receiver, chain.chain_id());
  evm::TxRequest tx;
  tx.to = kBatchSettlementAddress;
  tx.data = chain::claim_call(std::span{&row, 1});
  auto sent = chain.run(sender.submit(std::move(tx)));
  if (!sent) return ::testing::AssertionFailure() << "claim: " << sent.error().to_string();
  auto receipt = chain.run(sender.wait(*sent));
  if (!receipt || !receipt->success) return ::testing::AssertionFailure() << "claim not mined";
  return ::testing::AssertionSuccess();
}

inline Uint128 token_balance(Devnet& chain, const Address& token, const Address& owner) {
  auto reply = chain.run(chain.rpc().call(token, chain::erc20_balance_of_call(owner)));
  EXPECT_TRUE(reply) << reply.error().to_string();
  if (!reply) return 0;
  auto v = chain::decode_uint256(*reply);
  EXPECT_TRUE(v);
  return v ? v->to_uint128().value_or(0) : 0;
}

// Moves the chain's clock `seconds` ahead and mines a block at the new time.
inline ::testing::AssertionResult advance_time(Devnet& chain, std::uint64_t seconds) {
  auto moved = chain.run(chain.rpc().raw("evm_increaseTime", "[" + std::to_string(seconds) + "]"));
  if (!moved) return ::testing::AssertionFailure() << moved.error().to_string();
  auto mined = chain.run(chain.rpc().raw("evm_mine", "[]"));
  if (!mined) return ::testing::AssertionFailure() << mined.error().to_string();
  return ::testing::AssertionSuccess();
}

// A gate's facilitator for chain tests while our facilitator is not on this branch: the in-memory
// double answers, and every deposit it settles is also sent on chain — the agent's own ERC-3009
// authorization through the collector — so the chain holds exactly what the agent paid in.
// (Claims, refunds and the double's view of them stay in memory.)
class ChainMirror final : public gate::Facilitator {
 public:
  explicit ChainMirror(Devnet& chain) : chain_(chain) {}
  gate::test::FacilitatorDouble* inner = nullptr;
  std::atomic<int> deposits{0};

  http::Awaitable<Result<protocol::VerifyResponse>> verify(const protocol::FacilitatorRequest& request) override {
    co_return co_await inner->verify(request);
  }
  http::Awaitable<Result<protocol::SettlementResponse>> settle(const protocol::FacilitatorRequest& request) override {
    const auto* batch = protocol::batch_payload(request.paymentPayload);
    if (const auto* d = batch ? std::get_if<protocol::DepositPayload>(batch) : nullptr) {
      const auto& auth = *d->deposit.erc3009Authorization;
      evm::TxRequest tx;
      tx.to = kBatchSettlementAddress;
      tx.data = chain::deposit_call(d->channelConfig, d->deposit.amount, kErc3009CollectorAddress,
                                    chain::erc3009_collector_data(auth.validAfter, auth.validBefore, auth.salt, auth.signature.bytes()));
      auto sent = co_await chain_.sender().submit(std::move(tx));
      if (!sent) co_return sent.failure();
      auto receipt = co_await chain_.sender().wait(*sent);
      if (!receipt) co_return receipt.failure();
      if (!receipt->success) co_return fail(ErrorCode::invalid_batch_settlement_evm_deposit_transaction_failed, "reverted");
      ++deposits;
    }
    co_return co_await inner->settle(request);
  }

 private:
  Devnet& chain_;
};

}  // namespace paychan::engine::client::test
