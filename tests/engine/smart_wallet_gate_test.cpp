// Payers that are smart-contract wallets, on a real chain: contracts/src/TestSmartWallet.sol's
// wallets sign with 265 bytes (the owner's ECDSA signature over the digest and a context, as a
// passkey wallet does), which only the wallet's isValidSignature (EIP-1271) accepts. The gate,
// its store, paychan's facilitator, the settle job and the contract must carry those bytes
// unchanged from the payload to the claim.
#include "child_process.hpp"
#include "facilitator_gate_fixture.hpp"
#include "gate_stack.hpp"
#include "smart_wallet_support.hpp"

namespace paychan::engine::facilitator::test {
namespace {

using evm::test::SmartWallets;
using evm::test::erc6492_wrapped;
using evm::test::smart_wallet_signature;

class SmartWalletGateTest : public FacilitatorGateTest {
 protected:
  void SetUp() override {
    FacilitatorGateTest::SetUp();
    if (IsSkipped()) return;
    wallets_.emplace(*devnet_);
    // The facilitator may deploy wallets through this factory (ERC-6492).
    facilitator_ = make_facilitator(with_factory_allowed());
    ASSERT_NO_FATAL_FAILURE(open_gate());
  }

  [[nodiscard]] const gate::Offer& offer() const { return offers_->offers().at(0); }

  // An agent whose payer is `owner`'s wallet under `salt`: deployed, and funded with 100 prices.
  gate::test::TestAgent wallet_agent(const PrivateKey& owner, std::uint8_t salt, const Address& payerAuthorizer) {
    gate::test::TestAgent agent(owner, config_, salt);
    const Address wallet = wallets_->deploy(owner.address(), agent.config.salt);
    mint(wallet, 100 * kPrice);
    agent.pay_from_wallet(wallet, [owner](const Bytes32& digest) { return smart_wallet_signature(owner, digest); },
                          payerAuthorizer);
    return agent;
  }

  // The payload served and charged `kPrice`; the answer.
  protocol::SettlementResponse pay(const std::string& header) {
    return accepted(run(gate_->settle(accepted(run(gate_->authorize(offer(), header))), kPrice)));
  }

  // `signer`'s wallet signatures, wrapped with `factory`'s call `factoryCalldata` (ERC-6492).
  static std::function<WalletSignature(const Bytes32&)> wrapped(const Address& factory, Bytes factoryCalldata,
                                                                const PrivateKey& signer) {
    return [factory, call = std::move(factoryCalldata), signer](const Bytes32& digest) {
      return erc6492_wrapped(factory, call, smart_wallet_signature(signer, digest));
    };
  }

  // `owner`'s signatures, wrapped with `wallets`' deployment of its wallet under `salt`.
  static std::function<WalletSignature(const Bytes32&)> wrapped_by(const SmartWallets& wallets, const PrivateKey& owner,
                                                                   const Bytes32& salt) {
    return wrapped(wallets.factory(), SmartWallets::create_call(owner.address(), salt), owner);
  }

  // The gate again, in front of a facilitator configured with `network`.
  void use_facilitator(const NetworkOptions& network) {
    gate_.reset();  // it holds the facilitator replaced here
    facilitator_ = make_facilitator(network);
    ASSERT_NO_FATAL_FAILURE(restart_gate(nullptr));
  }

  // An agent whose payer is `owner`'s wallet under `salt` from `wallets`, not deployed yet but
  // funded with 100 prices, its signatures wrapped with the wallet's deployment; its session key
  // (the payerAuthorizer) is `owner`.
  gate::test::TestAgent counterfactual_agent(SmartWallets& wallets, const PrivateKey& owner, std::uint8_t salt) {
    gate::test::TestAgent agent(owner, config_, salt);
    const Address wallet = wallets.address_of(owner.address(), agent.config.salt);
    mint(wallet, 100 * kPrice);
    agent.pay_from_wallet(wallet, wrapped_by(wallets, owner, agent.config.salt), owner.address());
    return agent;
  }

  [[nodiscard]] NetworkOptions with_factory_allowed() const {
    NetworkOptions network = network_options();
    network.eip6492AllowedFactories = {wallets_->factory()};
    return network;
  }

  // The refusal of `agent`'s first deposit.
  std::optional<Refusal> deposit_refusal(const gate::test::TestAgent& agent) {
    return refusal_of(run(gate_->authorize(offer(), agent.deposit_header(offer().requirements, kPrice, 50 * kPrice))));
  }

