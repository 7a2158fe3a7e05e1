// The gate's tests on a real chain: the test gate's routes and receiverAuthorizer (whose key the
// gate holds, gate_support.hpp) on the devnet's token, paying a receiver no other test uses, with
// paychan's facilitator (in-process, or over HTTP for a gate in another process).
#pragma once

#include <memory>

#include "engine/facilitator/facilitator_service.hpp"
#include "engine/http/server.hpp"
#include "client_chain_support.hpp"
#include "facilitator_support.hpp"

namespace paychan::engine::facilitator::test {

class GateChainTest : public FacilitatorChainTest {
 protected:
  static gate::GateConfig chain_config() { return client::test::test_config_on(*deployment_, fresh_receiver()); }
  // Payer `n` (1..kPayers) holds test tokens on the chain.
  static gate::test::TestAgent agent(const gate::GateConfig& config, std::uint8_t n, std::uint8_t salt) {
    return gate::test::TestAgent(key_from(n), config, salt);
  }
  // The facilitator's HTTP API on a loopback port; its base URL.
  std::string serve_facilitator_over_http() {
    service_ = std::make_unique<FacilitatorService>(*facilitator_, nullptr);  // open: the gate signs its own
    http::ServerOptions options;
    options.threads = 2;
    options.limits.max_body_bytes = protocol::kMaxFacilitatorRequestBytes;
    server_ = std::make_unique<http::HttpServer>(*service_, options);
    EXPECT_TRUE(server_->start());
    return "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->stop(std::chrono::seconds(1));
  }

 private:
  std::unique_ptr<FacilitatorService> service_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace paychan::engine::facilitator::test
