// The facilitator's configuration file: what it accepts, and a clear invalid_config for what it
// does not.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/facilitator/facilitator_config.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::facilitator {
namespace {

const std::string kGood = R"({
  "networks": {
    "eip155:8453": "http://127.0.0.1:8545",
    "eip155:31337": {"rpc": "http://127.0.0.1:8546/rpc",
                     "batchSettlement": "0x1111111111111111111111111111111111111111",
                     "erc3009Collector": "0x2222222222222222222222222222222222222222",
                     "multicall3": "0x4444444444444444444444444444444444444444",
                     "eip6492AllowedFactories": ["0x5555555555555555555555555555555555555555"]}
  },
  "signerKeyFile": "facilitator.key",
  "receiverAuthorizerKeyFile": "authorizer.key",
  "clients": [
    {"name": "gate-eu", "tokenFile": "gate-eu.token", "receivers": ["0x3333333333333333333333333333333333333333"]},
    {"name": "settle", "tokenFile": "settle.token", "receivers": []}
  ],
  "receiptTimeoutSeconds": 30,
  "repriceAfterSeconds": 120,
  "maxFeePerGasGwei": 300
})";

std::string with(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

// 65 factories, one more than a network may list.
std::string too_many_factories() {
  std::string list = "[";
  for (int i = 0; i < 65; ++i) list += std::string(i == 0 ? "" : ",") + "\"0x5555555555555555555555555555555555555555\"";
  return list + "]";
}

TEST(FacilitatorConfig, ReadsNetworksKeysAndDefaults) {
  auto c = parse_facilitator_config(kGood);
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_EQ(c->networks.size(), 2u);
  EXPECT_EQ(c->networks[0].network, "eip155:8453");
  EXPECT_EQ(c->networks[0].rpcUrl, "http://127.0.0.1:8545");
  EXPECT_EQ(c->networks[0].batchSettlement, kBatchSettlementAddress);  // canonical unless told
  EXPECT_EQ(c->networks[0].erc3009Collector, kErc3009CollectorAddress);
  EXPECT_EQ(c->networks[1].rpcUrl, "http://127.0.0.1:8546/rpc");
  EXPECT_EQ(to_checksum_hex(c->networks[1].batchSettlement), "0x1111111111111111111111111111111111111111");
  EXPECT_EQ(to_checksum_hex(c->networks[1].erc3009Collector), "0x2222222222222222222222222222222222222222");
  EXPECT_EQ(c->networks[0].multicall3, chain::kMulticall3Address);
  EXPECT_TRUE(c->networks[0].eip6492AllowedFactories.empty()) << "no wallet is deployed unless told";
  EXPECT_EQ(to_checksum_hex(c->networks[1].multicall3), "0x4444444444444444444444444444444444444444");
  ASSERT_EQ(c->networks[1].eip6492AllowedFactories.size(), 1u);
  EXPECT_EQ(to_checksum_hex(c->networks[1].eip6492AllowedFactories[0]), "0x5555555555555555555555555555555555555555");
  EXPECT_EQ(c->signerKeyFile, "facilitator.key");
  EXPECT_EQ(c->receiverAuthorizerKeyFile, std::optional<std::string>{"authorizer.key"});
  EXPECT_EQ(c->journal, "paychan-facilitator.sqlite");
  EXPECT_EQ(c->listen, "127.0.0.1:4021");
  EXPECT_EQ(c->metricsListen, "") << "/metrics on the API's port unless told";
  EXPECT_EQ(c->receiptTimeoutSeconds, 30u);
  EXPECT_EQ(c->repriceAfterSeconds, 120u);
  EXPECT_EQ(c->maxFeePerGasGwei, std::optional<std::uint64_t>{300});
  ASSERT_EQ(c->clients.size(), 2u);
  EXPECT_EQ(c->clients[0].name, "gate-eu");
  EXPECT_EQ(c->clients[0].tokenFile, "gate-eu.token");
  ASSERT_EQ(c->clients[0].receivers.size(), 1u);
  EXPECT_EQ(to_checksum_hex(c->clients[0].receivers[0]), "0x3333333333333333333333333333333333333333");
  EXPECT_TRUE(c->clients[1].receivers.empty());
}

TEST(FacilitatorConfig, WithoutClientsTheApiIsOpenAndNoAuthorizerKeyIsAllowed) {
  const std::string open = R"({"networks": {"eip155:8453": "http://127.0.0.1:8545"}, "signerKeyFile": "k"})";
  auto c = parse_facilitator_config(open);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->clients.empty());
  // A receiverAuthorizer key with no clients would sign refunds for whoever asks.
  auto refused = parse_facilitator_config(with(open, R"("signerKeyFile": "k")",
                                                R"("signerKeyFile": "k", "receiverAuthorizerKeyFile": "a")"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_config);
  EXPECT_NE(refused.error().detail.find("needs \"clients\""), std::string::npos) << refused.error().detail;
}

TEST(FacilitatorConfig, EachMistakeNamesItsMember) {
  struct Case {
    std::string text;
    std::string mentions;
  };
  const Case cases[] = {
      {with(kGood, R"("eip155:8453")", R"("base")"), "networks.base"},
      {with(kGood, R"("eip155:8453")", R"("eip155:0")"), "networks.eip155:0"},
      {with(kGood, "http://127.0.0.1:8545", "mainnet.example:8545"), "networks.eip155:8453"},
      {with(kGood, "http://127.0.0.1:8546/rpc", "ftp://x"), "networks.eip155:31337.rpc"},
      {with(kGood, "0x1111111111111111111111111111111111111111", "0x11"), "batchSettlement"},
      {with(kGood, "0x4444444444444444444444444444444444444444", "0x44"), "networks.eip155:31337.multicall3"},
      {with(kGood, R"(["0x5555555555555555555555555555555555555555"])", R"(["0x55"])"),
       "networks.eip155:31337.eip6492AllowedFactories"},
      {with(kGood, R"(["0x5555555555555555555555555555555555555555"])", R"("0x5555555555555555555555555555555555555555")"),
       "networks.eip155:31337.eip6492AllowedFactories: must be an array"},
      {with(kGood, R"(["0x5555555555555555555555555555555555555555"])", R"([5])"),
       "networks.eip155:31337.eip6492AllowedFactories: must hold only 0x addresses"},
      {with(kGood, R"(["0x5555555555555555555555555555555555555555"])", too_many_factories()),
       "eip6492AllowedFactories: must be an array of at most 64 wallet factory addresses"},
      {with(kGood, R"("signerKeyFile")", R"("signer")"), "signer: is not a member this input takes"},
      {with(kGood, R"("clients")", R"("client")"), "client: is not a member this input takes"},
      {with(kGood, R"("name": "settle")", R"("name": "settle", "receiver": [])"), "clients[1].receiver: is not"},
      {with(kGood, R"("rpc": )", R"("url": )"), "networks.eip155:31337.url: is not"},
      {with(kGood, R"("receiptTimeoutSeconds": 30)", R"("receiptTimeoutSeconds": 0)"), "receiptTimeoutSeconds"},
      {with(kGood, R"("repriceAfterSeconds": 120)", R"("repriceAfterSeconds": 0)"), "repriceAfterSeconds"},
      {with(kGood, R"("maxFeePerGasGwei": 300)", R"("maxFeePerGasGwei": 0)"), "maxFeePerGasGwei"},
      {with(kGood, R"("receiptTimeoutSeconds": 30)", R"("receiptTimeoutSeconds": -1)"), "receiptTimeoutSeconds"},
      {R"({"networks": {}, "signerKeyFile": "k"})", "networks"},
      {R"({"networks": [], "signerKeyFile": "k"})", "networks"},
      {R"({"networks": {"eip155:1": 5}, "signerKeyFile": "k"})", "networks.eip155:1"},
      {with(kGood, R"("name": "settle")", R"("name": "gate-eu")"), "clients[1].name"},
      {with(kGood, R"("name": "settle")", R"("name": "")"), "clients[1].name"},
      {with(kGood, R"("tokenFile": "settle.token", )", ""), "clients[1].tokenFile"},
      {with(kGood, R"("receivers": [])", R"("receivers": ["0x12"])"), "clients[1].receivers"},
      {with(kGood, R"("receivers": [])", R"("receivers": [7])"), "clients[1].receivers"},
      {with(kGood, R"("receivers": [])", R"("receivers": "0x3333333333333333333333333333333333333333")"),
       "clients[1].receivers"},
      {with(kGood, R"(, "receivers": [])", ""), "clients[1].receivers"},
      {R"({"networks": {"eip155:1": "http://n:1"}, "signerKeyFile": "k", "clients": []})", "clients"},
      {R"({"networks": {"eip155:1": "http://n:1"}, "signerKeyFile": "k", "clients": [5]})", "clients[0]"},
      {R"([1, 2])", "JSON object"},
      {"{", ""},
  };
  for (const auto& c : cases) {
    auto config = parse_facilitator_config(c.text);
    ASSERT_FALSE(config) << c.text;
    EXPECT_EQ(config.error().code, ErrorCode::invalid_config) << config.error().to_string();
    EXPECT_NE(config.error().detail.find(c.mentions), std::string::npos) << config.error().detail;
  }
}

TEST(FacilitatorConfig, LoadsAFileAndRefusesAMissingOne) {
  test::TempDir dir;
  const std::string path = dir.file("facilitator.json");
  std::ofstream(path) << kGood;
  auto c = load_facilitator_config(path);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->networks.size(), 2u);
  auto missing = load_facilitator_config(dir.file("nope.json"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::invalid_config);
  EXPECT_NE(missing.error().detail.find("nope.json"), std::string::npos);
}

// What a reload may change (the clients) is not named; every other change is, by its member's name
// in the file, and so is a change between clients and none (the API would open or close).
TEST(FacilitatorConfig, AReloadNamesTheMembersOnlyARestartChanges) {
  const auto running = parse_facilitator_config(kGood);
  ASSERT_TRUE(running) << running.error().to_string();
  const auto members = [&](const std::string& text) {
    auto next = parse_facilitator_config(text);
    EXPECT_TRUE(next) << text << ": " << next.error().to_string();
    return next ? members_needing_restart(*running, *next) : std::vector<std::string_view>{};
  };
  using Names = std::vector<std::string_view>;
  EXPECT_EQ(members(with(kGood, "\"settle.token\"", "\"rotated.token\"")), Names{});
  EXPECT_EQ(members(with(kGood, R"({"name": "settle", "tokenFile": "settle.token", "receivers": []})",
                         R"({"name": "new", "tokenFile": "new.token",
                             "receivers": ["0x6666666666666666666666666666666666666666"]})")),
            Names{});
  EXPECT_EQ(members(with(kGood, "http://127.0.0.1:8545", "http://127.0.0.1:9545")), Names{"networks"});
  const std::string factory = "0x5555555555555555555555555555555555555555";
  EXPECT_EQ(members(with(kGood, factory, "0x7777777777777777777777777777777777777777")), Names{"networks"});
  EXPECT_EQ(members(with(kGood, "\"maxFeePerGasGwei\": 300", "\"maxFeePerGasGwei\": 301, \"journal\": \"j.sqlite\"")),
            (Names{"journal", "maxFeePerGasGwei"}));
  const auto moved = parse_facilitator_config(with(kGood, "\"maxFeePerGasGwei\": 300",
                                                   "\"maxFeePerGasGwei\": 300, \"metricsListen\": \"127.0.0.1:9421\""));
  ASSERT_TRUE(moved) << moved.error().to_string();
  EXPECT_EQ(moved->metricsListen, "127.0.0.1:9421");
  EXPECT_EQ(members_needing_restart(*running, *moved), Names{"metricsListen"});
  const std::string open =
      R"({"networks": {"eip155:8453": "http://127.0.0.1:8545"}, "signerKeyFile": "facilitator.key"})";
  const auto without_clients = parse_facilitator_config(open);
  ASSERT_TRUE(without_clients) << without_clients.error().to_string();
  EXPECT_EQ(members_needing_restart(*running, *without_clients),
            (Names{"networks", "receiverAuthorizerKeyFile", "receiptTimeoutSeconds", "repriceAfterSeconds",
                   "maxFeePerGasGwei", "clients"}));
  const auto closed = parse_facilitator_config(
      with(open, R"("facilitator.key"})",
           R"("facilitator.key", "clients": [{"name": "g", "tokenFile": "g.token", "receivers": []}]})"));
  ASSERT_TRUE(closed) << closed.error().to_string();
  EXPECT_EQ(members_needing_restart(*without_clients, *closed), Names{"clients"});
  EXPECT_EQ(members_needing_restart(*closed, *without_clients), Names{"clients"});
}

}  // namespace
}  // namespace paychan::engine::facilitator
