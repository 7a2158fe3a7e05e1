// Listen addresses, and the listener that serves /metrics apart from an API (metricsListen).
#include "engine/metrics_listener.hpp"

#include <gtest/gtest.h>

#include "http_test_support.hpp"

namespace paychan::engine {
namespace {

TEST(MetricsListener, ListenAddresses) {
  EXPECT_EQ(parse_listen("127.0.0.1:8402")->second, 8402);
  EXPECT_EQ(parse_listen("[::1]:80")->first, "::1");
  EXPECT_EQ(parse_listen("localhost:8402")->first, "127.0.0.1");
  EXPECT_FALSE(parse_listen("8402"));
  EXPECT_FALSE(parse_listen("host:99999"));
  EXPECT_FALSE(parse_listen("host:80x"));
}

TEST(MetricsListener, MetricsListenIsAnAddressOfItsOwn) {
  const ListenAddress api{"127.0.0.1", 8402};
  EXPECT_EQ(parse_metrics_listen("", api).value(), std::nullopt);
  EXPECT_EQ(parse_metrics_listen("127.0.0.1:9402", api).value(), (ListenAddress{"127.0.0.1", 9402}));
  const auto same = parse_metrics_listen("localhost:8402", api);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, ErrorCode::invalid_config);
  EXPECT_NE(same.error().detail.find("give /metrics a port of its own"), std::string::npos) << same.error().detail;
  EXPECT_TRUE(parse_metrics_listen("127.0.0.1:0", ListenAddress{"127.0.0.1", 0}));  // two ports the system picks
  const auto broken = parse_metrics_listen("9402", api);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().detail.rfind("metricsListen: ", 0), 0u) << broken.error().detail;
}

// What its answer takes is served; anything else is 404, naming what the port serves.
TEST(MetricsListener, ServesItsAnswerAnd404Otherwise) {
  auto listener = MetricsListener::start({"127.0.0.1", 0}, [](http::Exchange& ex) {
    if (ex.request().path() != "/metrics") return false;
    ex.response().set(200, "text/plain", "up 1\n");
    return true;
  });
  ASSERT_TRUE(listener) << listener.error().to_string();
  http::test::RawClient client{(*listener)->port()};
  client.send(http::test::get("/metrics"));
  auto metrics = client.read_response();
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->result_int(), 200u);
  EXPECT_EQ(metrics->body(), "up 1\n");
  client.send(http::test::get("/v1/infer"));
  auto other = client.read_response();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->result_int(), 404u);
  EXPECT_NE(other->body().find("this port serves GET /metrics"), std::string::npos) << other->body();
  (*listener)->stop();
}

}  // namespace
}  // namespace paychan::engine
