// The options every agent command shares (`paychan pay`, `channels`, `refund`, `withdraw`): where
// the agent's state lives, its keys, its spending policy, and the chain it may read and write.
#pragma once

#include <chrono>

#include <memory>
#include <string>

#include "cli.hpp"
#include "file_lock.hpp"
#include "engine/client/payment_client.hpp"

namespace paychan::cli {

// The option names, for parse_command's list of known options.
inline constexpr std::string_view kClientOptionNames[] = {
    "state", "key-file", "key-env", "authorizer-key-file", "max-price", "max-deposit", "budget", "network", "deposit-requests", "rpc"};

inline constexpr std::string_view kClientOptionsHelp = R"(Agent options (shared by pay, channels, refund, withdraw):
  --state FILE             the agent's channel store (default $PAYCHAN_STATE, else ~/.paychan/agent.sqlite);
                           one process at a time uses it (another waits up to 30 s); several
                           payer keys may share it, each seeing and budgeting its own channels
  --key-file FILE          the payer's key (mode 0600); or --key-env VAR; default $PAYCHAN_KEY
  --authorizer-key-file F  a separate key that signs vouchers (the channel's payerAuthorizer)
  --max-price P            refuse offers above P per request (default $0.10)
  --max-deposit D          deposit at most D at a time (default $1.00)
  --budget B               never sign vouchers for more than B in all, over every channel: what
                           providers can claim (default $5.00). Deposits are not spent: they stay
                           the payer's until charged, come back by refund or withdrawal, and are
                           bounded by --max-deposit instead
  --network N              only pay on network N, e.g. eip155:8453 (repeatable; default: any)
  --deposit-requests N     a deposit covers N requests at the offered price (default 100), or the
                           offer's minDeposit if that is more; either is capped at --max-deposit
  --rpc URL                the chain's JSON-RPC endpoint (default $PAYCHAN_RPC): pay then finds its
                           channels on chain after a lost store, checks on chain a server's word
                           that a channel is short of funds before depositing more (without
                           --rpc, such deposits are made on the server's word only until one is
                           confirmed, and again once it has charged that deposit's worth), and
                           starts a withdrawal when a server breaks the rules; withdraw needs it.
                           The payer's key pays the gas.
Amounts: atomic units ("10000") or dollars ("$0.01", for a 6-decimal token such as USDC).
)";

struct AgentSetup {
  // First, so that it is released last: the store is closed before another process may open it
  // (unless the command lets it go early: pay, once it has recorded its answer's charge).
  FileLock lock;
  std::unique_ptr<persistence::ClientStore> store;
  engine::client::ClientKeys keys;
  engine::client::ClientPolicy policy;
  std::string state_path;
  std::shared_ptr<engine::client::ChannelChain> chain;  // with --rpc; null without
};

// Whether a command talks to the chain: `channels` and `refund` never do (a node that is down or
// slow must not stop them), `pay` does when --rpc is given, `withdraw` always.
enum class ChainUse { none, when_configured };

// Whether the command may create the agent's store: `pay` does; `channels` only reads one, and a
// store it created at a mistyped path would answer "no channels" as if that were so.
enum class StoreUse { create, existing };

// `store_wait`: how long to wait, saying so on stderr, while another process holds the agent's
// store (another `pay` until its answer's head is in; its body does not hold the store).
// Errors: invalid_payload / invalid_config naming the option; store_failed when the store stays held.
[[nodiscard]] Result<AgentSetup> agent_setup(const Args& args, ChainUse chain, StoreUse store = StoreUse::create,
                                             std::chrono::seconds store_wait = std::chrono::seconds(30));

}  // namespace paychan::cli