  // The calls of `transaction`, an aggregate3 the facilitator sent to Multicall3: each call's
  // target and whether it was allowed to fail (empty, with a test failure, if it is no such call).
  std::vector<std::pair<Address, bool>> aggregate3_calls(const std::string& transaction) {
    auto sent = devnet_->run(devnet_->rpc().raw("eth_getTransactionByHash", "[\"" + transaction + "\"]"));
    EXPECT_TRUE(sent) << sent.error().to_string();
    if (!sent) return {};
    EXPECT_NE(sent->find("\"to\":\"" + to_hex(chain::kMulticall3Address.bytes) + "\""), std::string::npos) << *sent;
    const auto input_at = sent->find("\"input\":\"");
    const auto input_end = input_at == std::string::npos ? input_at : sent->find('"', input_at + 9);
    EXPECT_NE(input_end, std::string::npos) << *sent;
    if (input_end == std::string::npos) return {};
    const auto input = bytes_from_hex(std::string_view(*sent).substr(input_at + 9, input_end - input_at - 9));
    EXPECT_TRUE(input && input->size() > 4) << *sent;
    if (!input || input->size() <= 4) return {};
    const auto list = chain::AbiReader{ByteView(*input).subspan(4)}.tail(0);
    EXPECT_TRUE(list && list->uint64(0)) << *sent;
    if (!list || !list->uint64(0)) return {};
    std::vector<std::pair<Address, bool>> calls;
    for (std::uint64_t i = 0; i < *list->uint64(0); ++i) {
      const auto call = list->from_word(1)->tail(i);
      EXPECT_TRUE(call) << *sent;
      if (!call) return {};
      calls.emplace_back(*call->address(0), *call->boolean(1));
    }
    return calls;
  }

  [[nodiscard]] bool has_code(const Address& account) {
    auto code = devnet_->run(devnet_->rpc().code(account));
    EXPECT_TRUE(code) << code.error().to_string();
    return code && !code->empty();
  }

  std::optional<SmartWallets> wallets_;
};

// payerAuthorizer zero: the wallet signs the deposit's authorization and every voucher. The
// facilitator checks each through the wallet, the token takes the deposit's on chain, the store
// keeps the last voucher's 265 bytes across a restart, a corrective 402 hands them back, and the
// settle job's claim passes the contract's own check of them.
TEST_F(SmartWalletGateTest, AWalletsLongSignaturesAreCheckedOnChainKeptAndClaimed) {
  const gate::test::TestAgent agent = wallet_agent(key_from(0x61), 97, Address{});
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(agent.voucher(kPrice).signature.bytes().size(), 265u);

  const auto deposit = pay(agent.deposit_header(offer().requirements, kPrice, 50 * kPrice));
  EXPECT_TRUE(deposit.success);
  EXPECT_EQ(onchain(agent.id).balance, 50 * kPrice);
  const auto asked_before = metrics_.facilitator_verifications.load();
  (void)pay(agent.voucher_header(offer().requirements, 2 * kPrice));
  (void)pay(agent.voucher_header(offer().requirements, 3 * kPrice));
  EXPECT_EQ(metrics_.facilitator_verifications.load(), asked_before + 2) << "each voucher checked through the chain";
  EXPECT_EQ((*store_->get(agent.id))->signature, agent.voucher(3 * kPrice).signature);

  // One byte of the context changed: the wallet refuses it, nothing is charged.
  SignedVoucher altered = agent.voucher(4 * kPrice);
  Bytes bytes(altered.signature.bytes().begin(), altered.signature.bytes().end());
  bytes.back() ^= 1;
  altered.signature = *WalletSignature::from_bytes(bytes);
  const auto forged = refusal_of(run(gate_->authorize(offer(), gate::test::encode_payment(offer().requirements,
                                                                       protocol::VoucherPayload{agent.config, altered}))));
  ASSERT_TRUE(forged.has_value());
  EXPECT_EQ(forged->error.code, ErrorCode::invalid_batch_settlement_evm_voucher_signature);

  ASSERT_NO_FATAL_FAILURE(restart_gate(nullptr));
  EXPECT_EQ((*store_->get(agent.id))->signature, agent.voucher(3 * kPrice).signature);
  const auto stale = refusal_of(run(gate_->authorize(offer(), agent.voucher_header(offer().requirements, 2 * kPrice))));
  ASSERT_TRUE(stale && stale->corrective) << "a replayed voucher gets the channel's state";
  EXPECT_EQ(stale->error.code, ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch);
  EXPECT_EQ(stale->corrective->signature, agent.voucher(3 * kPrice).signature);

  const auto summary = settle(config_, *store_, 100);
  EXPECT_TRUE(summary.ok()) << summary.sweepError;
  EXPECT_EQ(onchain(agent.id).totalClaimed, 3 * kPrice);
}

// The reference client's way with a smart wallet: the wallet signs the deposit, a session key
// (the payerAuthorizer, an EOA) the vouchers, which the gate then checks itself.
TEST_F(SmartWalletGateTest, AWalletsDepositWithASessionKeysVouchersIsServedLocally) {
  const PrivateKey owner = key_from(0x62);
  const gate::test::TestAgent agent = wallet_agent(owner, 98, owner.address());
  ASSERT_FALSE(HasFailure());

  (void)pay(agent.deposit_header(offer().requirements, kPrice, 50 * kPrice));
  EXPECT_EQ(onchain(agent.id).balance, 50 * kPrice);
  const auto asked_before = metrics_.facilitator_verifications.load();
  (void)pay(agent.voucher_header(offer().requirements, 2 * kPrice));
  EXPECT_EQ(metrics_.facilitator_verifications.load(), asked_before) << "an EOA's voucher is checked locally";

  // A wallet's signature where the payerAuthorizer's is due: the contract would not take it.
  SignedVoucher misplaced = agent.voucher(3 * kPrice);
  misplaced.signature = smart_wallet_signature(owner, voucher_digest(batch_settlement_domain_separator(config_.chainId),
                                                                     misplaced.voucher));
  const auto refused = refusal_of(run(gate_->authorize(
      offer(), gate::test::encode_payment(offer().requirements, protocol::VoucherPayload{agent.config, misplaced}))));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 402);
  EXPECT_EQ(refused->error.code, ErrorCode::invalid_batch_settlement_evm_voucher_signature);

