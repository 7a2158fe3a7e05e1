// paychan demo — the README's first command: the whole system on a local chain, with figures.
#include <csignal>

#include "channel/amount.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "demo/run_demo.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kHelp = R"(usage: paychan demo [--requests N] [--agents N] [--batch-size N]

Runs paychan end to end on a local chain, with nothing to configure, and exits 0 only if every
figure reconciles to the atomic unit:

  1. starts anvil (the project's npm copy, or $PAYCHAN_ANVIL), deploys the batch-settlement
     contract and its ERC-3009 collector at their canonical addresses and a test USDC, and mints
     test USDC to fresh agent keys (the agents hold no ether: they never send a transaction);
  2. starts paychan's facilitator in-process (its signer an anvil dev account; it is also the
     receiverAuthorizer the provider delegates claims to) and a gate on 127.0.0.1 in front of a
     built-in toy inference endpoint, POST /v1/infer, offered at $0.01 per call — short prompts
     cost less, reported with Settlement-Overrides (dynamic pricing);
  3. runs the agents concurrently: each opens a channel with an ERC-3009 deposit (relayed by the
     facilitator), then signs one voucher per request, topping up once on the way;
  4. stops the gate and runs the operator's settle job: claimWithSignature batches through the
     facilitator, then the settle sweep to the provider's payTo;
  5. prints the figures: requests, vouchers verified and µs per check (the gate's histogram),
     deposits, claim and settle transactions, gas per channel and per request next to one ERC-20
     transfer per request (measured on the same chain), test USDC balances before and after; and
     checks that the agents' spend = the provider's income (gate store = claimed on chain = payTo's
     gain) = the on-chain movement (agents' loss − what is left in their channels).

Progress goes to stderr, the table to stdout. Every process and file the demo starts is gone
when it exits (Ctrl-C included).

Options:
  --requests N     paid requests in all, shared among the agents (default 2000)
  --agents N       concurrent agents, one channel each (default 4, at most 64)
  --batch-size N   claims per claim transaction (default 100)

Exit status: 0 reconciled, 1 a figure did not reconcile or a payment, claim or sweep failed,
2 the demo could not start (e.g. no anvil or no compiled contracts: build the `paychan` target),
130 interrupted by Ctrl-C (the report covers what was paid until then; nothing is claimed).

  paychan demo
  paychan demo --requests 5000 --agents 16 --batch-size 5
)";

std::atomic<bool> g_stop{false};

void on_stop_signal(int) { g_stop.store(true); }

Result<std::uint64_t> bounded(const Args& args, std::string_view name, std::uint64_t fallback, std::uint64_t max) {
  const auto text = args.option(name);
  if (!text) return fallback;
  auto n = parse_uint128(*text);
  if (!n || *n == 0 || *n > max)
    return fail(ErrorCode::invalid_config, "--" + std::string{name} + " must be 1.." + std::to_string(max));
  return static_cast<std::uint64_t>(*n);
}

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"requests", "agents", "batch-size"};
  auto args = parse_command(argv, known);
  if (!args) return report("demo", args.error());
  demo::DemoOptions options;
  auto requests = bounded(*args, "requests", options.requests, 1'000'000);
  auto agents = bounded(*args, "agents", options.agents, 64);
  auto batch = bounded(*args, "batch-size", options.batchSize, 1000);
  for (const auto* r : {&requests, &agents, &batch})
    if (!*r) return report("demo", r->error());
  options.requests = *requests;
  options.agents = static_cast<std::size_t>(*agents);
  options.batchSize = static_cast<std::size_t>(*batch);
  if (options.requests < options.agents)
    return report("demo", Error{ErrorCode::invalid_config, "--requests must be at least --agents"});

  // Ctrl-C lets the agents stop and the demo clean up (anvil, temporary files) before exiting.
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return demo::run_demo(options, g_stop);
}

}  // namespace

extern const Command kDemo{"demo", "run the whole system on a local chain and reconcile every figure", kHelp, run};

}  // namespace paychan::cli
