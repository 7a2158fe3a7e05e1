// paychan refund — a cooperative refund of what is left in one of the agent's channels.
#include <iostream>

#include "channel/hex.hpp"
#include "client_options.hpp"
#include "commands.hpp"
#include "protocol/price.hpp"

namespace paychan::cli {
namespace {

namespace http = engine::http;

constexpr std::string_view kHelp = R"(usage: paychan refund CHANNEL_ID [--amount A] [--accept-provider-state] [agent options]

Asks the provider that opened CHANNEL_ID (see `paychan channels`) for a cooperative refund: the
agent signs a zero-charge voucher at its running total; the provider claims what it earned and
returns the rest (or A of it) on chain in the same transaction. Prints the settlement as JSON:
{"transaction", "amount", "network"}. Exit status 1 when the provider refuses or cannot carry the
refund out now (the reason on stderr). Without the provider's cooperation, a timed withdrawal is
the way out: `paychan withdraw`.
--accept-provider-state: as for `paychan pay` (a state file restored from a backup).

  paychan refund 0x5f3c…e1 --key-file agent.key                  # everything not yet charged
  paychan refund 0x5f3c…e1 --key-file agent.key --amount '$0.50'

)";

int run(std::span<char* const> argv) {
  std::vector<std::string_view> known{std::begin(kClientOptionNames), std::end(kClientOptionNames)};
  known.insert(known.end(), {"amount", "accept-provider-state"});
  const std::string_view flags[] = {"accept-provider-state"};
  auto args = parse_command(argv, known, flags, 1);
  if (!args) return report("refund", args.error());
  if (args->positional().size() != 1) return report("refund", Error{ErrorCode::invalid_payload, "CHANNEL_ID expected"});
  auto id = fixed_from_hex<32>(args->positional()[0]);
  if (!id) return report("refund", id.error());
  std::optional<Uint128> amount;
  if (auto a = args->option("amount")) {
    auto v = protocol::parse_exact_price(*a, 6);
    if (!v) return report("refund", Error{ErrorCode::invalid_payload, "--amount " + *a + ": " + v.error().detail});
    if (*v == 0) return report("refund", Error{ErrorCode::invalid_payload, "--amount must be positive"});
    amount = *v;
  }
  auto setup = agent_setup(*args, ChainUse::none);
  if (!setup) return report("refund", setup.error());
  engine::client::ClientOptions options;
  options.policy = setup->policy;
  options.acceptProviderState = args->has("accept-provider-state");
  http::BlockingHttpClient http;
  engine::client::PaymentClient client(setup->keys, options, *setup->store, http);
  auto refunded = client.refund(*id, amount);
  if (!refunded) {
    std::cerr << "paychan refund: " << refunded.error().to_string() << '\n';
    return refunded.error().code == ErrorCode::invalid_payload ? kExitUsage : kExitNo;
  }
  std::cout << "{\"transaction\":\"" << refunded->transaction << "\",\"amount\":\"" << refunded->amount.value_or("")
            << "\",\"network\":\"" << refunded->network << "\"}\n";
  return kExitOk;
}

}  // namespace

extern const Command kRefund{"refund", "refund what is left in one of the agent's channels (cooperative)", kHelp, run,
                             kClientOptionsHelp};

}  // namespace paychan::cli