  const auto summary = settle(config_, *store_, 100);
  EXPECT_TRUE(summary.ok()) << summary.sweepError;
  EXPECT_EQ(onchain(agent.id).totalClaimed, 2 * kPrice);
}

// ERC-6492: a wallet's SDK wraps its signatures with its factory's deployment call until the wallet
// is deployed. For a deployed wallet the facilitator unwraps the deposit's authorization (the token
// takes the inner signature); for one not deployed whose factory the network does not list, it
// refuses, deploying nothing (the reference's default); an envelope with no factory is its inner
// signature.
TEST_F(SmartWalletGateTest, AnErc6492DepositIsUnwrappedForADeployedWalletAndRefusedForAnUnlistedFactory) {
  const PrivateKey owner = key_from(0x63);
  gate::test::TestAgent deployed = wallet_agent(owner, 99, owner.address());
  ASSERT_FALSE(HasFailure());
  deployed.pay_from_wallet(deployed.config.payer, wrapped_by(*wallets_, owner, deployed.config.salt), owner.address());
  const auto deposit = pay(deployed.deposit_header(offer().requirements, kPrice, 50 * kPrice));
  EXPECT_TRUE(deposit.success);
  EXPECT_EQ(onchain(deployed.id).balance, 50 * kPrice);

  SmartWallets unlisted(*devnet_);
  const gate::test::TestAgent undeployed = counterfactual_agent(unlisted, owner, 100);
  const auto refused = deposit_refusal(undeployed);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->error.code, ErrorCode::invalid_batch_settlement_evm_eip6492_factory_not_allowed);
  EXPECT_NE(refused->error.detail.find(to_checksum_hex(unlisted.factory())), std::string::npos) << refused->error.detail;
  EXPECT_EQ(onchain(undeployed.id).balance, 0u);
  EXPECT_FALSE(has_code(undeployed.config.payer));

  // An envelope naming no factory carries no deployment (as the reference reads it): the inner
  // signature stands, here a funded EOA payer's own.
  const PrivateKey eoa = key_from(3);
  gate::test::TestAgent plain = agent(config_, 3, 101);
  plain.pay_from_wallet(
      plain.config.payer,
      [eoa](const Bytes32& digest) { return erc6492_wrapped(Address{}, Bytes{}, WalletSignature{eoa.sign(digest)}); },
      eoa.address());
  EXPECT_TRUE(pay(plain.deposit_header(offer().requirements, kPrice, 50 * kPrice)).success);
  EXPECT_EQ(onchain(plain.id).balance, 50 * kPrice);
}

