// paychan gate — the provider's reverse proxy: charges per request in front of any HTTP API.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "channel/amount.hpp"
#include "engine/gate/gate_runtime.hpp"
#include "protocol/price.hpp"
#include "service_options.hpp"

namespace paychan::cli {
namespace {

// What --example-config prints: valid JSON to start from. The two addresses only the provider can
// give are placeholders that the gate refuses, by name, until they are filled in.
constexpr std::string_view kExampleConfig = R"({
  "network": "eip155:84532",
  "asset": {"address": "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "name": "USDC", "version": "2", "decimals": 6},
  "payTo": "0x<the address your payments go to>",
  "receiverAuthorizer": "0x<the facilitator's: see its /supported>",
  "withdrawDelay": 86400,
  "facilitator": "http://127.0.0.1:4021",
  "store": "paychan-gate.sqlite",
  "listen": "127.0.0.1:8402",
  "metricsListen": "127.0.0.1:9402",
  "upstream": "http://127.0.0.1:8080",
  "routes": [
    {"method": "POST", "path": "/v1/chat", "price": "$0.01", "description": "chat completion"},
    {"path": "/data/*", "price": "$0.001"}
  ]
}
)";

constexpr std::string_view kHelp = R"(usage: paychan gate --config FILE [--upstream URL] [--listen HOST:PORT] [--threads N] [--access-log]
                   [--grace-seconds N] [--metrics-listen HOST:PORT]
       paychan gate --example-config > gate.json

Puts x402 batch-settlement payments in front of an HTTP API. A request to a priced route without
payment gets 402 with a PAYMENT-REQUIRED offer; a paid one (PAYMENT-SIGNATURE) is checked —
vouchers locally in microseconds, deposits and refunds through the facilitator — forwarded to the
upstream, charged, made durable, and answered with PAYMENT-RESPONSE. Unpriced paths are forwarded
free. A route matches every spelling of its path an upstream framework may route alike (any case,
a trailing or repeated slash, percent-escapes decoded once or twice, dot segments, ";params", a
".json"-like format suffix, trailing blanks, an absolute-form target), so none reaches the
upstream unpaid; a GET route also prices HEAD; an exact path comes first, then
the longest '*' prefix ('*' only at a path's end; no query), and a path read two ways pays the
dearer route. Channel state lives in a
SQLite file and survives restarts and crashes: each batch of charges is made durable in the log
beside it (STORE-vlog and STORE-vlog1, one fdatasync a batch), which the gate folds into the file
every second and when idle; "paychan settle" beside a busy gate sees vouchers up to a second old.
One gate per store.

The upstream may charge less than the route's price by answering with the header
  Settlement-Overrides: {"amount": "1234"}        (atomic units; also "50%" or "$0.004")
which the gate reads and strips (unreadable, above the price or sent twice: 502 and nothing charged,
the reason in the gate's log; in a trailer it is not read: a response's trailers are not passed
on); the upstream never sees a client's own Settlement-Overrides, nor its PAYMENT-SIGNATURE. A 3xx
is charged, as the reference's middleware does (a client that follows the redirect pays for its
target too): redirect before the gate, or leave such paths unpriced. An upstream status >= 400, or
no response head within upstreamTimeoutSeconds (504), charges nothing. A client that hangs up
before its answer is charged all the same: its voucher paid for the work, which was done (else
anyone could have it free, and replay the voucher, by hanging up). A streamed answer is charged as
its head goes out. A request naming another method in X-HTTP-Method-Override, X-HTTP-Method or
X-Method-Override, or in a _method field of its query or of a form or JSON body (as Rails,
Laravel and Symfony read it), is priced as the dearest of them; methods match in any case. A body
that may name one in a way the gate does not read (compressed; multipart holding "method", a
backslash or an encoded name; JSON it cannot parse) is priced as the dearest route on its path. A
request without payment that sends Expect: 100-continue gets its 402 at once, before its body.

Endpoints of the gate itself, free: GET /healthz, GET /metrics (Prometheus text: paid requests and
what they charged, for anyone who can reach the port unless --metrics-listen moves it; its unclaimed
amount follows the claims `paychan settle` records in the same store within 10 s, when the gate also
stops holding the channels settle deleted, spent and claimed; the log says when those cannot be
read, and when they can again).
Limits: request head 16 KiB (431), body maxRequestBodyBytes (413; 1 MiB by default), a request sent
within 10 s; a kept-alive connection idle for 30 s, or a client not reading its answer for 30 s, is
disconnected.

Options:
  --config FILE        the gate's JSON configuration (below); required
  --example-config     print a configuration to start from (USDC on Base Sepolia; fill in payTo and
                       receiverAuthorizer, which it leaves as placeholders the gate refuses)
  --upstream URL       http[s]://host:port[/prefix] of the API (overrides "upstream")
  --listen HOST:PORT   where to listen: an IP address or localhost (overrides "listen"; default
                       127.0.0.1:8402)
  --metrics-listen HOST:PORT
                       serve /metrics (and /healthz) there instead, e.g. 127.0.0.1:9402 for a
                       Prometheus on the same host (overrides "metricsListen"); on the API's port
                       /metrics is then an ordinary path of the API (a route may price it)
  --threads N          HTTP worker threads (default: one per core)
  --access-log         one logfmt line per paid request on stderr: status, outcome, refusal reason,
                       channel (id prefix), charge, µs — never keys or signatures; and one per
                       free request whose upstream failed. Without it, only the requests that need
                       you get that line: answers 502, 503 or 504 (the upstream, facilitator or
                       store failing) and payments the facilitator refused (a payTo or asset it
                       will not take shows there first); at most 50 of each kind per 10 s
  --grace-seconds N    on SIGINT or SIGTERM, how long requests in progress may take to finish
                       (default 10; 0..3600); connections still open then are closed

Configuration (amounts in atomic units or "$D.DD"; times in seconds; relative file paths, the
default store's too, are taken from the working directory, as for settle: cron's is $HOME, so give
absolute ones there):
  {
    "network": "eip155:8453",
    "asset": {"address": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "name": "USD Coin", "version": "2", "decimals": 6,
              "transferMethod": "eip3009"},   how deposits pull the token: "eip3009" (default; USDC
                                         and tokens like it), or "permit2" for a token without
                                         ERC-3009 (each payer approves Permit2 for it once)
    "payTo": "0x…",                      receiver of the channels
    "receiverAuthorizer": "0x…",         signs claims and refunds: the facilitator's (see its
                                         /supported) or your own, with
    "receiverAuthorizerKeyFile": "authorizer.key",   (optional, mode 0600)
    "withdrawDelay": 86400,              900..2592000
    "facilitator": "http://127.0.0.1:4021",   executes deposits and refunds (without one, the gate
                                         serves only channels already in its store); a warning
                                         at start-up when its /supported does not list
                                         batch-settlement on the gate's network
    "facilitatorTokenFile": "gate.token", (optional, mode 0600) the bearer token a facilitator with
                                         clients knows this gate by (see `paychan facilitator
                                         --help`); the settle job sends it too. At start-up
                                         the gate checks that the facilitator takes it (or
                                         needs none) and stops if not
    "store": "paychan-gate.sqlite",
    "listen": "127.0.0.1:8402",
    "metricsListen": "127.0.0.1:9402",   (optional) /metrics on a port of its own
    "upstream": "http://127.0.0.1:8080",
    "publicScheme": "http",              "https" behind a TLS terminator: the scheme of the offers'
                                         resource URLs and of the X-Forwarded-Proto sent upstream
    "maxRequestBodyBytes": 1048576,      the largest request body taken, free routes too (413
                                         beyond it; at most 1 GiB, each held in memory whole)
    "maxTimeoutSeconds": 300,            the offer's: how long a paid request may take
    "upstreamTimeoutSeconds": 300,       the longest wait for the upstream's response head, and the
                                         longest silence in a streamed body: below the margin
                                         and at most maxTimeoutSeconds (default 300, or half
                                         the margin or maxTimeoutSeconds if less)
    "onchainStateTtlSeconds": 300,       vouchers are checked locally while the channel's
                                         on-chain mirror is younger than this (below
                                         withdrawDelay - withdrawalSafetyMarginSeconds)
    "withdrawalSafetyMarginSeconds": 900, stop serving a channel this long before its
                                         withdrawal completes (the settle job claims it);
                                         below withdrawDelay (default: half of it if less)
    "enforceMinDeposit": false,          true: refuse a deposit below its route's minDeposit
                                         (402 invalid_batch_settlement_evm_deposit_below_min_deposit)
    "routes": [
      {"method": "POST", "path": "/v1/chat", "price": "$0.01", "description": "chat completion",
       "minDeposit": "$1.00"},           the smallest deposit the offer asks for (extra.minDeposit,
                                         at least the price; default ten prices): clients deposit
                                         at least this much, so a channel costs fewer deposits
      {"path": "/data/*", "price": "500"}      no "method": every method; "/data/*": /data and below
    ]
  }

