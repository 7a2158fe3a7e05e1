// paychan facilitator — verifies and settles batch-settlement payments on EVM chains for gates and
// other x402 servers: the x402 facilitator API over HTTP, a transaction journal underneath.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "channel/address.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "file_lock.hpp"
#include "service_options.hpp"
#include "engine/facilitator/facilitator_runtime.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kHelp =
    R"(usage: paychan facilitator --config FILE [--listen HOST:PORT] [--metrics-listen HOST:PORT]
                           [--threads N]

Runs an x402 facilitator for the batch-settlement scheme on EVM chains. Servers (a paychan gate,
or any x402 server) send it the payments they cannot finish alone, and the on-chain work:

  POST /verify     deposit, voucher or refund payload → {isValid, invalidReason?, payer, extra}
                   where extra is the channel's on-chain snapshot (balance, totalClaimed,
                   withdrawRequestedAt, refundNonce)
  POST /settle     deposit  → deposit(config, amount, ERC-3009 or Permit2 collector, authorization)
                   claim    → claimWithSignature(claims, sig) (or claim() as the receiver side)
                   settle   → settle(receiver, token): sweeps claimed funds to the receiver
                   refund   → [claim +] refundWithSignature, one transaction
                   → {success, transaction, network, amount, extra.channelState}
  GET  /supported  networks, the receiverAuthorizer servers may delegate to, signer addresses
  GET  /healthz    "ok": the process serves (a liveness probe)
  GET  /readyz     "ready", or 503 naming each network whose node does not answer eth_chainId as
                   it should within 2s (a readiness probe; the nodes are asked at most once a second)
  GET  /metrics    Prometheus text: answers by endpoint and outcome, their latency, 401s,
                   transactions pending; wants a client's token when there are clients, unless
                   --metrics-listen moves it to a port of its own (then none here)

Each action is checked (the scheme's verification rules), simulated (a revert is answered with the
contract's reason), signed, written to the journal, sent, and its receipt awaited. The journal
keys every transaction by what it settles — a deposit's ERC-3009 nonce (or its payer's Permit2
nonce), a claim's rows, a receiver's claimed and settled totals, a refund's nonce — so a /settle
retried after a timeout or a crash gets the first attempt's outcome, never a second transaction
while the first can still be mined (a sweep retried once its transfer is mined is a new sweep:
nothing to settle, unless more was claimed meanwhile). A transaction that reverted did nothing:
the next /settle for its action is simulated afresh. On start, each node must answer with its
network's chain id, or the facilitator does not start; a deposit collector deployed there for
another batch-settlement contract (or, the Permit2 collector, another Permit2) than the configured
one is a warning on stderr, naming the deposits it breaks. Then transactions a crash left pending
are resolved by their receipts (the same signed bytes are sent again if the node lost them).

Options:
  --config FILE        the facilitator's JSON configuration (below); required
  --listen HOST:PORT   where to listen: an IP address or localhost (overrides "listen"; default
                       127.0.0.1:4021)
  --metrics-listen HOST:PORT
                       serve /metrics (and /healthz) there instead, to any caller: e.g.
                       127.0.0.1:9421 for a Prometheus on the same host, which then needs no
                       client entry (overrides "metricsListen")
  --threads N          HTTP worker threads (default: one per core)

Configuration (relative file paths, the default journal's too, are taken from the working
directory; a service manager's may not be yours, so give absolute ones there):
  {
    "networks": {
      "eip155:8453": "http://127.0.0.1:8545",     CAIP-2 network → its node's JSON-RPC URL
      "eip155:31337": {"rpc": "http://127.0.0.1:8546",
                       "batchSettlement": "0x…", "erc3009Collector": "0x…",
                       "permit2Collector": "0x…", "permit2": "0x…",
                       "multicall3": "0x…"}      (contracts at non-canonical addresses)
      "eip155:84532": {"rpc": "http://…",
                       "eip6492AllowedFactories": ["0x…"]}
                                                  smart-wallet factories this facilitator may
                                                  call, at its own gas, for a deposit from a
                                                  wallet not deployed yet (ERC-6492)
    },
    "signerKeyFile": "facilitator.key",           sends the transactions and pays their gas
    "receiverAuthorizerKeyFile": "authorizer.key", optional: advertised in /supported; signs
                                                  claims and refunds for servers that use its
                                                  address as their receiverAuthorizer (needs clients)
    "clients": [                                  optional: the servers allowed to call /verify and
      {"name": "gate-eu",                         /settle, each known by a bearer token
       "tokenFile": "gate-eu.token",              (`paychan key token --out FILE`)
       "receivers": ["0x…"]}                      the payTo addresses this client may have the
    ],                                            receiverAuthorizer key sign claims and refunds for
                                                  (channels delegating to the key are refused to a
                                                  client without their receiver)
    "journal": "paychan-facilitator.sqlite",
    "listen": "127.0.0.1:4021",
    "metricsListen": "127.0.0.1:9421",            (optional) /metrics on a port of its own, open:
                                                  bind it where only your scraper reaches
    "receiptTimeoutSeconds": 60,                  how long /settle waits for a receipt before
                                                  answering *_wait_for_receipt_failed (a retry
                                                  picks up the same transaction)
    "maxFeePerGasGwei": 200,                      (optional) no transaction offers more per gas:
                                                  while the network asks more, /settle refuses
                                                  new actions (retry later) and a replacement waits
    "repriceAfterSeconds": 60                     a transaction unmined this long while the fee
                                                  quote has risen above what it offers is sent
                                                  again, same nonce, with the quote's fees (at
                                                  least 12.5 % more); checked while a /settle waits
                                                  for the receipt, and by retries and recovery
  }