// A wallet not deployed yet whose factory the network lists: the facilitator simulates the
// factory call and the deposit together, then makes both in one transaction (Multicall3), so the
// wallet exists from its first deposit on. Its session key's vouchers are then served locally and
// claimed, and its next deposit, still wrapped, is unwrapped for the deployed wallet.
TEST_F(SmartWalletGateTest, AnUndeployedWalletIsDeployedWithItsFirstDepositThroughAListedFactory) {
  const PrivateKey owner = key_from(0x64);
  const gate::test::TestAgent agent = counterfactual_agent(*wallets_, owner, 102);
  ASSERT_FALSE(has_code(agent.config.payer));

  const auto deposit = pay(agent.deposit_header(offer().requirements, kPrice, 50 * kPrice));
  EXPECT_TRUE(deposit.success) << deposit.errorReason.value_or("");
  EXPECT_TRUE(has_code(agent.config.payer));
  // One transaction made both: the facilitator's, to Multicall3,
  // aggregate3([factory call, allowed to fail], [deposit, not allowed to fail]).
  EXPECT_EQ(aggregate3_calls(deposit.transaction),
            (std::vector<std::pair<Address, bool>>{{wallets_->factory(), true}, {deployment_->settlement, false}}));
  EXPECT_EQ(onchain(agent.id).balance, 50 * kPrice);
  const auto asked_before = metrics_.facilitator_verifications.load();
  (void)pay(agent.voucher_header(offer().requirements, 2 * kPrice));
  EXPECT_EQ(metrics_.facilitator_verifications.load(), asked_before) << "the session key's voucher is checked locally";
  (void)pay(agent.deposit_header(offer().requirements, 3 * kPrice, 20 * kPrice));
  EXPECT_EQ(onchain(agent.id).balance, 70 * kPrice);

  const auto summary = settle(config_, *store_, 100);
  EXPECT_TRUE(summary.ok()) << summary.sweepError;
  EXPECT_EQ(onchain(agent.id).totalClaimed, 3 * kPrice);
}

// Two first deposits from one wallet not deployed yet, into two channels, verified before either
// is mined: each transaction deploys the wallet with its deposit. Mined in one block, the second's
// factory call fails (this factory reverts for a wallet that exists), which aggregate3 allows, and
// its deposit lands on the wallet the first deployed.
TEST_F(SmartWalletGateTest, TwoFirstDepositsFromOneUndeployedWalletInOneBlockBothLand) {
  const PrivateKey owner = key_from(0x67);
  gate::test::TestAgent first(owner, config_, 105), second(owner, config_, 106);
  const Bytes32 wallet_salt = first.config.salt;
  const Address wallet = wallets_->address_of(owner.address(), wallet_salt);
  mint(wallet, 100 * kPrice);
  for (gate::test::TestAgent* agent : {&first, &second})
    agent->pay_from_wallet(wallet, wrapped(wallets_->factory(), SmartWallets::create_once_call(owner.address(), wallet_salt), owner),
                           owner.address());
  ASSERT_FALSE(has_code(wallet));

  const auto restored = chain_restored_at_exit();
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[false]")));
  http::asio::io_context context;
  std::optional<gate::Decision<protocol::SettlementResponse>> answers[2];
  const gate::test::TestAgent* agents[2] = {&first, &second};
  for (int i = 0; i < 2; ++i)
    http::asio::co_spawn(
        context,
        [&, i]() -> http::Awaitable<void> {
          auto decision = co_await gate_->authorize(offer(), agents[i]->deposit_header(offer().requirements, kPrice, 20 * kPrice));
          if (auto* refused = std::get_if<Refusal>(&decision)) {
            answers[i].emplace(std::move(*refused));
            co_return;
          }
          answers[i].emplace(co_await gate_->settle(std::get<gate::Authorization>(std::move(decision)), kPrice));
        },
        http::asio::detached);
  std::thread deposits([&] { context.run(); });
  // Both sent (each verified on a chain without the wallet), then mined together.
  std::string pool;
  for (int tries = 0; tries < 600 && pool.find("\"pending\":\"0x2\"") == std::string::npos; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto status = run(devnet_->rpc().raw("txpool_status", "[]"));
    pool = status ? *status : status.error().to_string();
  }
  EXPECT_NE(pool.find("\"pending\":\"0x2\""), std::string::npos) << pool;
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_mine", "[]")));
  deposits.join();

  std::uint64_t blocks[2] = {};
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i == 0 ? "first" : "second");
    ASSERT_TRUE(answers[i].has_value());
    auto* served = std::get_if<protocol::SettlementResponse>(&*answers[i]);
    ASSERT_TRUE(served) << std::get<Refusal>(*answers[i]).error.to_string();
    EXPECT_EQ(aggregate3_calls(served->transaction),
              (std::vector<std::pair<Address, bool>>{{wallets_->factory(), true}, {deployment_->settlement, false}}))
        << "verified before the wallet existed, the deposit deploys it";
    auto receipt = run(devnet_->rpc().receipt(*fixed_from_hex<32>(served->transaction)));
    ASSERT_TRUE(receipt && *receipt) << "mined";
    EXPECT_TRUE((*receipt)->success);
    blocks[i] = (*receipt)->blockNumber;
    EXPECT_EQ(onchain(agents[i]->id).balance, 20 * kPrice);
  }
  EXPECT_EQ(blocks[0], blocks[1]) << "one block: the second's factory call ran on the wallet the first deployed";
  EXPECT_TRUE(has_code(wallet));
  const auto again = run(devnet_->rpc().call(wallets_->factory(), SmartWallets::create_once_call(owner.address(), wallet_salt)));
  EXPECT_FALSE(again) << "the factory deploys a wallet once; its second call failed and was allowed to";
}