SIGHUP reloads the configuration file (with the same options): its routes (paths, prices,
descriptions, minDeposit) and enforceMinDeposit change at once, without dropping a connection;
requests already matched finish on their old offer, and a client paying an offer that changed gets
402 with the new one. facilitatorTokenFile is read again: a new token (the file rewritten, or
another named) is sent from then on if the facilitator takes it (unchecked, with a warning, if it
cannot be asked); one it refuses refuses the whole reload. So a token rotates without a restart when
the facilitator gets it first (its own SIGHUP). A file that fails its checks, or that changes
anything else (payTo, asset, store, listen...: named in the log), is refused whole and the gate
serves on as before; the key file is read at start only, and a --config that is a pipe once. The log
says what it did, and lists the routes it now serves. Under nohup, a closed terminal reloads the
file, as a SIGHUP does: the gate goes on.

Stops gracefully on SIGINT or SIGTERM: no new connections; requests in progress get --grace-seconds
to finish (a second signal ends the grace at once); the connections still open then are closed, and
counted in the last log line (a request among them not yet answered is not charged; a stream
already begun was charged at its head). Every charge taken is on disk. HTTP/1.1 requests need
exactly one Host header (RFC 9112), health probes too.
Exit status: 0 after a clean stop, 2 for a bad configuration or a port that cannot be bound (also
one another process listens on).

  paychan gate --config gate.json --upstream http://127.0.0.1:8080
  kill -HUP <its pid>                      # after editing gate.json's prices
)";