Key files hold one 0x-prefixed hex key and must not be readable by group or others
(`paychan key new --out facilitator.key` makes one); token files likewise, with at least 32
characters (`paychan key token --out gate-eu.token`).

Wallets not deployed yet: a smart wallet may sign its deposit before it exists, wrapping the
signature with its factory's call (ERC-6492). Such a deposit is refused
(eip6492_factory_not_allowed) unless the network lists the factory in "eip6492AllowedFactories"
(none by default, as the reference facilitator). Listed, the factory call, the new wallet's check
of the signature (EIP-1271) and the deposit are simulated together, then the factory call and the
deposit are sent in one transaction through Multicall3's aggregate3 (at its canonical address on
nearly every chain; "multicall3" names another): the wallet is deployed only with its deposit, and
only when it is the payer's. The facilitator pays the gas, up to an estimate of 1,000,000 for the
two (smart_wallet_deployment_failed above it). Any payer can so have it deploy a wallet of an
allowed factory with a deposit, which costs a few times a plain deposit's gas and which the payer
can later withdraw: list factories only where that cost is acceptable. Such a channel needs a
payerAuthorizer (a session key): a wallet cannot sign vouchers before it exists.

Clients: with "clients", /verify and /settle answer 401 (facilitator_unauthorized) unless the
request carries `Authorization: Bearer <token>` with a client's token; /supported, /healthz and
/readyz stay open. A paychan gate and its settle job send it from "facilitatorTokenFile" in the gate's
configuration; a reference x402 server from its HTTPFacilitatorClient's createAuthHeaders.
Without "clients" the API is open to whoever can connect, so it only relays what servers and
payers signed themselves: a receiverAuthorizer key is then refused, because it would sign a refund
for anyone who asks, and a refund hands back what the server charged but has not claimed yet.
Tokens travel in clear over plain HTTP: outside one host, put the facilitator behind TLS.

SIGHUP reloads the configuration file (with the same --listen and --metrics-listen): its clients
change at once — added, removed, token files read again (a leaked token is revoked without a
restart), receivers changed; requests already authenticated finish as they began. A file that fails
its checks, a client whose token file is unreadable or weak, or a change to anything else (networks,
keys, journal, listen..., or clients where there were none or none where there were some: the API
would open or close; the log names them) is refused whole, and the facilitator serves on as before.
Key files are read at start only (a key rewritten in place needs a restart). A gate reads its
facilitatorTokenFile again at its own SIGHUP, and sends a new token once this facilitator takes it:
to rotate a client's token, reload here first, then the gate. A --config that is a pipe is read
once, at start. Under nohup, a closed terminal reloads the file, as a SIGHUP does.

Stops gracefully on SIGINT or SIGTERM: no new connections; requests in progress get up to
receiptTimeoutSeconds and 5s more to finish (a claim waits that long for its receipt); a second
signal closes them at once. A request cut short loses nothing: its transaction is journaled, and
asking again (the settle job's next run resends its batch) or the next start finds its outcome.
Exit status: 0 after a clean stop, 2 for a bad configuration, an unreachable node, a port that
cannot be bound, or another facilitator running on the same journal (JOURNAL.lock).

  paychan key new --out facilitator.key
  paychan facilitator --config facilitator.json
)";

// Test-only fault injection for the crash tests (tests/engine/facilitator_crash_test.cpp): with
// PAYCHAN_FACILITATOR_FAULT=exit-after-journal, exit-after-broadcast or
// exit-after-replacement-journal the process _exits at that instant of its first transaction (or
// first replacement), as kill -9 would, so a test can restart it there.
engine::facilitator::Fault fault_from_environment() {
  const char* v = std::getenv("PAYCHAN_FACILITATOR_FAULT");
  const std::string_view value = v == nullptr ? "" : v;
  if (value == "exit-after-journal") return engine::facilitator::Fault::exit_after_journal;
  if (value == "exit-after-broadcast") return engine::facilitator::Fault::exit_after_broadcast;
  if (value == "exit-after-replacement-journal") return engine::facilitator::Fault::exit_after_replacement_journal;
  return engine::facilitator::Fault::none;
}

