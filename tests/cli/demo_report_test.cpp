// The demo's pure parts: its reconciliation cannot pass when any one figure is off by one atomic
// unit, the table says which line disagrees, and the toy API's prices are as documented.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "demo/report.hpp"
#include "demo/toy_inference.hpp"

namespace paychan::cli::demo {
namespace {

// A run that adds up: 2 agents, 100 paid requests, 700,000 spent out of 1,000,000 deposited.
Figures consistent() {
  Figures f;
  f.network = "eip155:31337";
  f.agents = 2;
  f.requested = f.paid = f.gatePaid = 100;
  f.offeredPrice = kOfferedPrice;
  f.agentsCharged = f.agentsStoreCharged = f.gateCharged = f.claimedOnchain = 700'000;
  f.agentsDeposited = f.channelBalances = 1'000'000;
  f.leftInChannels = 300'000;
  f.channels = f.claimedChannels = 2;
  f.deposits = {2, 200'000};
  f.claims = {1, 60'000};
  f.sweep = {1, 60'000};
  f.transferGas = 34'185;
  f.before = {200'000'000, 0, 0};
  f.after = {199'000'000, 700'000, 300'000};
  return f;
}

std::string printed(const Figures& f) {
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  print_report(out, f, reconcile(f));
  std::fclose(out);
  std::string s(text, size);
  std::free(text);
  return s;
}

TEST(DemoReport, AConsistentRunReconciles) {
  const Figures f = consistent();
  const auto checks = reconcile(f);
  for (const auto& c : checks) EXPECT_TRUE(c.ok()) << c.what;
  EXPECT_TRUE(all_reconciled(f, checks));
  const std::string table = printed(f);
  EXPECT_NE(table.find("RECONCILED: every figure agrees"), std::string::npos) << table;
  EXPECT_EQ(table.find("MISMATCH"), std::string::npos) << table;
}

TEST(DemoReport, OneAtomicUnitAnywhereBreaksIt) {
  Uint128 Figures::*amounts[] = {&Figures::agentsCharged, &Figures::agentsStoreCharged, &Figures::agentsDeposited,
                                 &Figures::gateCharged,   &Figures::claimedOnchain,     &Figures::channelBalances,
                                 &Figures::leftInChannels};
  for (auto member : amounts) {
    Figures f = consistent();
    f.*member += 1;
    EXPECT_FALSE(all_reconciled(f, reconcile(f))) << "a changed amount went unnoticed";
  }
  Uint128 Holdings::*holdings[] = {&Holdings::agents, &Holdings::payTo, &Holdings::contract};
  for (auto member : holdings) {
    Figures before = consistent();
    before.before.*member += 1;
    EXPECT_FALSE(all_reconciled(before, reconcile(before)));
    Figures after = consistent();
    after.after.*member += 1;
    EXPECT_FALSE(all_reconciled(after, reconcile(after)));
  }
  Figures f = consistent();
  f.gatePaid -= 1;
  EXPECT_FALSE(all_reconciled(f, reconcile(f)));
}

TEST(DemoReport, AnIncompleteRunDoesNotReconcile) {
  Figures unpaid = consistent();
  unpaid.requested += 1;  // a request that never got paid
  EXPECT_FALSE(all_reconciled(unpaid, reconcile(unpaid)));
  Figures refused = consistent();
  refused.settleErrors.push_back("sweep refused");
  EXPECT_FALSE(all_reconciled(refused, reconcile(refused)));
  Figures unswept = consistent();
  unswept.sweep = {};
  EXPECT_FALSE(all_reconciled(unswept, reconcile(unswept)));
  Figures stopped = consistent();
  stopped.agentErrors.push_back("0xabc: HTTP 503");
  EXPECT_FALSE(all_reconciled(stopped, reconcile(stopped)));
}

TEST(DemoReport, TheTableNamesTheLineThatDisagrees) {
  Figures f = consistent();
  f.after.payTo -= 1;
  const std::string table = printed(f);
  const auto line = table.find("provider: payTo's balance increase");
  ASSERT_NE(line, std::string::npos) << table;
  const std::string row = table.substr(line, table.find('\n', line) - line);
  EXPECT_NE(row.find("699,999  MISMATCH (expected 700,000)"), std::string::npos) << row;
  EXPECT_NE(table.find("NOT RECONCILED"), std::string::npos);
  // Gas per request as exact tenths: (200,000 + 60,000 + 60,000) / 100.
  EXPECT_NE(table.find("3,200.0"), std::string::npos) << table;
}

TEST(DemoToyApi, PricesGrowWithThePromptUpToTheOffer) {
  EXPECT_EQ(toy_price(0), 4'000u);
  EXPECT_EQ(toy_price(1), 5'000u);
  EXPECT_EQ(toy_price(5), 9'000u);
  EXPECT_EQ(toy_price(6), kOfferedPrice);
  EXPECT_EQ(toy_price(1'000'000), kOfferedPrice);
  EXPECT_EQ(toy_request(0), R"({"prompt":"why"})");
  EXPECT_EQ(toy_request(12), R"({"prompt":"why is the"})");  // 12 mod 10 + 1 words
}

}  // namespace
}  // namespace paychan::cli::demo