// What fails in the simulation is refused at verification, before any transaction (/settle
// verifies the same way before it sends): a factory call that reverts
// (smart_wallet_deployment_failed); a wallet that would not accept the deposit's signature
// (another owner's); an EOA payer naming an allowed factory, which would have the facilitator pay
// for deploying someone else's wallet (receive_authorization_signature, both); a chain without
// Multicall3 (deposit_simulation_failed).
TEST_F(SmartWalletGateTest, AnUndeployedWalletsFailedSimulationDeploysNothing) {
  const PrivateKey owner = key_from(0x65);
  gate::test::TestAgent broken = counterfactual_agent(*wallets_, owner, 103);
  const Bytes garbage = {0xde, 0xad, 0xbe, 0xef};  // no such function: the factory reverts
  broken.pay_from_wallet(broken.config.payer, wrapped(wallets_->factory(), garbage, owner), owner.address());
  const auto no_wallet = deposit_refusal(broken);
  ASSERT_TRUE(no_wallet.has_value());
  EXPECT_EQ(no_wallet->error.code, ErrorCode::invalid_batch_settlement_evm_smart_wallet_deployment_failed)
      << no_wallet->error.to_string();

  gate::test::TestAgent impostor = counterfactual_agent(*wallets_, owner, 104);
  const PrivateKey other = key_from(0x66);
  impostor.pay_from_wallet(impostor.config.payer,
                           wrapped(wallets_->factory(), SmartWallets::create_call(owner.address(), impostor.config.salt),
                                   other),
                           owner.address());
  const auto unauthorized = deposit_refusal(impostor);
  ASSERT_TRUE(unauthorized.has_value());
  EXPECT_EQ(unauthorized->error.code, ErrorCode::invalid_batch_settlement_evm_receive_authorization_signature)
      << unauthorized->error.to_string();
  EXPECT_FALSE(has_code(impostor.config.payer));
  EXPECT_EQ(onchain(impostor.id).balance, 0u);

  // An EOA's valid signature, wrapped with the deployment of another's wallet: the token would
  // take the signature, but the wallet deployed is not the payer.
  const PrivateKey eoa = key_from(3);
  gate::test::TestAgent freeloader = agent(config_, 3, 105);
  Bytes32 salt{};
  salt[31] = 0x67;
  const Bytes someone_elses = SmartWallets::create_call(other.address(), salt);
  freeloader.pay_from_wallet(
      freeloader.config.payer,
      [eoa, factory = wallets_->factory(), someone_elses](const Bytes32& digest) {
        return erc6492_wrapped(factory, someone_elses, WalletSignature{eoa.sign(digest)});
      },
      eoa.address());
  const auto freeloading = deposit_refusal(freeloader);
  ASSERT_TRUE(freeloading.has_value());
  EXPECT_EQ(freeloading->error.code, ErrorCode::invalid_batch_settlement_evm_receive_authorization_signature)
      << freeloading->error.to_string();
  EXPECT_NE(freeloading->error.detail.find("after the factory's call"), std::string::npos) << freeloading->error.detail;
  EXPECT_FALSE(has_code(wallets_->address_of(other.address(), salt)));

  // A chain without Multicall3 where the facilitator looks for it.
  NetworkOptions no_multicall = with_factory_allowed();
  no_multicall.multicall3 = key_from(0x68).address();
  ASSERT_NO_FATAL_FAILURE(use_facilitator(no_multicall));
  const gate::test::TestAgent stranded = counterfactual_agent(*wallets_, owner, 106);
  const auto nowhere = deposit_refusal(stranded);
  ASSERT_TRUE(nowhere.has_value());
  EXPECT_EQ(nowhere->error.code, ErrorCode::invalid_batch_settlement_evm_deposit_simulation_failed);
  EXPECT_NE(nowhere->error.detail.find("no Multicall3"), std::string::npos) << nowhere->error.detail;
  EXPECT_FALSE(has_code(stranded.config.payer));
}

