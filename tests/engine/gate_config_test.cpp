// The gate's configuration file: what it accepts, and a clear invalid_config for what it does not.
#include <gtest/gtest.h>

#include <functional>

#include "engine/gate/gate_config.hpp"
#include "engine/gate/gate_runtime.hpp"
#include "engine/gate/offers.hpp"

namespace paychan::engine::gate {
namespace {

const std::string kGood = R"({
  "network": "eip155:84532",
  "asset": {"address": "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "name": "USDC", "version": "2"},
  "payTo": "0x1111111111111111111111111111111111111111",
  "receiverAuthorizer": "0x2222222222222222222222222222222222222222",
  "facilitator": "http://127.0.0.1:4021",
  "routes": [
    {"method": "POST", "path": "/v1/chat", "price": "$0.01", "description": "chat"},
    {"path": "/data/*", "price": "500"}
  ]
})";

std::string with(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(GateConfig, ReadsPricesDefaultsAndRoutes) {
  auto c = parse_gate_config(kGood);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->chainId, 84532u);
  EXPECT_EQ(c->routes[0].price, 10'000u);  // $0.01 at 6 decimals
  EXPECT_EQ(c->routes[1].price, 500u);
  EXPECT_EQ(c->routes[1].method, "");
  EXPECT_EQ(c->withdrawDelay, 86'400u);
  EXPECT_EQ(c->listen, "127.0.0.1:8402");
  EXPECT_EQ(c->upstreamTimeoutSeconds, 300u);
  EXPECT_EQ(parse_gate_config(with(kGood, "\"facilitator\"",
                                   "\"maxTimeoutSeconds\": 900, \"upstreamTimeoutSeconds\": 899, \"facilitator\""))
                ->upstreamTimeoutSeconds,
            899u);
  EXPECT_EQ(parse_gate_config(with(kGood, "\"facilitator\"", "\"maxTimeoutSeconds\": 10, \"facilitator\""))
                ->upstreamTimeoutSeconds,
            10u)
      << "the default stays within the offer's timeout";
  EXPECT_EQ(parse_gate_config(with(kGood, "\"facilitator\"", "\"withdrawalSafetyMarginSeconds\": 200, \"facilitator\""))
                ->upstreamTimeoutSeconds,
            100u)
      << "the default stays within half the margin";
  const auto shortest = parse_gate_config(with(kGood, "\"facilitator\"", "\"withdrawDelay\": 900, \"facilitator\""));
  ASSERT_TRUE(shortest) << "the contract's shortest delay works with the defaults: " << shortest.error().to_string();
  EXPECT_EQ(shortest->withdrawalSafetyMarginSeconds, 450u) << "by default half the delay when that is less than 900";
  EXPECT_EQ(c->withdrawalSafetyMarginSeconds, 900u);

  const auto offers = OfferTable::build(*c);
  EXPECT_EQ(offers.find("POST", "/v1/chat"), &offers.offers()[0]);
  EXPECT_EQ(offers.find("GET", "/v1/chat"), nullptr);
  EXPECT_EQ(offers.find("GET", "/data/x/y"), &offers.offers()[1]);
  EXPECT_EQ(offers.find("GET", "/free"), nullptr);
  EXPECT_EQ(offers.offers()[0].requirements.asset, "0x036CbD53842c5426634e7929541eC2318f3dCF7e");
}

TEST(GateConfig, RefusesWhatWouldMisbehave) {
  const std::pair<std::string, std::string> bad[] = {
      {"\"eip155:84532\"", "\"base\""},
      {"\"$0.01\"", "\"$0.0000001\""},  // finer than the token's 6 decimals (it would round to zero)
      {"\"$0.01\"", "\"$0.0100001\""},  // ditto (it would round down to $0.01 without a word)
      {"\"$0.01\"", "\"-5\""},
      {"\"500\"", "500"},
      {"\"/data/*\"", "\"data\""},
      {"\"0x2222222222222222222222222222222222222222\"", "\"0x0000000000000000000000000000000000000000\""},
      {"\"facilitator\"", "\"withdrawDelay\": 10, \"facilitator\""},
      {R"("routes": [
    {"method": "POST", "path": "/v1/chat", "price": "$0.01", "description": "chat"},
    {"path": "/data/*", "price": "500"}
  ])", R"("routes": [])"},
      {"\"name\": \"USDC\", ", ""},
      {"\"0x1111111111111111111111111111111111111111\"", "\"0x0000000000000000000000000000000000000000\""},
      {"\"facilitator\"", "\"maxTimeoutSeconds\": 0, \"facilitator\""},
      {"\"facilitator\"", "\"upstreamTimeoutSeconds\": 0, \"facilitator\""},
      {"\"facilitator\"", "\"upstreamTimeoutSeconds\": 900, \"facilitator\""},  // not below the margin
      {"\"facilitator\"", "\"upstreamTimeoutSeconds\": 301, \"facilitator\""},  // above maxTimeoutSeconds
      {"\"facilitator\"", "\"maxRequestBodyBytes\": 0, \"facilitator\""},
      {"\"facilitator\"", "\"maxRequestBodyBytes\": 1073741825, \"facilitator\""},
      // The gate's own endpoints, in any spelling: a price there would never be asked.
      {"\"/data/*\"", "\"/metrics\""},
      {"\"/data/*\"", "\"/Healthz/\""},
      {"\"facilitator\"", "\"publicScheme\": \"ftp\", \"facilitator\""},
      // A mirror trusted that long could miss a withdrawal until it is inside the margin.
      {"\"facilitator\"", "\"withdrawDelay\": 1800, \"withdrawalSafetyMarginSeconds\": 900, "
                           "\"onchainStateTtlSeconds\": 900, \"facilitator\""},
  };
  for (const auto& [from, to] : bad) {
    auto c = parse_gate_config(with(kGood, from, to));
    ASSERT_FALSE(c) << to;
    EXPECT_EQ(c.error().code, ErrorCode::invalid_config) << to;
  }
  EXPECT_TRUE(parse_gate_config(with(kGood, "\"facilitator\"",
                                    "\"withdrawDelay\": 1800, \"withdrawalSafetyMarginSeconds\": 900, "
                                    "\"onchainStateTtlSeconds\": 899, \"facilitator\"")))
      << "a mirror trusted for less than withdrawDelay - margin is fine";
  EXPECT_FALSE(parse_gate_config("{"));
  EXPECT_FALSE(load_gate_config("/nonexistent/gate.json"));
}

// paychan gate's --upstream, --listen and --metrics-listen set their members before the file's rules
// are applied: --metrics-listen frees /metrics for a route as "metricsListen" does.
TEST(GateConfig, TheCommandLinesMembersAreSetBeforeTheFileIsChecked) {
  const std::string metrics_route = with(kGood, "\"/data/*\"", "\"/metrics\"");
  auto refused = parse_gate_config(metrics_route);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("routes[1].path"), std::string::npos) << refused.error().detail;

  auto moved = parse_gate_config(metrics_route, {"http://127.0.0.1:9", "127.0.0.1:8402", "127.0.0.1:9402"});
  ASSERT_TRUE(moved) << moved.error().detail;
  EXPECT_EQ(moved->routes[1].path, "/metrics");
  EXPECT_EQ(moved->upstream, "http://127.0.0.1:9");
  EXPECT_EQ(moved->listen, "127.0.0.1:8402");
  EXPECT_EQ(moved->metricsListen, "127.0.0.1:9402");

  EXPECT_FALSE(parse_gate_config(metrics_route, {std::nullopt, "127.0.0.1:8402", std::nullopt}))
      << "only a /metrics port of its own frees the path";

  // paychan settle reads the file its gate runs, without the gate's flags.
  GateConfigOverrides settle;
  settle.serving = false;
  EXPECT_TRUE(parse_gate_config(metrics_route, settle));
  EXPECT_FALSE(parse_gate_config(with(kGood, "\"/data/*\"", "\"/healthz\""), settle)) << "/healthz is every gate's";
}

// An offer asks for a smallest deposit (extra.minDeposit): the route's, else ten prices, as the
// reference server's default. Enforcing it is the gate's choice, off unless asked for.
TEST(GateConfig, AnOfferAnnouncesItsMinimumDeposit) {
  auto c = parse_gate_config(with(kGood, R"("price": "500"})", R"("price": "500", "minDeposit": "$0.25"})"));
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_FALSE(c->enforceMinDeposit);
  EXPECT_EQ(c->routes[1].minDeposit, Uint128{250'000});
  const auto offers = OfferTable::build(*c);
  EXPECT_EQ(offers.offers()[0].minDeposit, 100'000u) << "ten prices of $0.01";
  EXPECT_EQ(offers.offers()[1].minDeposit, 250'000u);
  EXPECT_FALSE(offers.offers()[1].enforceMinDeposit);
  EXPECT_NE(offers.offers()[0].requirements.extra.text().find(R"("minDeposit":"100000")"), std::string::npos)
      << offers.offers()[0].requirements.extra.text();
  EXPECT_EQ(protocol::batch_settlement_extra(offers.offers()[1].requirements)->minDeposit, Uint128{250'000});

  auto enforced = parse_gate_config(with(kGood, "\"facilitator\"", "\"enforceMinDeposit\": true, \"facilitator\""));
  ASSERT_TRUE(enforced) << enforced.error().to_string();
  EXPECT_TRUE(OfferTable::build(*enforced).offers()[0].enforceMinDeposit);

  for (const char* bad : {R"("minDeposit": "499")", R"("minDeposit": "0")", R"("minDeposit": 1000)",
                          R"("minDeposit": "$0.0000001")"}) {
    auto refused = parse_gate_config(with(kGood, R"("price": "500"})", std::string(R"("price": "500", )") + bad + "}"));
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().detail.find("minDeposit"), std::string::npos) << refused.error().detail;
  }
  EXPECT_FALSE(parse_gate_config(with(kGood, "\"facilitator\"", "\"enforceMinDeposit\": 1, \"facilitator\"")));
}

// A token without ERC-3009 takes deposits through Permit2: asset.transferMethod "permit2" puts
// extra.assetTransferMethod in every offer. "eip3009" is the default, left out of the offer as the
// reference server leaves it; anything else is refused by name.
TEST(GateConfig, AnAssetWithoutErc3009OffersPermit2Deposits) {
  const auto method_of = [](const GateConfig& c) {
    return protocol::batch_settlement_extra(OfferTable::build(c).offers()[0].requirements)->assetTransferMethod;
  };
  auto plain = parse_gate_config(kGood);
  ASSERT_TRUE(plain);
  EXPECT_EQ(method_of(*plain), std::nullopt);
  auto named = parse_gate_config(with(kGood, R"("version": "2")", R"("version": "2", "transferMethod": "eip3009")"));
  ASSERT_TRUE(named) << named.error().to_string();
  EXPECT_EQ(method_of(*named), std::nullopt);
  auto permit2 = parse_gate_config(with(kGood, R"("version": "2")", R"("version": "2", "transferMethod": "permit2")"));
  ASSERT_TRUE(permit2) << permit2.error().to_string();
  EXPECT_EQ(method_of(*permit2), std::optional<std::string>{"permit2"});
  // A Permit2 token needs no EIP-712 domain of its own; an ERC-3009 one does.
  auto bare = parse_gate_config(with(kGood, R"("name": "USDC", "version": "2")", R"("transferMethod": "permit2")"));
  ASSERT_TRUE(bare) << bare.error().to_string();
  EXPECT_EQ(OfferTable::build(*bare).offers()[0].requirements.extra.text().find("\"name\""), std::string::npos);
  EXPECT_FALSE(parse_gate_config(with(kGood, R"("name": "USDC", "version": "2")", R"("transferMethod": "eip3009")")));
  auto other = parse_gate_config(with(kGood, R"("version": "2")", R"("version": "2", "transferMethod": "permit3")"));
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().detail.find("transferMethod"), std::string::npos) << other.error().detail;
}

// A route whose method no request carries would leave its path free: a method is one of HTTP's,
// in any case (a config's "post" is POST), or absent for every method.
TEST(GateConfig, ARouteMethodIsAnHttpMethodInAnyCaseOrAbsent) {
  auto lower = parse_gate_config(with(kGood, "\"POST\"", "\"post\""));
  ASSERT_TRUE(lower) << lower.error().to_string();
  EXPECT_EQ(lower->routes[0].method, "POST");
  EXPECT_NE(OfferTable::build(*lower).find("POST", "/v1/chat"), nullptr);
  for (const char* bad : {"\"FETCH\"", "\"PO ST\"", "\"POST \"", "\"\""}) {
    auto c = parse_gate_config(with(kGood, "\"POST\"", bad));
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code, ErrorCode::invalid_config);
    EXPECT_NE(c.error().detail.find("routes[0].method"), std::string::npos) << c.error().detail;
  }
}

// A configuration built in code (a provider embedding the gate) is held to the file's rules:
// check_gate_config, which GateRuntime::start runs before it opens anything.
TEST(GateConfig, OneBuiltInCodeIsCheckedAsAFileIs) {
  const GateConfig good = *parse_gate_config(kGood);
  EXPECT_TRUE(check_gate_config(good));
  const auto refused = [&](const std::function<void(GateConfig&)>& change, const std::string& member) {
    GateConfig c = good;
    change(c);
    const Status checked = check_gate_config(c);
    ASSERT_FALSE(checked) << member;
    EXPECT_EQ(checked.error().code, ErrorCode::invalid_config);
    EXPECT_EQ(checked.error().detail.rfind(member + ": ", 0), 0u) << checked.error().detail;
    auto started = GateRuntime::start(c);
    ASSERT_FALSE(started) << member;
    EXPECT_EQ(started.error().detail, checked.error().detail);
  };
  refused([](GateConfig& c) { c.routes[0].method = "PSOT"; }, "routes[0].method");
  RouteConfig lower_get = good.routes[0];
  lower_get.method = "get";  // code-built: a file's is upper-cased as it is read
  EXPECT_TRUE(lower_get.takes("HEAD")) << "HEAD on a GET route would go free";
  refused([](GateConfig& c) { c.routes[1].price = 0; }, "routes[1].price");
  refused([](GateConfig& c) { c.routes[1].path = "/metrics"; }, "routes[1].path");
  refused([](GateConfig& c) {
    c.routes[1].path = "/healthz";
    c.metricsListen = "127.0.0.1:9402";
  }, "routes[1].path");
  GateConfig metrics_apart = good;
  metrics_apart.metricsListen = "127.0.0.1:9402";
  metrics_apart.routes[1].path = "/metrics";
  EXPECT_TRUE(check_gate_config(metrics_apart)) << "/metrics is the API's once metricsListen moves it";
  refused([](GateConfig& c) {
    c.routes[1] = c.routes[0];
    c.routes[1].path = "/v1/Chat";
  }, "routes[1].path");
  refused([](GateConfig& c) { c.routes.clear(); }, "routes");
  refused([](GateConfig& c) { c.chainId = 1; }, "network");
  refused([](GateConfig& c) { c.payTo = Address{}; }, "payTo");
  refused([](GateConfig& c) { c.upstreamTimeoutSeconds = c.withdrawalSafetyMarginSeconds; }, "upstreamTimeoutSeconds");
}

// A '*' inside a path, or a query, would be matched literally: the paths meant would go free.
TEST(GateConfig, ARoutePathTakesAStarOnlyAtItsEndAndNoQuery) {
  for (const char* path : {"/v1/*/generate", "/v1/*x", "/data/*?x=1", "/data?x=1", "/data#top"}) {
    auto c = parse_gate_config(with(kGood, "/data/*", path));
    ASSERT_FALSE(c) << path;
    EXPECT_NE(c.error().detail.find("routes[1].path"), std::string::npos) << c.error().detail;
  }
  EXPECT_TRUE(parse_gate_config(with(kGood, "/data/*", "/data*")));
}

// Two routes matching the same requests (paths compare in any spelling): the second would never
// be reached, its price ignored.
TEST(GateConfig, ARouteMatchingTheSameRequestsAsAnEarlierOneIsRefused) {
  for (const char* path : {"/V1/Chat", "/v1/chat/", "/v1//chat"}) {
    auto c = parse_gate_config(with(kGood, R"({"path": "/data/*", "price": "500"})",
                                    std::string(R"({"method": "POST", "path": ")") + path + R"(", "price": "500"})"));
    ASSERT_FALSE(c) << path;
    EXPECT_NE(c.error().detail.find("matches the same requests as routes[0]"), std::string::npos) << c.error().detail;
  }
  EXPECT_TRUE(parse_gate_config(with(kGood, R"({"path": "/data/*", "price": "500"})",
                                     R"({"method": "GET", "path": "/v1/chat", "price": "500"})")))
      << "another method is another route";
  // A route for every method, then one for GET (or HEAD after GET) on the same path: never reached.
  const std::string every = with(kGood, R"({"method": "POST", "path": "/v1/chat", "price": "$0.01", "description": "chat"})",
                                 R"({"path": "/v1/chat", "price": "$0.01"})");
  EXPECT_FALSE(parse_gate_config(with(every, R"({"path": "/data/*", "price": "500"})",
                                      R"({"method": "GET", "path": "/v1/chat", "price": "500"})")));
  const std::string get = with(kGood, R"("method": "POST")", R"("method": "GET")");
  EXPECT_FALSE(parse_gate_config(with(get, R"({"path": "/data/*", "price": "500"})",
                                      R"({"method": "HEAD", "path": "/v1/chat", "price": "500"})")));
  EXPECT_TRUE(parse_gate_config(with(kGood, R"({"path": "/data/*", "price": "500"})",
                                     R"({"path": "/v1/chat", "price": "500"})")))
      << "a route for every method after a POST one still takes the other methods";
}

TEST(GateConfig, AMisspeltMemberIsNamedNotIgnored) {
  // An optional member spelt wrong would otherwise leave its default in place without a word.
  const std::pair<std::string, std::string> misspelt[] = {
      {"\"facilitator\"", "\"facilitatorToken\": \"t\", \"facilitator\""},
      {"\"name\": \"USDC\"", "\"name\": \"USDC\", \"decimal\": 6"},
      {"\"description\": \"chat\"", "\"descripton\": \"chat\""},
  };
  for (const auto& [from, to] : misspelt) {
    auto c = parse_gate_config(with(kGood, from, to));
    ASSERT_FALSE(c) << to;
    EXPECT_EQ(c.error().code, ErrorCode::invalid_config);
    EXPECT_NE(c.error().detail.find("is not a member this input takes"), std::string::npos) << c.error().detail;
  }
  auto token =
      parse_gate_config(with(kGood, "\"facilitator\"", "\"facilitatorTokenFile\": \"gate.token\", \"facilitator\""));
  ASSERT_TRUE(token) << token.error().to_string();
  EXPECT_EQ(token->facilitatorTokenFile, std::optional<std::string>{"gate.token"});
}

// What a reload may change (routes, enforceMinDeposit, facilitatorTokenFile) is not named; every other change is, by
// its member's name in the file, so that the operator knows what waits for a restart.
TEST(GateConfig, AReloadNamesTheMembersOnlyARestartChanges) {
  const auto running = parse_gate_config(kGood);
  ASSERT_TRUE(running) << running.error().to_string();
  const auto members = [&](const std::string& from, const std::string& to) {
    auto next = parse_gate_config(with(kGood, from, to));
    EXPECT_TRUE(next) << to << ": " << next.error().to_string();
    return next ? members_needing_restart(*running, *next) : std::vector<std::string_view>{};
  };
  using Names = std::vector<std::string_view>;
  EXPECT_EQ(members("\"price\": \"$0.01\"", "\"price\": \"$0.02\""), Names{});
  EXPECT_EQ(members("{\"path\": \"/data/*\", \"price\": \"500\"}", "{\"path\": \"/new\", \"price\": \"1\"}"), Names{});
  EXPECT_EQ(members("\"routes\"", "\"enforceMinDeposit\": true, \"routes\""), Names{});
  EXPECT_EQ(members("0x1111111111111111111111111111111111111111", "0x3333333333333333333333333333333333333333"),
            Names{"payTo"});
  EXPECT_EQ(members("\"version\": \"2\"", "\"version\": \"3\""), Names{"asset"});
  EXPECT_EQ(members("\"routes\"", "\"listen\": \"127.0.0.1:9\", \"store\": \"other.sqlite\", \"routes\""),
            (Names{"store", "listen"}));
  EXPECT_EQ(members("\"routes\"", "\"facilitatorTokenFile\": \"t\", \"routes\""), Names{});
  EXPECT_EQ(members("\"routes\"", "\"withdrawDelay\": 3600, \"publicScheme\": \"https\", \"routes\""),
            (Names{"withdrawDelay", "publicScheme"}));
  EXPECT_EQ(members("eip155:84532", "eip155:8453"), Names{"network"});
}

}  // namespace
}  // namespace paychan::engine::gate