// Each price as its offer carries it: a wrong asset "decimals" shows here, not in the first bills.
void print_routes(const engine::gate::GateConfig& config) {
  for (const auto& route : config.routes)
    std::fprintf(stderr, "paychan gate: route %s %s: %s atomic units a request (%s at the asset's %u decimals)\n",
                 route.method.empty() ? "(any method)" : route.method.c_str(), route.path.c_str(),
                 to_decimal(route.price).c_str(), protocol::format_price(route.price, config.assetDecimals).c_str(),
                 config.assetDecimals);
}

// SIGHUP: the file read again with the command line's options, and what may change applied.
void reload(const std::string& file, const engine::gate::GateConfigOverrides& overrides,
            engine::gate::GateRuntime& gate) {
  engine::gate::GateConfig next;
  const bool reloaded = reload_config("gate", file, [&]() -> Result<std::string> {
    PAYCHAN_ASSIGN(next, engine::gate::load_gate_config(file, overrides));
    PAYCHAN_ASSIGN(const auto outcome, gate.reload(next));
    std::string said = outcome.routes ? "" : ": routes unchanged";
    if (outcome.token)
      said += std::string(outcome.routes ? ": " : "; ") +
              (next.facilitatorTokenFile ? "the facilitator is sent facilitatorTokenFile's new token"
                                         : "no token is sent to the facilitator now (no facilitatorTokenFile)");
    for (const std::string& warning : outcome.warnings) said += "; warning: " + warning;
    return said;
  });
  if (reloaded) print_routes(next);
}

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"config", "upstream", "listen", "threads", "access-log", "grace-seconds",
                                    "metrics-listen", "example-config"};
  const std::string_view flags[] = {"access-log", "example-config"};
  auto args = parse_command(argv, known, flags);
  if (!args) return report("gate", args.error());
  if (args->has("example-config")) {
    std::fwrite(kExampleConfig.data(), 1, kExampleConfig.size(), stdout);
    return kExitOk;
  }
  const auto file = args->option("config");
  if (!file) return report("gate", Error{ErrorCode::invalid_config, "--config FILE is required (see --help)"});
  const engine::gate::GateConfigOverrides overrides{args->option("upstream"), args->option("listen"),
                                                    args->option("metrics-listen")};
  auto config = engine::gate::load_gate_config(*file, overrides);
  if (!config) return report("gate", config.error());
  engine::gate::RuntimeOptions options;
  options.access_log = args->has("access-log");
  auto threads = threads_option(*args);
  if (!threads) return report("gate", threads.error());
  if (*threads) options.threads = **threads;
  std::chrono::seconds grace{10};
  if (auto text = args->option("grace-seconds")) {
    const auto n = parse_uint128(*text);
    if (!n || *n > 3600) return report("gate", Error{ErrorCode::invalid_config, "--grace-seconds must be 0..3600"});
    grace = std::chrono::seconds(static_cast<long>(*n));
  }

  // Signals are taken by sigwait below, never by a handler on a worker thread: block them before
  // the workers start so that every thread inherits the mask.
  const sigset_t stop_signals = block_stop_and_reload_signals();
  keep_freed_heap("gate");

  auto gate = engine::gate::GateRuntime::start(*config, options);
  if (!gate) return report("gate", gate.error());
  std::fprintf(stderr, "paychan gate: listening on %s (port %u), upstream %s, %zu channels restored, store %s\n",
               config->listen.c_str(), static_cast<unsigned>((*gate)->port()), config->upstream.c_str(),
               (*gate)->channels(), std::filesystem::absolute(config->store).c_str());
  print_routes(*config);
  if ((*gate)->metrics_port() != 0)
    std::fprintf(stderr, "paychan gate: /metrics on %s (port %u), not on the API's port\n", config->metricsListen.c_str(),
                 static_cast<unsigned>((*gate)->metrics_port()));
  for (const std::string& warning : (*gate)->warnings()) std::fprintf(stderr, "paychan gate: warning: %s\n", warning.c_str());
  announce_port((*gate)->port());

  const int signal = wait_for_stop(stop_signals, [&] { reload(*file, overrides, **gate); });
  std::fprintf(stderr, "paychan gate: %s received, stopping (again to close what is still open at once)\n",
               stop_signal_name(signal));
  const std::size_t cut = stop_unless_signalled_again(
      stop_signals, "gate", [&] { return (*gate)->stop(grace); }, [&] { (*gate)->end_grace(); });
  const auto paid = (*gate)->metrics().paid_requests.load();
  gate->reset();  // the handlers the grace cut short end here, each with its access-log line
  std::fprintf(stderr, "paychan gate: stopped; %llu paid requests served; %zu connections still open at the end of the grace, closed\n",
               static_cast<unsigned long long>(paid), cut);
  return kExitOk;
}

}  // namespace

extern const Command kGate{"gate", "charge per request in front of an HTTP API (reverse proxy)", kHelp, run};

}  // namespace paychan::cli
