// Wire compatibility, agent side: the reference x402 client (npm @x402/fetch + @x402/evm
// batch-settlement) pays a paychan gate — deposit, then vouchers — and both sides agree on every
// total. The gate runs in this process (facilitator double); the client is node.
#if defined(PAYCHAN_NODE) && defined(PAYCHAN_SOURCE_DIR)
#include <gtest/gtest.h>

#include "child_process.hpp"
#include "gate_stack.hpp"

namespace paychan::engine::gate::test {
namespace {

TEST(StockClient, PaysThePaychanGate) {
  GateConfig config = test_config();
  config.routes[0].minDeposit = 30'000;  // three prices, below the client's own five
  config.enforceMinDeposit = true;
  GateStack stack(config);
  const std::string key = "0x1100000000000000000000000000000000000000000000000000000000000005";  // test_key(5)
  auto run = run_command({PAYCHAN_NODE, std::string(PAYCHAN_SOURCE_DIR) + "/tests/interop/stock_client_pays.mjs",
                          stack.url("/v1/infer"), "12", key});
  ASSERT_EQ(run.status, 0) << run.err << run.out;
  ASSERT_NE(run.out.find("{\"done\":12}"), std::string::npos) << run.out << run.err;
  // Each line: 200 with the gate's PAYMENT-RESPONSE as the reference client decoded it.
  std::size_t lines = 0, pos = 0;
  for (std::size_t next; (next = run.out.find('\n', pos)) != std::string::npos; pos = next + 1) {
    const std::string line = run.out.substr(pos, next - pos);
    if (line.find("\"done\"") != std::string::npos) break;
    ++lines;
    EXPECT_NE(line.find("\"status\":200"), std::string::npos) << line;
    EXPECT_NE(line.find("\"chargedAmount\":\"10000\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"chargedCumulativeAmount\":\"" + std::to_string(10'000 * lines) + "\""), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 12u);
  EXPECT_EQ(stack.gate->totals().open, 1u);
  Uint128 charged = 0;
  stack.gate->channels().for_each([&](const ChannelState& s) { charged += s.chargedCumulativeAmount; });
  EXPECT_EQ(charged, Uint128{120'000});
  // The reference client deposits the offer's minDeposit rather than its own five prices (which
  // would take requests 1, 6 and 11): three prices, topped up as it runs out (1, 4, 7, 10).
  EXPECT_EQ(stack.metrics.deposits.load(), 4u);
}

}  // namespace
}  // namespace paychan::engine::gate::test
#endif
