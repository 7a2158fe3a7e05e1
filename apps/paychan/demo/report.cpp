#include "demo/report.hpp"

#include "protocol/price.hpp"

namespace paychan::cli::demo {
namespace {

constexpr unsigned kDecimals = 6;  // test USDC

// a − b, or 0 when b > a (which then fails the check it is part of, unless the other side is 0 too).
Uint128 minus(Uint128 a, Uint128 b) { return a > b ? a - b : 0; }

// 1234567 → "1,234,567".
std::string grouped(Uint128 v) {
  const std::string digits = to_decimal(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// `text` followed by spaces up to `width` characters on screen (printf's %-Ns counts bytes, and
// labels here hold multi-byte characters such as Σ and −).
std::string padded(std::string_view text, std::size_t width) {
  std::size_t shown = 0;
  for (const char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++shown;  // not a UTF-8 continuation byte
  return std::string{text} + std::string(shown < width ? width - shown : 0, ' ');
}

std::string usd(Uint128 v) { return protocol::format_price(v, kDecimals); }

std::string change(Uint128 before, Uint128 after) {
  return after >= before ? "+" + usd(after - before) : "-" + usd(before - after);
}

// total / n with one decimal, grouped: "1,234.5" (exact: rounded down to the tenth).
std::string per(std::uint64_t total, std::uint64_t n) {
  if (n == 0) return "-";
  const Uint128 tenths = Uint128{total} * 10 / n;
  return grouped(tenths / 10) + "." + std::to_string(static_cast<unsigned>(tenths % 10));
}

void action_row(std::FILE* out, const char* name, const OnchainAction& a, std::size_t channels, std::uint64_t requests) {
  std::fprintf(out, "  %s %6s %13s", padded(name, 34).c_str(), grouped(a.transactions).c_str(), grouped(a.gas).c_str());
  if (channels > 0)
    std::fprintf(out, " %12s", grouped(a.gas / channels).c_str());
  else
    std::fprintf(out, " %12s", "");
  std::fprintf(out, " %12s\n", per(a.gas, requests).c_str());
}

}  // namespace

std::vector<Check> reconcile(const Figures& f) {
  const Uint128 spend = f.agentsCharged;
  return {
      {"agents' stores: Σ channels' charged", f.agentsStoreCharged, spend},
      {"provider: gate store's Σ charged", f.gateCharged, spend},
      {"provider: claimed on chain (Σ totalClaimed)", f.claimedOnchain, spend},
      {"provider: payTo's balance increase", minus(f.after.payTo, f.before.payTo), spend},
      {"chain: agents' decrease − left in channels", minus(minus(f.before.agents, f.after.agents), f.leftInChannels), spend},
      {"escrow: contract's increase = left in channels", minus(f.after.contract, f.before.contract), f.leftInChannels},
      {"deposits: agents' stores = channel balances", f.agentsDeposited, f.channelBalances},
      {"requests: gate's paid = agents' paid", f.gatePaid, f.paid},
  };
}

bool all_reconciled(const Figures& f, const std::vector<Check>& checks) {
  for (const auto& c : checks)
    if (!c.ok()) return false;
  return f.paid == f.requested && f.agentErrors.empty() && f.settleErrors.empty() && f.claims.transactions > 0 &&
         f.sweep.transactions > 0;
}

void print_report(std::FILE* out, const Figures& f, const std::vector<Check>& checks) {
  const double seconds = static_cast<double>(f.agentsTime.count()) / 1000.0;
  std::fprintf(out, "\npaychan demo: %zu agents paying a toy inference API on a local chain (%s), %s offered per call\n\n",
               f.agents, f.network.c_str(), usd(f.offeredPrice).c_str());

  std::fprintf(out, "  requests paid                      %s of %s in %.1f s (%.0f per second, each charge on disk first)\n", grouped(f.paid).c_str(),
               grouped(f.requested).c_str(), seconds, seconds > 0 ? static_cast<double>(f.paid) / seconds : 0.0);
  std::fprintf(out, "    charged less than offered        %s (Settlement-Overrides from the API)\n",
               grouped(f.chargedLess).c_str());
  std::fprintf(out, "  vouchers verified by the gate      %s, %.1f µs per check (digest + signature + rules; gate histogram)\n",
               grouped(f.localChecks).c_str(),
               f.localChecks == 0 ? 0.0 : static_cast<double>(f.localCheckTime.count()) / 1000.0 / static_cast<double>(f.localChecks));
  std::fprintf(out, "  payloads verified via facilitator  %s (deposits and top-ups: checked on chain)\n",
               grouped(f.facilitatorChecks).c_str());
  std::fprintf(out, "  channels                           %s, %s deposited by the agents (ERC-3009, relayed)\n",
               grouped(f.channels).c_str(), usd(f.agentsDeposited).c_str());
  std::fprintf(out, "  settle job                         %.1f s\n\n", static_cast<double>(f.settleTime.count()) / 1000.0);

  std::fprintf(out, "  %-34s %6s %13s %12s %12s\n", "on chain", "txs", "gas", "gas/channel", "gas/request");
  action_row(out, "deposits (+ top-ups)", f.deposits, f.channels, f.paid);
  action_row(out, "claims (claimWithSignature)", f.claims, f.claimedChannels, f.paid);
  action_row(out, "settle (sweep to payTo)", f.sweep, 0, f.paid);
  const OnchainAction all{f.deposits.transactions + f.claims.transactions + f.sweep.transactions,
                          f.deposits.gas + f.claims.gas + f.sweep.gas};
  action_row(out, "all of paychan's transactions", all, f.channels, f.paid);
  const OnchainAction transfers{f.paid, f.transferGas * f.paid};
  action_row(out, "vs one ERC-20 transfer per request", transfers, 0, f.paid);
  if (all.gas > 0 && f.claims.transactions > 0)  // without its claims, the comparison flatters
    std::fprintf(out, "  → %.0f× less gas than a transfer per request\n",
                 static_cast<double>(transfers.gas) / static_cast<double>(all.gas));

  std::fprintf(out, "\n  %-34s %16s %16s %16s\n", "test USDC", "before", "after", "change");
  const auto holding = [&](const std::string& who, Uint128 before, Uint128 after) {
    std::fprintf(out, "  %s %16s %16s %16s\n", padded(who, 34).c_str(), usd(before).c_str(), usd(after).c_str(),
                 change(before, after).c_str());
  };
  holding("agents (" + std::to_string(f.agents) + ")", f.before.agents, f.after.agents);
  holding("provider (payTo)", f.before.payTo, f.after.payTo);
  holding("batch-settlement contract", f.before.contract, f.after.contract);

  std::fprintf(out, "\n  reconciliation (atomic units)\n");
  std::fprintf(out, "  %s %16s\n", padded("agents' spend (clients' charged totals)", 48).c_str(),
               grouped(f.agentsCharged).c_str());
  for (const auto& c : checks) {
    std::fprintf(out, "  %s %16s  %s", padded(c.what, 48).c_str(), grouped(c.left).c_str(), c.ok() ? "ok" : "MISMATCH");
    if (!c.ok()) std::fprintf(out, " (expected %s)", grouped(c.right).c_str());
    std::fprintf(out, "\n");
  }
  std::fprintf(out, "  %s %16s\n", padded("left in channels (the agents' to refund)", 48).c_str(),
               grouped(f.leftInChannels).c_str());
  for (const auto& e : f.agentErrors) std::fprintf(out, "  agent stopped: %s\n", e.c_str());
  for (const auto& e : f.settleErrors) std::fprintf(out, "  settle: %s\n", e.c_str());
  std::fprintf(out, "\n  %s (%.1f s in all)\n",
               f.interrupted                ? "INTERRUPTED: the figures cover what was paid before Ctrl-C; nothing was claimed"
               : all_reconciled(f, checks) ? "RECONCILED: every figure agrees"
                                           : "NOT RECONCILED: see above",
               static_cast<double>(f.totalTime.count()) / 1000.0);
  std::fflush(out);
}

}  // namespace paychan::cli::demo