// The command line's addresses, over the file's.
struct ListenOptions {
  std::optional<std::string> listen;
  std::optional<std::string> metrics_listen;
};

// The file with the command line's addresses over its members, if given.
Result<engine::facilitator::FacilitatorConfig> load_config(const std::string& file, const ListenOptions& options) {
  auto config = engine::facilitator::load_facilitator_config(file);
  if (config && options.listen) config->listen = *options.listen;
  if (config && options.metrics_listen) config->metricsListen = *options.metrics_listen;
  return config;
}

// SIGHUP: the file read again with the command line's addresses, and its clients applied.
void reload(const std::string& file, const ListenOptions& listen, engine::facilitator::FacilitatorRuntime& runtime) {
  reload_config("facilitator", file, [&]() -> Result<std::string> {
    PAYCHAN_ASSIGN(const auto next, load_config(file, listen));
    PAYCHAN_ASSIGN(const bool changed, runtime.reload(next));
    if (next.clients.empty()) return std::string(": open to any caller, as before");
    return ": " + std::to_string(next.clients.size()) + " client(s)" + (changed ? "" : ", their tokens unchanged");
  });
}

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"config", "listen", "metrics-listen", "threads"};
  auto args = parse_command(argv, known);
  if (!args) return report("facilitator", args.error());
  const auto file = args->option("config");
  if (!file) return report("facilitator", Error{ErrorCode::invalid_config, "--config FILE is required (see --help)"});
  const ListenOptions listen{args->option("listen"), args->option("metrics-listen")};
  auto config = load_config(*file, listen);
  if (!config) return report("facilitator", config.error());
  engine::facilitator::FacilitatorRuntimeOptions options;
  options.fault = fault_from_environment();
  auto threads = threads_option(*args);
  if (!threads) return report("facilitator", threads.error());
  if (*threads) options.threads = **threads;

  // One facilitator a journal: a second would resend the first's pending transactions as its own,
  // and two processes sending from one signer race for its nonces.
  auto lock = FileLock::take(config->journal + ".lock", "another paychan facilitator on this journal");
  if (!lock) return report("facilitator", lock.error());

  // Signals are taken by sigwait below: blocked before the workers start, so every thread inherits the mask.
  const sigset_t stop_signals = block_stop_and_reload_signals();
  keep_freed_heap("facilitator");

  auto runtime = engine::facilitator::FacilitatorRuntime::start(*config, options);
  if (!runtime) return report("facilitator", runtime.error());
  const auto& recovered = (*runtime)->recovered();
  std::fprintf(stderr,
               "paychan facilitator: listening on %s (port %u), %zu network(s), %s, signer %s, journal %s "
               "(recovered: %zu resolved, %zu dropped or reverted, %zu still pending)\n",
               config->listen.c_str(), static_cast<unsigned>((*runtime)->port()), config->networks.size(),
               config->clients.empty() ? "open to any caller"
                                       : (std::to_string(config->clients.size()) + " client(s)").c_str(),
               to_checksum_hex((*runtime)->facilitator().signer()).c_str(),
               std::filesystem::absolute(config->journal).c_str(),
               recovered.resolved, recovered.dropped, recovered.unresolved);
  if ((*runtime)->metrics_port() != 0)
    std::fprintf(stderr, "paychan facilitator: /metrics on %s (port %u), for any caller there; not on the API's port\n",
                 config->metricsListen.c_str(), static_cast<unsigned>((*runtime)->metrics_port()));
  announce_port((*runtime)->port());

  const int signal = wait_for_stop(stop_signals, [&] { reload(*file, listen, **runtime); });
  // A request in progress may be a claim waiting up to receiptTimeoutSeconds for its receipt: the
  // grace lets it have its answer.
  const std::chrono::seconds grace(config->receiptTimeoutSeconds + 5);
  std::fprintf(stderr, "paychan facilitator: %s received, stopping (requests in progress get up to %llds; again to close them at once)\n",
               stop_signal_name(signal), static_cast<long long>(grace.count()));
  const std::size_t cut = stop_unless_signalled_again(
      stop_signals, "facilitator", [&] { return (*runtime)->stop(grace); }, [&] { (*runtime)->end_grace(); });
  std::fprintf(stderr, "paychan facilitator: stopped; %zu connections still open at the end of the grace, closed "
                       "(a transaction they asked for is journaled: asking again, or the next start, finds its outcome)\n", cut);
  return kExitOk;
}

}  // namespace

extern const Command kFacilitator{"facilitator", "verify and settle batch-settlement payments on chain (x402 facilitator)",
                                  kHelp, run};

}  // namespace paychan::cli
