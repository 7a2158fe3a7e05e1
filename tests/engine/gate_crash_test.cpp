// kill -9 of a real `paychan gate` process under concurrent paid load, three times over: for every
// PAYMENT-RESPONSE a client received, the store must hold at least that chargedCumulativeAmount and
// a client-signed voucher covering it, and no stored charge may exceed what the client signed.
// On anvil with the real contracts: the gate calls paychan's facilitator over HTTP, which executes
// each deposit on chain (a deposit whose answer died with the gate is followed by another, a top-up).
#ifdef PAYCHAN_CLI
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "channel/eip712.hpp"
#include "child_process.hpp"
#include "gate_chain_support.hpp"
#include "gate_stack.hpp"

namespace paychan::engine::facilitator::test {
namespace {

using gate::GateConfig;
using gate::test::Child;
using gate::test::TestAgent;

constexpr Uint128 kRoutePrice = 10'000;  // POST /v1/infer in config_json

std::string config_json(const GateConfig& c, const std::string& store, const std::string& facilitator,
                        const std::string& upstream) {
  return "{\"network\":\"" + c.network + "\",\"asset\":{\"address\":\"" + to_checksum_hex(c.asset) +
         "\",\"name\":\"" + c.assetName + "\",\"version\":\"" + c.assetVersion + "\"},\"payTo\":\"" +
         to_checksum_hex(c.payTo) + "\",\"receiverAuthorizer\":\"" + to_checksum_hex(c.receiverAuthorizer) +
         "\",\"withdrawDelay\":" + std::to_string(c.withdrawDelay) + ",\"withdrawalSafetyMarginSeconds\":600," +
         "\"facilitator\":\"" + facilitator + "\",\"store\":\"" + store + "\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"" +
         upstream + "\",\"routes\":[{\"method\":\"POST\",\"path\":\"/v1/infer\",\"price\":\"10000\"" +
         (c.routes[0].minDeposit ? ",\"minDeposit\":\"" + to_decimal(*c.routes[0].minDeposit) + "\"" : "") + "}]}";
}

// What one client knows: the highest total a PAYMENT-RESPONSE confirmed and the highest voucher it signed.
struct Ledger {
  Uint128 confirmed = 0;
  Uint128 signed_max = 0;
  bool deposited = false;
};

using GateCrash = GateChainTest;

TEST_F(GateCrash, KillNineUnderLoadLosesNoConfirmedCharge) {
  paychan::test::TempDir dir;
  const GateConfig config = chain_config();
  http::test::TestServer<decltype(&gate::test::toy_upstream)> upstream{&gate::test::toy_upstream};
  const std::string config_path = dir.file("gate.json");
  std::ofstream(config_path) << config_json(config, dir.file("gate.sqlite"), serve_facilitator_over_http(),
                                            upstream.url(""));

  constexpr int kClients = 8;  // the funded payers, the first two with a second channel
  std::vector<TestAgent> agents;
  for (int i = 0; i < kClients; ++i)
    agents.push_back(agent(config, static_cast<std::uint8_t>(1 + i % kPayers), static_cast<std::uint8_t>(1 + i / kPayers)));
  std::vector<Ledger> ledgers(kClients);
  const auto offer = gate::OfferTable::build(config).offers()[0].requirements;

  for (int round = 0; round < 3; ++round) {
    Child gate({PAYCHAN_CLI, "gate", "--config", config_path, "--threads", "2"});
    const std::string line = gate.read_line();
    const auto at = line.find("\"port\":");
    ASSERT_NE(at, std::string::npos) << "gate did not start: " << line;
    const std::string url = "http://127.0.0.1:" + std::to_string(std::stoi(line.substr(at + 7))) + "/v1/infer";

    std::atomic<bool> stop{false};
    std::atomic<int> served{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        http::BlockingHttpClient client;
        Ledger& ledger = ledgers[c];
        while (!stop) {
          const Uint128 next = ledger.confirmed + kRoutePrice;
          ledger.signed_max = std::max(ledger.signed_max, next);
          const std::string header = ledger.deposited ? agents[c].voucher_header(offer, next)
                                                      : agents[c].deposit_header(offer, next, 1'000'000'000);
          auto res = client.request(http::ClientRequest::post(url, "{}").header("PAYMENT-SIGNATURE", header));
          if (!res) continue;  // the gate is gone (or restarting)
          if (res->status == 200) {
            auto extra = protocol::batch_response_extra(*protocol::decode_payment_response(*res->header("PAYMENT-RESPONSE")));
            ledger.confirmed = *extra->channelState->chargedCumulativeAmount;
            ledger.deposited = true;
            ++served;
          } else if (res->status == 402) {
            // After a crash the gate may hold a later state than the client saw confirmed (the
            // response was lost): adopt it, as a client does with a corrective 402.
            auto required = protocol::decode_payment_required_header(*res->header("PAYMENT-REQUIRED"));
            auto extra = protocol::batch_settlement_extra(required->accepts[0]);
            if (extra && extra->channelState && extra->channelState->chargedCumulativeAmount) {
              ASSERT_EQ(extra->voucherState->signature, agents[c].voucher(*extra->voucherState->signedMaxClaimable).signature);
              ledger.confirmed = *extra->channelState->chargedCumulativeAmount;
              ledger.deposited = true;
            }
          }
        }
      });
    }
    // Let load build up, then pull the plug at an arbitrary moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (served < 200 * (round + 1) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_GE(served.load(), 200 * (round + 1)) << "the load stalled (round " << round << ")";
    gate.kill9();
    stop = true;
    for (auto& t : clients) t.join();

    auto store = persistence::ChannelStore::open(dir.file("gate.sqlite"));
    ASSERT_TRUE(store);
    const Bytes32 domain = batch_settlement_domain_separator(config.chainId);
    for (int c = 0; c < kClients; ++c) {
      auto stored = (*store)->get(agents[c].id);
      ASSERT_TRUE(stored);
      if (!ledgers[c].deposited) continue;
      ASSERT_TRUE(*stored) << "client " << c << " was confirmed but the channel is gone";
      const ChannelState& s = **stored;
      EXPECT_GE(s.chargedCumulativeAmount, ledgers[c].confirmed) << "client " << c << " round " << round;
      EXPECT_LE(s.chargedCumulativeAmount, s.signedMaxClaimable);
      EXPECT_LE(s.signedMaxClaimable, ledgers[c].signed_max);
      EXPECT_TRUE(signed_by(voucher_digest(domain, Voucher{s.channelId, s.signedMaxClaimable}), s.signature,
                            agents[c].config.payerAuthorizer));
      // Every deposit the chain holds was executed whole, and the gate never believes in more.
      const Uint128 onchain_balance = onchain(agents[c].id).balance;
      EXPECT_GT(onchain_balance, 0u);
      EXPECT_EQ(onchain_balance % 1'000'000'000, 0u);
      EXPECT_LE(s.onchain.balance, onchain_balance);
    }
  }
}

}  // namespace
}  // namespace paychan::engine::facilitator::test
#endif  // PAYCHAN_CLI
