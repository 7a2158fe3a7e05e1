// Helpers for the facilitator's tests on a real chain: one anvil per test suite with paychan's
// contracts at their canonical addresses (test::Devnet), payers funded with test USDC, and agents
// that sign with the client library's own payload builders (engine/client/payloads.hpp), so the
// facilitator sees exactly what a paychan agent sends.
#pragma once

#include <gtest/gtest.h>

#include <ctime>
#include <memory>
#include <vector>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "devnet_fixture.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/client/payloads.hpp"
#include "engine/facilitator/facilitator.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::facilitator::test {

using evm::test::Devnet;

// Test keys by seed; the secret is needed too, to write key files for the real binary.
inline Bytes32 secret_from(std::uint8_t seed) {
  Bytes32 secret{};
  secret[0] = 0x5e;
  secret[31] = seed;
  return secret;
}
inline PrivateKey key_from(std::uint8_t seed) { return *PrivateKey::from_bytes(secret_from(seed)); }

inline constexpr Uint128 kPrice = 1'000;
inline constexpr std::size_t kPayers = 6;

// One payer's channel to one receiver, under an offer at kPrice.
struct TestChannel {
  client::ClientKeys keys;
  client::ChosenOffer offer;
  ChannelConfig config;
  Bytes32 id{};
  unsigned deposits = 0;

  [[nodiscard]] protocol::FacilitatorRequest request(protocol::PaymentPayload payload) const {
    protocol::FacilitatorRequest r;
    r.paymentPayload = std::move(payload);
    r.paymentRequirements = offer.requirements;
    return r;
  }
  [[nodiscard]] protocol::FacilitatorRequest deposit(Uint128 cumulative, Uint128 amount) {
    Bytes32 salt{};
    salt[0] = 0xd0;
    salt[30] = id[0];
    salt[31] = static_cast<std::uint8_t>(deposits++);
    const auto now = static_cast<std::uint64_t>(std::time(nullptr));
    return request(client::deposit_payload(offer, config, id, cumulative, amount, keys, now, salt));
  }
  [[nodiscard]] protocol::FacilitatorRequest voucher(Uint128 cumulative) const {
    return request(client::voucher_payload(offer, config, id, cumulative, keys));
  }
  [[nodiscard]] SignedVoucher signed_voucher(Uint128 cumulative) const {
    return client::sign_voucher(offer.chainId, id, cumulative, keys);
  }
  [[nodiscard]] protocol::VoucherClaimRow claim_row(Uint128 signedMax, Uint128 claim) const {
    return protocol::VoucherClaimRow{config, signedMax, signed_voucher(signedMax).signature, claim};
  }
};

// A server-side payload (claim, settle) under `offer`, as a server sends it to /settle.
inline protocol::FacilitatorRequest server_request(const client::ChosenOffer& offer,
                                                   protocol::BatchSettlementPayload payload) {
  protocol::FacilitatorRequest r;
  r.paymentPayload.accepted = offer.requirements;
  r.paymentPayload.payload = std::move(payload);
  r.paymentRequirements = offer.requirements;
  return r;
}

class FacilitatorChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    devnet_ = new Devnet();
    if (!devnet_->ok() || !Devnet::have_artifacts()) return;
    std::vector<Address> fund;
    for (std::size_t i = 0; i < kPayers; ++i) fund.push_back(key_from(static_cast<std::uint8_t>(i + 1)).address());
    deployment_ = devnet_->deploy(fund);
  }
  static void TearDownTestSuite() {
    delete devnet_;
    devnet_ = nullptr;
    deployment_ = nullptr;
  }

  void SetUp() override {
    if (!devnet_->ok()) GTEST_SKIP() << "no anvil: " << devnet_->error();
    if (!Devnet::have_artifacts()) GTEST_SKIP() << "contract artifacts not built (target `contracts`)";
    ASSERT_NE(deployment_, nullptr);
    journal_ = *persistence::TxJournal::open(dir_.file("journal.sqlite"));
    facilitator_ = make_facilitator();
  }

  // The devnet's network as the facilitator is configured with it.
  [[nodiscard]] static NetworkOptions network_options() {
    NetworkOptions network;
    network.network = "eip155:" + std::to_string(devnet_->chain_id());
    network.rpcUrl = devnet_->anvil().url();
    network.batchSettlement = deployment_->settlement;
    network.erc3009Collector = deployment_->collector;
    return network;
  }

  [[nodiscard]] std::unique_ptr<Facilitator> make_facilitator(FacilitatorOptions options = {}) {
    return make_facilitator(network_options(), std::move(options));
  }
  [[nodiscard]] std::unique_ptr<Facilitator> make_facilitator(NetworkOptions network, FacilitatorOptions options = {}) {
    return std::make_unique<Facilitator>(std::vector<NetworkOptions>{std::move(network)}, signer(), authorizer(), *journal_,
                                         std::move(options));
  }

  // Dev account 1 relays (dev account 0 deployed); the authorizer needs no ether.
  [[nodiscard]] static PrivateKey signer() { return devnet_->key(1); }
  static constexpr std::uint8_t kAuthorizerSeed = 0xa0;
  [[nodiscard]] static PrivateKey authorizer() { return key_from(kAuthorizerSeed); }

  [[nodiscard]] static client::ChosenOffer offer_to(const Address& receiver) {
    client::ChosenOffer o;
    o.chainId = devnet_->chain_id();
    o.asset = deployment_->token;
    o.payTo = receiver;
    o.price = kPrice;
    o.extra.receiverAuthorizer = authorizer().address();
    o.extra.withdrawDelay = 900;
    o.extra.name = deployment_->tokenName;
    o.extra.version = deployment_->tokenVersion;
    o.requirements.scheme = std::string(protocol::kBatchSettlementScheme);
    o.requirements.network = "eip155:" + std::to_string(o.chainId);
    o.requirements.amount = to_decimal(kPrice);
    o.requirements.asset = to_checksum_hex(o.asset);
    o.requirements.payTo = to_checksum_hex(receiver);
    o.requirements.maxTimeoutSeconds = 300;
    o.requirements.extra = protocol::make_extra(o.extra);
    return o;
  }

  // Payer `payer` (0..kPayers-1) opens channel `salt` to `receiver`.
  [[nodiscard]] static TestChannel channel(std::size_t payer, const Address& receiver, std::uint8_t salt) {
    TestChannel c{client::ClientKeys{key_from(static_cast<std::uint8_t>(payer + 1)), std::nullopt}, offer_to(receiver)};
    Bytes32 s{};
    s[0] = 0x5a;
    s[31] = salt;
    c.config = client::channel_config_for(c.offer, c.keys, s);
    c.id = channel_id(batch_settlement_domain_separator(c.offer.chainId), c.config);
    return c;
  }

  template <typename T>
  T run(http::Awaitable<T> awaitable) {
    return devnet_->run(std::move(awaitable));
  }

  [[nodiscard]] U256 token_balance(const Address& owner) {
    auto reply = run(devnet_->rpc().call(deployment_->token, chain::erc20_balance_of_call(owner)));
    EXPECT_TRUE(reply) << reply.error().to_string();
    return reply ? *chain::decode_uint256(*reply) : U256{};
  }
  [[nodiscard]] chain::ChannelBalances onchain(const Bytes32& id) {
    auto reply = run(devnet_->rpc().call(deployment_->settlement, chain::channels_call(id)));
    EXPECT_TRUE(reply) << reply.error().to_string();
    return reply ? *chain::decode_channels(*reply) : chain::ChannelBalances{};
  }
  // Transactions the facilitator's signer has had mined ("latest"), or that the node has accepted,
  // mined or still in its pool ("pending"): anvil mines a transaction just after
  // eth_sendRawTransaction returns, not before.
  [[nodiscard]] std::uint64_t signer_transactions(const char* block = "latest") {
    auto n = run(devnet_->rpc().transaction_count(signer().address(), block));
    EXPECT_TRUE(n) << n.error().to_string();
    return n ? *n : 0;
  }
  // A fee spike: the next block's base fee jumps to 1,000 gwei and that block is mined, so what the
  // node's pool holds for less (automine off while it waits) is evicted unmined.
  void spike_base_fee() {
    EXPECT_TRUE(run(devnet_->rpc().raw("anvil_setNextBlockBaseFeePerGas", "[\"0xe8d4a51000\"]")));
    EXPECT_TRUE(run(devnet_->rpc().raw("evm_mine", "[]")));
  }
  // The shared chain as the other tests expect it after a spike: no transaction stuck at the
  // signer's next nonce, a base fee back at 1 gwei, automine on.
  void restore_fee_market() {
    (void)run(devnet_->rpc().raw("anvil_dropAllTransactions", "[]"));
    (void)run(devnet_->rpc().raw("anvil_setNextBlockBaseFeePerGas", "[\"0x3b9aca00\"]"));
    (void)run(devnet_->rpc().raw("evm_mine", "[]"));
    (void)run(devnet_->rpc().raw("evm_setAutomine", "[true]"));
  }
  [[nodiscard]] protocol::SettlementResponse settle(const protocol::FacilitatorRequest& r) {
    return run(facilitator_->settle_request(r, ReceiverScope::everyone()));
  }
  [[nodiscard]] protocol::VerifyResponse verify(const protocol::FacilitatorRequest& r) {
    return run(facilitator_->verify_request(r, ReceiverScope::everyone()));
  }
  // EIP-1271 wallets of one line, for anvil_setCode at a payer's address (payerAuthorizer zero).
  // PUSH4 0x1626ba7e PUSH1 0xe0 SHL PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN: every
  // isValidSignature answers the magic value.
  static constexpr std::string_view kWalletAcceptingAll = "0x631626ba7e60e01b60005260206000f3";
  // PUSH1 0 PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN: returns zero, not the magic value.
  static constexpr std::string_view kWalletRefusingAll = "0x600060005260206000f3";
  void set_code(const Address& at, std::string_view runtime) {
    const std::string params = "[\"" + to_checksum_hex(at) + "\",\"" + std::string(runtime) + "\"]";
    auto r = run(devnet_->rpc().raw("anvil_setCode", params));
    ASSERT_TRUE(r) << r.error().to_string();
  }
  // Test USDC minted to `to` (the deployer may mint).
  void mint(const Address& to, Uint128 amount) {
    evm::TxRequest tx;
    tx.to = deployment_->token;
    tx.data = chain::encode_call("mint(address,uint256)", {chain::AbiValue::address(to), chain::AbiValue::uint(U256{amount})});
    auto sent = run(devnet_->sender().submit(std::move(tx)));
    ASSERT_TRUE(sent) << sent.error().to_string();
    auto receipt = run(devnet_->sender().wait(*sent));
    ASSERT_TRUE(receipt && receipt->success);
  }
  // A receiver address no other test uses (settle sweeps are per receiver).
  [[nodiscard]] static Address fresh_receiver() {
    static std::uint8_t next = 0x80;
    return key_from(next++).address();
  }

  static inline Devnet* devnet_ = nullptr;
  static inline const evm::Deployment* deployment_ = nullptr;
  paychan::test::TempDir dir_;
  std::unique_ptr<persistence::TxJournal> journal_;
  std::unique_ptr<Facilitator> facilitator_;
};

inline protocol::ChannelSnapshot snapshot_of(const protocol::SettlementResponse& r) {
  auto extra = protocol::batch_response_extra(r);
  EXPECT_TRUE(extra && extra->channelState) << r.extra.text();
  return extra && extra->channelState ? *extra->channelState : protocol::ChannelSnapshot{};
}

}  // namespace paychan::engine::facilitator::test
