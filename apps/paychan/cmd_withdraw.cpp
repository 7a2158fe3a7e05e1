// paychan withdraw — the agent's timed withdrawal: take a deposit back without the provider.
#include <iostream>

#include "channel/hex.hpp"
#include "client_options.hpp"
#include "commands.hpp"
#include "engine/client/withdrawal.hpp"

namespace paychan::cli {
namespace {

namespace client = engine::client;

constexpr std::string_view kHelp = R"(usage: paychan withdraw CHANNEL_ID|URL --rpc URL [--finalize] [agent options]

Takes the agent's deposit back from a channel without the provider's help: the scheme's timed
withdrawal, in two steps on chain.

  1. paychan withdraw CHANNEL_ID --rpc URL
     sends initiateWithdraw for everything the provider has not claimed yet. From then on the
     agent signs nothing more on the channel. The provider may still claim the vouchers it holds
     during the channel's withdrawDelay (15 minutes to 30 days, fixed when the channel opened):
     that delay is what makes the channel safe for the provider.
  2. paychan withdraw CHANNEL_ID --rpc URL --finalize
     after the delay, sends finalizeWithdraw: whatever is still unclaimed goes back to the payer.
     Asked too early it refuses and says when: "finalizable at 2025-05-01 12:15:00 UTC, in 840 s".

While the provider cooperates, `paychan refund` is quicker (one step, no delay). `paychan pay`
starts step 1 by itself when a provider breaks the rules and --rpc is given.

CHANNEL_ID is one of `paychan channels`; a URL instead selects every open channel the agent opened
with a request to that URL. The payer's key sends the transactions and needs gas on the channel's
chain. Each step reads the chain first, so running a step again is safe: a withdrawal already
pending is reported rather than sent twice, and one already finalized is recognized.

Prints one JSON object per channel on stdout, progress on stderr:
  step 1: {"channelId", "amount", "initiatedAt", "finalizableAt", "finalizableIn"}  (times: unix s)
  step 2: {"channelId", "withdrawn", "balance", "transaction"}
Exit status: 0 done, 1 refused (not finalizable yet, nothing pending, nothing left to withdraw,
a reverted transaction), 2 bad options, an unknown channel or an unreachable node.

  --rpc URL     the chain's JSON-RPC endpoint, e.g. http://127.0.0.1:8545 (default $PAYCHAN_RPC)
  --finalize    step 2

)";

int exit_code(const Error& e) {
  switch (e.code) {
    case ErrorCode::withdrawal_not_pending:
    case ErrorCode::withdrawal_not_finalizable:
    case ErrorCode::withdrawal_nothing_left:
    case ErrorCode::invalid_batch_settlement_evm_transaction_reverted:
      return kExitNo;
    default:
      return kExitUsage;
  }
}

// The payer's channels CHANNEL_ID|URL names. Errors: invalid_payload.
Result<std::vector<Bytes32>> select_channels(persistence::ClientStore& store, const std::string& target,
                                             const Address& payer) {
  if (!target.starts_with("http://") && !target.starts_with("https://")) {
    PAYCHAN_ASSIGN(const auto id, fixed_from_hex<32>(target));
    PAYCHAN_ASSIGN(const auto stored, store.get(id));
    if (stored) PAYCHAN_TRY(persistence::check_payer(*stored, payer));
    return std::vector<Bytes32>{id};
  }
  PAYCHAN_ASSIGN(const auto channels, store.list());
  std::vector<Bytes32> ids;
  for (const auto& ch : channels)
    if (!ch.closed && ch.url == target && ch.config.payer == payer) ids.push_back(ch.channelId);
  if (ids.empty())
    return fail(ErrorCode::invalid_payload, "no open channel was opened from " + target + " (see paychan channels)");
  return ids;
}

int run(std::span<char* const> argv) {
  std::vector<std::string_view> known{std::begin(kClientOptionNames), std::end(kClientOptionNames)};
  known.push_back("finalize");
  const std::string_view flags[] = {"finalize"};
  auto args = parse_command(argv, known, flags, 1);
  if (!args) return report("withdraw", args.error());
  if (args->positional().size() != 1)
    return report("withdraw", Error{ErrorCode::invalid_payload, "CHANNEL_ID or URL expected (see --help)"});
  auto setup = agent_setup(*args, ChainUse::when_configured);
  if (!setup) return report("withdraw", setup.error());
  if (!setup->chain)
    return report("withdraw", Error{ErrorCode::invalid_config, "--rpc URL is required: a withdrawal is a transaction on chain"});
  auto ids = select_channels(*setup->store, args->positional()[0], setup->keys.payer.address());
  if (!ids) return report("withdraw", ids.error());

  const client::StepLog progress = [](std::string_view line) { std::cerr << "* " << line << '\n'; };
  client::ChannelChain& chain = *setup->chain;
  int status = kExitOk;
  for (const Bytes32& id : *ids) {
    const std::string hex = to_hex(id);
    if (args->has("finalize")) {
      auto done = client::finalize_withdrawal(*setup->store, chain, id, progress);
      if (!done) {
        std::cerr << "paychan withdraw: " << hex << ": " << done.error().to_string() << '\n';
        status = std::max(status, exit_code(done.error()));
        continue;
      }
      std::cout << "{\"channelId\":\"" << hex << "\",\"withdrawn\":\"" << to_decimal(done->paidOut) << "\",\"balance\":\""
                << to_decimal(done->balance) << "\",\"transaction\":\"" << to_hex(done->transaction) << "\"}\n";
      continue;
    }
    auto started = client::initiate_withdrawal(*setup->store, chain, id, progress);
    if (!started) {
      std::cerr << "paychan withdraw: " << hex << ": " << started.error().to_string() << '\n';
      status = std::max(status, exit_code(started.error()));
      continue;
    }
    const auto now = chain.time();
    const std::uint64_t in = now && *now < started->finalizableAt ? started->finalizableAt - *now : 0;
    std::cout << "{\"channelId\":\"" << hex << "\",\"amount\":\"" << to_decimal(started->amount)
              << "\",\"initiatedAt\":" << started->initiatedAt << ",\"finalizableAt\":" << started->finalizableAt
              << ",\"finalizableIn\":" << in << "}\n";
    std::cerr << "* finalize after " << client::utc_time(started->finalizableAt) << " (in " << in
              << " s): paychan withdraw " << hex << " --rpc URL --finalize\n";
  }
  return status;
}

}  // namespace

extern const Command kWithdraw{"withdraw", "take a deposit back without the provider (timed withdrawal, two steps)", kHelp,
                               run, kClientOptionsHelp};

}  // namespace paychan::cli
