// paychan channels — the agent's channels: what it deposited, what it was charged, what is left.
#include <iostream>

#include "channel/hex.hpp"
#include "client_options.hpp"
#include "commands.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kHelp = R"(usage: paychan channels [agent options]

Lists the agent's channels from its store, one JSON object per line:
  {"channelId", "network", "receiver", "url", "deposited", "balance", "charged", "signedMax",
   "reserved", "pendingDeposit", "withdrawAmount", "withdrawInitiatedAt",
   "status": "open" | "closed" | "withdrawing" | "suspended: REASON"}
then a summary line {"signedTotal", "reservedTotal", "budget", "remainingBudget"}. Amounts are
atomic units. "signedMax" is the highest voucher signed: what the provider can claim on chain.
"withdrawAmount" is a timed withdrawal started on chain (`paychan withdraw`), finalizable the
channel's withdrawDelay after "withdrawInitiatedAt" (unix seconds; 0 while it is being sent).
"reserved" is the ceiling the agent recorded ahead of its vouchers (so that it writes to disk
once per up to 256 vouchers, not per voucher); the budget counts it, and a crash never loses it.

  paychan channels --key-file agent.key --state agent.sqlite
  paychan channels --key-file agent.key | grep '"status":"open"'   # the channels still open

)";

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

int run(std::span<char* const> argv) {
  auto args = parse_command(argv, kClientOptionNames);
  if (!args) return report("channels", args.error());
  auto setup = agent_setup(*args, ChainUse::none, StoreUse::existing);
  if (!setup) return report("channels", setup.error());
  auto channels = setup->store->list();
  if (!channels) return report("channels", channels.error());
  const Address payer = setup->keys.payer.address();
  Uint128 signed_total = 0, reserved_total = 0;
  std::size_t others = 0;
  for (const auto& c : *channels) {
    if (c.config.payer != payer) {
      ++others;
      continue;
    }
    signed_total += c.signedMax;
    reserved_total += std::max(c.signedMax, c.reserved);
    const std::string status = c.closed                 ? "closed"
                               : !c.suspended.empty()    ? "suspended: " + c.suspended
                               : c.withdrawAmount != 0   ? "withdrawing"
                                                         : "open";
    std::cout << "{\"channelId\":\"" << to_hex(c.channelId) << "\",\"network\":" << json_string(c.network)
              << ",\"receiver\":\"" << to_checksum_hex(c.config.receiver) << "\",\"url\":" << json_string(c.url)
              << ",\"deposited\":\"" << to_decimal(c.deposited) << "\",\"balance\":\"" << to_decimal(c.balance)
              << "\",\"charged\":\"" << to_decimal(c.charged) << "\",\"signedMax\":\"" << to_decimal(c.signedMax)
              << "\",\"reserved\":\"" << to_decimal(c.reserved) << "\",\"pendingDeposit\":\"" << to_decimal(c.pendingDeposit)
              << "\",\"withdrawAmount\":\"" << to_decimal(c.withdrawAmount) << "\",\"withdrawInitiatedAt\":" << c.withdrawInitiatedAt
              << ",\"status\":" << json_string(status)
              << "}\n";
  }
  const Uint128 budget = setup->policy.budget;
  std::cout << "{\"signedTotal\":\"" << to_decimal(signed_total) << "\",\"reservedTotal\":\"" << to_decimal(reserved_total)
            << "\",\"budget\":\"" << to_decimal(budget) << "\",\"remainingBudget\":\""
            << to_decimal(budget > reserved_total ? budget - reserved_total : 0) << "\"}\n";
  if (others != 0)
    std::cerr << "paychan channels: " << others << " channel(s) of other payer keys in this store are not listed\n";
  return kExitOk;
}

}  // namespace

extern const Command kChannels{"channels", "list the agent's channels: deposited, charged, remaining budget", kHelp, run,
                               kClientOptionsHelp};

}  // namespace paychan::cli