// The factory's calldata is the payer's to choose and its gas the facilitator's to pay: a
// deployment whose estimate with its deposit passes 1 M gas is refused, and the simulation itself
// stops at 2 M (the factory's call fails there). Here the "factory" is Multicall3, also allowed,
// running a gas burner before the real factory.
TEST_F(SmartWalletGateTest, ADeploymentOverTheGasLimitIsRefused) {
  NetworkOptions network = with_factory_allowed();
  network.eip6492AllowedFactories.push_back(chain::kMulticall3Address);
  ASSERT_NO_FATAL_FAILURE(use_facilitator(network));

  // Runtime code that counts `turns` down (26 gas a turn), behind init code returning it.
  const auto burner = [&](std::uint32_t turns) {
    const Bytes code = {0x60, 0x0e, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x0e, 0x60, 0x00, 0xf3,  // init
                        0x62, static_cast<std::uint8_t>(turns >> 16), static_cast<std::uint8_t>(turns >> 8),
                        static_cast<std::uint8_t>(turns), 0x5b, 0x60, 0x01, 0x90, 0x03, 0x80, 0x60, 0x04, 0x57, 0x00};
    auto deployed = devnet_->run(evm::deploy_contract(devnet_->sender(), code));
    EXPECT_TRUE(deployed) << deployed.error().to_string();
    return deployed ? *deployed : Address{};
  };
  const PrivateKey owner = key_from(0x6a);
  const auto refusal_with_burner = [&](const Address& burn, std::uint8_t salt) {
    gate::test::TestAgent agent = counterfactual_agent(*wallets_, owner, salt);
    const chain::Call3 heavy[] = {
        {burn, false, Bytes{}},
        {wallets_->factory(), false, SmartWallets::create_call(owner.address(), agent.config.salt)}};
    agent.pay_from_wallet(agent.config.payer, wrapped(chain::kMulticall3Address, chain::aggregate3_call(heavy), owner),
                          owner.address());
    auto refused = deposit_refusal(agent);
    EXPECT_FALSE(has_code(agent.config.payer));
    return refused;
  };

  const auto heavy = refusal_with_burner(burner(45'000), 108);  // 1.2 M gas: simulated, then over the limit
  ASSERT_TRUE(heavy.has_value());
  EXPECT_EQ(heavy->error.code, ErrorCode::invalid_batch_settlement_evm_smart_wallet_deployment_failed);
  EXPECT_NE(heavy->error.detail.find("more than this facilitator pays for (1000000)"), std::string::npos)
      << heavy->error.detail;

  const auto heavier = refusal_with_burner(burner(100'000), 109);  // 2.6 M gas: past the simulation's bound
  ASSERT_TRUE(heavier.has_value());
  EXPECT_EQ(heavier->error.code, ErrorCode::invalid_batch_settlement_evm_smart_wallet_deployment_failed);
  EXPECT_NE(heavier->error.detail.find("the factory's call reverted"), std::string::npos) << heavier->error.detail;
}

// A wallet not deployed yet cannot sign its own vouchers (EIP-1271 needs the wallet): a channel
// whose payerAuthorizer is zero is refused, saying it needs a session key, as the reference
// refuses it too.
TEST_F(SmartWalletGateTest, AnUndeployedWalletNeedsASessionKeyForItsVouchers) {
  const PrivateKey owner = key_from(0x69);
  gate::test::TestAgent agent = counterfactual_agent(*wallets_, owner, 107);
  agent.pay_from_wallet(agent.config.payer, wrapped_by(*wallets_, owner, agent.config.salt), Address{});
  const auto refused = deposit_refusal(agent);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->error.code, ErrorCode::invalid_batch_settlement_evm_voucher_signature);
  EXPECT_NE(refused->error.detail.find("session key"), std::string::npos) << refused->error.detail;
  EXPECT_FALSE(has_code(agent.config.payer));
}

#if defined(PAYCHAN_NODE) && defined(PAYCHAN_SOURCE_DIR)
// Wire compatibility with a smart wallet: the reference client (@x402/fetch, @x402/evm), its signer
// a TestSmartWallet (tests/interop/stock_wallet_pays.mjs), pays a paychan gate over HTTP whose
// facilitator is paychan's on the chain; the settle job then claims what it paid. Once with the
// wallet signing the vouchers too (payerAuthorizer zero), once with a session key signing them,
// and once so from a wallet not deployed yet, whose first deposit deploys it (ERC-6492).
TEST_F(SmartWalletGateTest, AStockClientPaysFromAWallet) {
  struct Mode {
    const char* name;
    std::uint8_t seed;
    std::size_t voucherSignatureBytes;
  };
  for (const Mode mode : {Mode{"wallet", 0x64, 265}, Mode{"session", 0x65, 65}, Mode{"counterfactual", 0x66, 65}}) {
    SCOPED_TRACE(mode.name);
    const PrivateKey owner = key_from(mode.seed);
    Bytes32 salt{};
    salt[31] = mode.seed;
    // Counterfactual: the wallet is deployed by the facilitator, with the client's first deposit.
    const bool counterfactual = std::string_view(mode.name) == "counterfactual";
    const Address wallet = counterfactual ? wallets_->address_of(owner.address(), salt) : wallets_->deploy(owner.address(), salt);
    mint(wallet, 1'000 * kPrice);
    gate::test::GateStack stack(config_, facilitator_.get());
    std::vector<std::string> command{PAYCHAN_NODE, std::string(PAYCHAN_SOURCE_DIR) + "/tests/interop/stock_wallet_pays.mjs",
                                     stack.url("/v1/infer"), "4", to_hex(secret_from(mode.seed)), to_checksum_hex(wallet),
                                     mode.name};
    if (counterfactual) {
      command.push_back(to_checksum_hex(wallets_->factory()));
      command.push_back(to_hex(SmartWallets::create_call(owner.address(), salt)));
    }
    auto paid = gate::test::run_command(command);
    ASSERT_EQ(paid.status, 0) << paid.err << paid.out;
    ASSERT_NE(paid.out.find("{\"done\":4}"), std::string::npos) << paid.out << paid.err;
    for (Uint128 k = 1; k <= 4; ++k)
      EXPECT_NE(paid.out.find("\"status\":200,\"body\":\"{\\\"ok\\\":true}\",\"chargedAmount\":\"1000\","
                              "\"chargedCumulativeAmount\":\"" + to_decimal(k * kPrice) + "\""),
                std::string::npos)
          << paid.out;

    std::vector<ChannelState> channels;
    stack.gate->channels().for_each([&](const ChannelState& s) { channels.push_back(s); });
    ASSERT_EQ(channels.size(), 1u);
    EXPECT_EQ(channels[0].config.payer, wallet);
    EXPECT_EQ(channels[0].signature.bytes().size(), mode.voucherSignatureBytes);
    EXPECT_GE(onchain(channels[0].channelId).balance, 4 * kPrice);
    EXPECT_TRUE(has_code(wallet));

    ASSERT_NO_FATAL_FAILURE(stack.await_fold());
    const auto summary = settle(config_, *stack.store, 100);
    EXPECT_TRUE(summary.ok()) << summary.sweepError;
    EXPECT_EQ(onchain(channels[0].channelId).totalClaimed, 4 * kPrice);
  }
}
#endif

}  // namespace
}  // namespace paychan::engine::facilitator::test
