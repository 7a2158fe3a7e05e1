// Deposits through Permit2 (an offer whose extra.assetTransferMethod is "permit2", for tokens
// without ERC-3009), against a real chain: Uniswap's Permit2 compiled from its published source and
// paychan's Permit2DepositCollector at their canonical addresses, the agent's payload built by the
// client library. The facilitator checks the permit as the reference does, each refusal with the
// reference's code, and the deposit lands through the collector once the payer approved Permit2.
#include "child_process.hpp"
#include "engine/client/permit2_approval.hpp"
#include "facilitator_gate_fixture.hpp"
#include "gate_stack.hpp"
#include "signature_twin.hpp"
#include "smart_wallet_support.hpp"

namespace paychan::engine::facilitator::test {
namespace {

constexpr Uint128 kDeposit = 50'000;

std::string code(ErrorCode c) { return std::string(to_string(c)); }

protocol::Permit2DepositAuthorization& permit_of(protocol::FacilitatorRequest& r) {
  auto& payload = std::get<protocol::BatchSettlementPayload>(r.paymentPayload.payload);
  return *std::get<protocol::DepositPayload>(payload).deposit.permit2Authorization;
}

// Gives `key`'s account 10 ether for its gas.
void fund_gas(Devnet& devnet, const PrivateKey& key) {
  const std::string address = to_hex(key.address().bytes);
  ASSERT_TRUE(devnet.run(devnet.rpc().raw("anvil_setBalance", "[\"" + address + "\",\"0x8ac7230489e80000\"]")));
}

// Sends `data` to `to` from `key`'s account (given the ether for its gas) and waits: it must succeed.
void send_from(Devnet& devnet, const PrivateKey& key, const Address& to, Bytes data) {
  ASSERT_NO_FATAL_FAILURE(fund_gas(devnet, key));
  evm::TransactionSender sender(devnet.rpc(), key, devnet.chain_id());
  evm::TxRequest tx;
  tx.to = to;
  tx.data = std::move(data);
  auto sent = devnet.run(sender.submit(std::move(tx)));
  ASSERT_TRUE(sent) << sent.error().to_string();
  auto receipt = devnet.run(sender.wait(*sent));
  ASSERT_TRUE(receipt && receipt->success);
}

// The payer's one-time approval of Permit2 for `token`.
void approve_permit2(Devnet& devnet, const PrivateKey& payer, const Address& token, const U256& amount) {
  send_from(devnet, payer, token, chain::erc20_approve_call(kPermit2Address, amount));
}

class Permit2DepositTest : public FacilitatorChainTest {
 protected:
  // Payer `payer`'s channel under the same offer with deposits by Permit2.
  [[nodiscard]] static TestChannel permit2_channel(std::size_t payer, std::uint8_t salt) {
    TestChannel c = channel(payer, fresh_receiver(), salt);
    c.offer.extra.assetTransferMethod = "permit2";
    c.offer.requirements.extra = protocol::make_extra(c.offer.extra);
    return c;
  }
  void approve_permit2(const TestChannel& c, const U256& amount) {
    test::approve_permit2(*devnet_, c.keys.payer, deployment_->token, amount);
  }
};

TEST_F(Permit2DepositTest, TheAgentSignsAPermitAndTheDepositLandsThroughTheCollector) {
  TestChannel c = permit2_channel(0, 120);
  auto request = c.deposit(kPrice, kDeposit);
  const auto& permit = permit_of(request);
  EXPECT_EQ(permit.spender, kPermit2CollectorAddress);
  EXPECT_EQ(permit.channelId, c.id);
  EXPECT_EQ(permit.amount, U256{kDeposit});

  // Until the payer approves Permit2, the deposit cannot be pulled: said before any simulation.
  const auto unapproved = verify(request);
  EXPECT_EQ(unapproved.invalidReason, code(ErrorCode::invalid_batch_settlement_evm_permit2_allowance_required))
      << unapproved.invalidMessage.value_or("");

  approve_permit2(c, U256{kDeposit});
  const U256 before = token_balance(c.config.payer);
  const auto verdict = verify(request);
  ASSERT_TRUE(verdict.isValid) << verdict.invalidReason.value_or("") << ": " << verdict.invalidMessage.value_or("");
  const auto settled = settle(request);
  ASSERT_TRUE(settled.success) << settled.errorReason.value_or("") << ": " << settled.errorMessage.value_or("");
  EXPECT_EQ(settled.amount, std::optional<std::string>{to_decimal(kDeposit)});
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
  EXPECT_EQ(*token_balance(c.config.payer).to_uint128(), *before.to_uint128() - kDeposit);
  EXPECT_EQ(token_balance(deployment_->permit2Collector), U256{0}) << "the tokens go straight to the contract";

  // The permit's nonce is spent: the same payload again fails its simulation and sends nothing.
  const std::uint64_t sent = signer_transactions();
  approve_permit2(c, U256{kDeposit});
  const auto replay = verify(request);
  EXPECT_EQ(replay.invalidReason, code(ErrorCode::invalid_batch_settlement_evm_deposit_simulation_failed));
  EXPECT_EQ(signer_transactions(), sent);
}

TEST_F(Permit2DepositTest, EachFlawOfThePermitIsRefusedWithTheReferencesCode) {
  TestChannel c = permit2_channel(1, 121);
  approve_permit2(c, U256{10 * kDeposit});
  const auto refused = [&](auto&& change) {
    auto r = c.deposit(kPrice, kDeposit);
    change(permit_of(r), r);
    return verify(r).invalidReason.value_or("valid");
  };
  using E = ErrorCode;
  EXPECT_EQ(refused([](auto& p, auto&) { p.spender = kErc3009CollectorAddress; }),
            code(E::invalid_batch_settlement_evm_permit2_invalid_spender));
  EXPECT_EQ(refused([](auto& p, auto&) { p.amount = *p.amount.next(); }),
            code(E::invalid_batch_settlement_evm_permit2_amount_mismatch));
  EXPECT_EQ(refused([](auto& p, auto&) { p.deadline = U256{1}; }),
            code(E::invalid_batch_settlement_evm_permit2_deadline_expired));
  EXPECT_EQ(refused([](auto& p, auto&) { p.token = kPermit2Address; }),
            code(E::invalid_batch_settlement_evm_token_mismatch));
  EXPECT_EQ(refused([](auto& p, auto&) { p.channelId[0] ^= 1; }),
            code(E::invalid_batch_settlement_evm_channel_id_mismatch));
  EXPECT_EQ(refused([](auto& p, auto&) { p.from = kPermit2Address; }),
            code(E::invalid_batch_settlement_evm_permit2_invalid_signature));
  // Signed over another nonce than the one it carries: not the payer's permit.
  EXPECT_EQ(refused([](auto& p, auto&) { p.nonce = *p.nonce.next(); }),
            code(E::invalid_batch_settlement_evm_permit2_invalid_signature));
  // An ERC-3009 authorization for a Permit2 offer is the wrong kind of payload, as the reference says.
  TestChannel erc3009 = channel(1, c.offer.payTo, 121);
  auto wrong_kind = erc3009.deposit(kPrice, kDeposit);
  wrong_kind.paymentRequirements = wrong_kind.paymentPayload.accepted = c.offer.requirements;
  EXPECT_EQ(verify(wrong_kind).invalidReason, code(E::invalid_batch_settlement_evm_payload_type));
  // An offer that names no method takes the payload's kind (the reference's resolution): a permit.
  EXPECT_EQ(refused([&](auto&, protocol::FacilitatorRequest& r) {
              r.paymentRequirements = r.paymentPayload.accepted = erc3009.offer.requirements;
            }),
            "valid");
  // And the permit untouched passes.
  EXPECT_EQ(refused([](auto&, auto&) {}), "valid");
  // Permit2 takes an EOA's signature with either s, as bare ecrecover does: so does the check, and
  // the deposit lands with the signature as it came.
  auto high_s = c.deposit(kPrice, kDeposit);
  permit_of(high_s).signature = WalletSignature(paychan::test::high_s_twin(*permit_of(high_s).signature.ecdsa()));
  const auto settled = settle(high_s);
  EXPECT_TRUE(settled.success) << settled.errorReason.value_or("") << ": " << settled.errorMessage.value_or("");
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
}

#if defined(PAYCHAN_NODE) && defined(PAYCHAN_SOURCE_DIR)
// Wire compatibility: the reference client (@x402/fetch, @x402/evm) pays a paychan gate whose
// asset takes Permit2 deposits, paychan's facilitator executing them on the chain; the settle job
// then claims what it paid.
class Permit2GateTest : public FacilitatorGateTest {};

TEST_F(Permit2GateTest, AStockClientDepositsThroughPermit2) {
  gate::GateConfig config = gate_config();
  config.assetPermit2 = true;
  constexpr std::uint8_t kSeed = 0x72;
  const PrivateKey payer = key_from(kSeed);
  mint(payer.address(), 1'000 * kPrice);
  ASSERT_NO_FATAL_FAILURE(approve_permit2(*devnet_, payer, deployment_->token, U256{1'000 * kPrice}));
  gate::test::GateStack stack(config, facilitator_.get());
  auto paid = gate::test::run_command({PAYCHAN_NODE, std::string(PAYCHAN_SOURCE_DIR) + "/tests/interop/stock_client_pays.mjs",
                                       stack.url("/v1/infer"), "7", to_hex(secret_from(kSeed))});
  ASSERT_EQ(paid.status, 0) << paid.err << paid.out;
  ASSERT_NE(paid.out.find("{\"done\":7}"), std::string::npos) << paid.out << paid.err;
  for (Uint128 k = 1; k <= 7; ++k)
    EXPECT_NE(paid.out.find("\"chargedCumulativeAmount\":\"" + to_decimal(k * kPrice) + "\""), std::string::npos)
        << paid.out;

  std::vector<ChannelState> channels;
  stack.gate->channels().for_each([&](const ChannelState& s) { channels.push_back(s); });
  ASSERT_EQ(channels.size(), 1u);
  EXPECT_EQ(channels[0].config.payer, payer.address());
  // One deposit, of the offer's minDeposit (ten prices), covers the seven requests.
  EXPECT_EQ(stack.metrics.deposits.load(), 1u);
  EXPECT_EQ(onchain(channels[0].channelId).balance, 10 * kPrice);
  EXPECT_EQ(token_balance(payer.address()), U256{990 * kPrice});

  ASSERT_NO_FATAL_FAILURE(stack.await_fold());
  const auto summary = settle(config, *stack.store, 100);
  EXPECT_TRUE(summary.ok()) << summary.sweepError;
  EXPECT_EQ(onchain(channels[0].channelId).totalClaimed, 7 * kPrice);
}
#endif

// Permit2 nonces are the payer's, not the channel's: the journal knows a deposit by the payer and
// nonce. A /settle retried gets the first answer and sends nothing; a second channel's deposit
// signed with the same nonce (it could never land) is refused before its simulation — the journal
// holds the first from its sending, mined or not — rather than answered with the first's outcome.
TEST_F(Permit2DepositTest, ThePermitsNonceIsSettledOnceWhateverTheChannel) {
  TestChannel a = permit2_channel(2, 122);
  TestChannel b = permit2_channel(2, 123);
  approve_permit2(a, U256{10 * kDeposit});
  auto first = a.deposit(kPrice, kDeposit);
  auto same_nonce = b.deposit(kPrice, kDeposit);
  auto& permit = permit_of(same_nonce);
  permit.nonce = permit_of(first).nonce;
  permit.signature = b.keys.payer.sign(permit2_deposit_digest(permit2_domain_separator(devnet_->chain_id()), permit.permit()));
  ASSERT_TRUE(verify(same_nonce).isValid) << "alone, each permit is valid";

  const std::uint64_t sent = signer_transactions();
  const auto settled = settle(first);
  ASSERT_TRUE(settled.success) << settled.errorReason.value_or("");
  EXPECT_EQ(protocol::encode_settlement_response(settle(first)), protocol::encode_settlement_response(settled));
  const auto other = settle(same_nonce);
  EXPECT_FALSE(other.success);
  EXPECT_EQ(other.errorReason, code(ErrorCode::invalid_batch_settlement_evm_deposit_simulation_failed));
  EXPECT_NE(other.errorMessage.value_or("").find(to_hex(a.id)), std::string::npos) << other.errorMessage.value_or("");
  EXPECT_EQ(signer_transactions(), sent + 1);
  EXPECT_EQ(onchain(a.id).balance, kDeposit);
  EXPECT_EQ(onchain(b.id).balance, 0u);
}

// A smart wallet's permit: Permit2 asks the wallet (EIP-1271), and so does the facilitator first.
// The wallet approved Permit2 through a call of its owner's; its vouchers are signed by a session
// key (the owner's, as payerAuthorizer).
TEST_F(Permit2DepositTest, AWalletsPermitIsCheckedWithEip1271AndLands) {
  evm::test::SmartWallets wallets(*devnet_);
  const PrivateKey owner = key_from(0x74);
  Bytes32 salt{};
  salt[31] = 0x74;
  const Address wallet = wallets.deploy(owner.address(), salt);
  mint(wallet, 10 * kDeposit);
  ASSERT_NO_FATAL_FAILURE(send_from(*devnet_, owner, wallet,
                                    chain::encode_call("execute(address,bytes)",
                                                       {chain::AbiValue::address(deployment_->token),
                                                        chain::AbiValue::bytes(chain::erc20_approve_call(kPermit2Address, U256{kDeposit}))})));

  TestChannel c = permit2_channel(4, 125);
  c.keys = client::ClientKeys{owner, owner};
  c.config.payer = wallet;
  c.config.payerAuthorizer = owner.address();
  c.id = channel_id(batch_settlement_domain_separator(c.offer.chainId), c.config);
  auto request = c.deposit(kPrice, kDeposit);
  auto& permit = permit_of(request);
  ASSERT_EQ(permit.from, wallet);
  // The owner's bare ECDSA signature is not the wallet's.
  EXPECT_EQ(verify(request).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_permit2_invalid_signature));
  permit.signature =
      evm::test::smart_wallet_signature(owner, permit2_deposit_digest(permit2_domain_separator(devnet_->chain_id()), permit.permit()));
  const auto settled = settle(request);
  ASSERT_TRUE(settled.success) << settled.errorReason.value_or("") << ": " << settled.errorMessage.value_or("");
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
  EXPECT_EQ(token_balance(wallet), U256{9 * kDeposit});
}

// A token without ERC-3009 may have no EIP-712 domain either: the reference server's Permit2 offers
// for such a token carry no name and version, and its deposits need none.
TEST_F(Permit2DepositTest, APermit2OfferWithoutTheTokensDomainIsPaid) {
  TestChannel c = permit2_channel(3, 124);
  c.offer.extra.name.clear();
  c.offer.extra.version.clear();
  c.offer.requirements.extra = protocol::make_extra(c.offer.extra);
  ASSERT_EQ(c.offer.requirements.extra.text().find("\"name\""), std::string::npos) << c.offer.requirements.extra.text();
  approve_permit2(c, U256{kDeposit});
  const auto settled = settle(c.deposit(kPrice, kDeposit));
  ASSERT_TRUE(settled.success) << settled.errorReason.value_or("") << ": " << settled.errorMessage.value_or("");
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
  EXPECT_TRUE(verify(c.voucher(2 * kPrice)).isValid);
}

// The agent's own approval (`paychan approve`): one transaction when there is none, nothing when
// the allowance covers the amount, and a short allowance zeroed before it is raised.
TEST_F(Permit2DepositTest, ThePayersApprovalIsSentOnlyWhenShortAndZeroedBeforeARaise) {
  const PrivateKey payer = key_from(0x77);
  const Address token = deployment_->token;
  ASSERT_NO_FATAL_FAILURE(fund_gas(*devnet_, payer));
  auto line = client::ChannelChain::connect(devnet_->anvil().url(), payer);
  ASSERT_TRUE(line) << line.error().to_string();
  client::ChannelChain& chain = **line;
  const auto allowance = [&] {
    auto read = chain.permit2_allowance(token, payer.address());
    EXPECT_TRUE(read) << read.error().to_string();
    return read ? *read : U256{};
  };
  std::vector<std::string> steps;
  const client::StepLog log = [&](std::string_view line) { steps.emplace_back(line); };

  auto first = client::approve_permit2(chain, token, client::max_allowance(), log);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->before, U256{});
  EXPECT_EQ(first->after, client::max_allowance());
  EXPECT_EQ(first->transactions.size(), 1u);
  EXPECT_EQ(allowance(), client::max_allowance());
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_NE(steps[1].find("mined in " + to_hex(first->transactions[0])), std::string::npos) << steps[1];

  auto again = client::approve_permit2(chain, token, U256{kDeposit}, log);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_TRUE(again->transactions.empty());
  EXPECT_EQ(again->after, client::max_allowance());
  EXPECT_EQ(steps.size(), 2u) << "nothing sent, nothing said";

  ASSERT_NO_FATAL_FAILURE(send_from(*devnet_, payer, token, chain::erc20_approve_call(kPermit2Address, U256{5})));
  auto raised = client::approve_permit2(chain, token, U256{kDeposit}, log);
  ASSERT_TRUE(raised) << raised.error().to_string();
  EXPECT_EQ(raised->before, U256{5});
  EXPECT_EQ(raised->after, U256{kDeposit});
  ASSERT_EQ(raised->transactions.size(), 2u);
  EXPECT_NE(raised->transactions[0], raised->transactions[1]);
  EXPECT_EQ(allowance(), U256{kDeposit});
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_NE(steps[2].find("approve(Permit2, 0)"), std::string::npos) << steps[2];
  EXPECT_NE(steps[4].find("approve(Permit2, " + to_decimal(kDeposit) + ")"), std::string::npos) << steps[4];
}

// The payer's gas runs out between the zeroing and the raise (a real node refusing the second
// transaction): the error names the zeroing, the allowance is left at zero, and a run with gas again
// raises it in one transaction.
TEST_F(Permit2DepositTest, AnApprovalThatFailsAfterZeroingSaysSoAndTheNextRunRaisesIt) {
  const PrivateKey payer = key_from(0x79);
  const Address token = deployment_->token;
  ASSERT_NO_FATAL_FAILURE(send_from(*devnet_, payer, token, chain::erc20_approve_call(kPermit2Address, U256{5})));
  auto line = client::ChannelChain::connect(devnet_->anvil().url(), payer);
  ASSERT_TRUE(line) << line.error().to_string();
  client::ChannelChain& chain = **line;
  const std::string address = to_hex(payer.address().bytes);
  const client::StepLog drain = [&](std::string_view step) {
    if (step.starts_with("approve(Permit2, 0)") && step.find("mined in") != std::string_view::npos) {
      EXPECT_TRUE(devnet_->run(devnet_->rpc().raw("anvil_setBalance", "[\"" + address + "\",\"0x0\"]")));
    }
  };

  auto failed = client::approve_permit2(chain, token, U256{kDeposit}, drain);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().detail.find("the allowance was zeroed first by 0x"), std::string::npos) << failed.error().to_string();
  auto read = chain.permit2_allowance(token, payer.address());
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(*read, U256{});

  ASSERT_NO_FATAL_FAILURE(fund_gas(*devnet_, payer));
  auto raised = client::approve_permit2(chain, token, U256{kDeposit});
  ASSERT_TRUE(raised) << raised.error().to_string();
  EXPECT_EQ(raised->before, U256{});
  EXPECT_EQ(raised->transactions.size(), 1u) << "nothing to zero";
  EXPECT_EQ(raised->after, U256{kDeposit});
}

// Against a token with Tether's approve rule (contracts/src/TestUSDT.sol): raising a short allowance
// in one approve reverts there, so the approval lowers it to zero first.
TEST_F(Permit2DepositTest, AUsdtLikeTokensShortAllowanceIsZeroedBeforeItIsRaised) {
  auto artifact = evm::load_artifact(evm::default_artifacts_dir() / "TestUSDT.json");
  ASSERT_TRUE(artifact) << artifact.error().to_string();
  auto deployed = run(evm::deploy_contract(devnet_->sender(), artifact->bytecode));
  ASSERT_TRUE(deployed) << deployed.error().to_string();
  const Address usdt = *deployed;
  const PrivateKey payer = key_from(0x78);
  ASSERT_NO_FATAL_FAILURE(send_from(*devnet_, payer, usdt, chain::erc20_approve_call(kPermit2Address, U256{5})));
  auto line = client::ChannelChain::connect(devnet_->anvil().url(), payer);
  ASSERT_TRUE(line) << line.error().to_string();
  client::ChannelChain& chain = **line;

  // The rule is real: one approve from 5 to another non-zero amount reverts.
  EXPECT_FALSE(chain.send_to(usdt, chain::erc20_approve_call(kPermit2Address, U256{kDeposit})));

  auto raised = client::approve_permit2(chain, usdt, U256{kDeposit});
  ASSERT_TRUE(raised) << raised.error().to_string();
  EXPECT_EQ(raised->before, U256{5});
  EXPECT_EQ(raised->transactions.size(), 2u);
  EXPECT_EQ(raised->after, U256{kDeposit});
  auto read = chain.permit2_allowance(usdt, payer.address());
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(*read, U256{kDeposit});
}

}  // namespace
}  // namespace paychan::engine::facilitator::test
