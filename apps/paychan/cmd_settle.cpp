// paychan settle — the operator's job: claims what a gate has charged, in batches, through a
// facilitator, then sweeps the claimed funds to the receiver. Cron-friendly: one pass and exit, or
// --every; a lock file keeps two runs from overlapping; a journal makes a crashed run resumable.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <utility>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "chain_options.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "file_lock.hpp"
#include "service_options.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/config_file.hpp"
#include "engine/evm/rpc_client.hpp"
#include "engine/gate/gate_config.hpp"
#include "engine/gate/http_facilitator.hpp"
#include "engine/http/run_blocking.hpp"
#include "engine/http/url.hpp"
#include "engine/settlement/rpc_chain_reader.hpp"
#include "engine/settlement/settle_job.hpp"
#include "protocol/price.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kHelp = R"(usage: paychan settle --config GATE.json [--every DURATION] [--min-unclaimed AMOUNT]
                      [--batch-size N] [--no-sweep] [--quiet] [--facilitator URL] [--timeout SECONDS]
                      [--rpc URL [--refund-checks N]] [--forget-closed-after DURATION]

Turns the vouchers a gate has collected into money. Reads the gate's channel store (safely while
the gate runs), picks the channels to claim, sends them to the facilitator's /settle as `claim`
batches — signed with the receiver authorizer's key when the config names a
receiverAuthorizerKeyFile (claimWithSignature), else left to the facilitator that holds it —
records each claim back into the store, and finally sweeps the claimed funds to payTo (`settle`).

A running gate's store holds its charges as of its last fold of the voucher log: 20 ms after the
gate goes idle, and at least every second under load. The newest charges may wait for the next
run; the gate's /metrics shows how many commits are not folded yet.

Which channels: every channel with at least --min-unclaimed charged but not yet claimed, and —
always, first, whatever the threshold — every channel whose payer started a timed withdrawal
(a voucher not claimed before the withdrawal finalizes is lost; a thin margin is warned about).

Safe to run from cron: a run holds GATE-STORE.settle.lock (a second run exits 3 at once), and
journals each batch in GATE-STORE.settle before sending it; a run that crashed or timed out
leaves its batch pending, and the next run resends exactly that batch first, so nothing is
claimed twice and no claim is forgotten. A claim mined but reverted spent gas and claimed nothing:
its channels wait 10 minutes, then are tried again one per batch, and wait twice as long after
each further revert, up to a day. A channel whose payer is withdrawing never waits: it is claimed
again alone in the same run (seen with --rpc, or once the gate has seen the withdrawal).

Options:
  --config FILE          the gate's configuration (network, asset, payTo, facilitator,
                         facilitatorTokenFile, store, receiverAuthorizerKeyFile); see
                         `paychan gate --help`
  --every DURATION       run again every DURATION (e.g. 60s, 5m, 1h) until SIGINT/SIGTERM/SIGHUP;
                         facilitatorTokenFile is read again before each pass, and a new token in
                         it sent once the facilitator takes it. A refused token stops the job (exit
                         2), unless the facilitator took it before: then the next pass tries again
                         (a rotation may be under way)
  --min-unclaimed AMOUNT claim a channel once this much is unclaimed (atomic units or "$0.50";
                         default 1, i.e. everything)
  --batch-size N         claims per transaction (default 100; fewer when their calldata would pass
                         96 KiB, as smart wallets' long signatures can make it: nodes refuse
                         transactions over 128 KiB)
  --no-sweep             claim only; leave settle(receiver, token) for later
  --quiet                no progress; the summary only when something was claimed, swept or
                         refused, or a warning given (cron mails nothing for a run with nothing
                         to do); errors as always
  --facilitator URL      overrides the config's facilitator
  --timeout SECONDS      how long one facilitator call may take (default 120: claims wait for
                         their receipt)
  --rpc URL              a node of the network (or $PAYCHAN_RPC): each channel is read on chain
                         before planning, so withdrawals the gate has not seen are claimed in time
                         (the watchtower) and a claim that landed unrecorded is recorded, not resent;
                         a refund the gate never heard the outcome of is cleared from the store
                         once the chain has moved past it, and a channel it refunded in full is
                         deleted (a payer who never comes back would leave it there for good);
                         a channel whose chain is behind such a refund, or behind a refund the
                         gate saw land, is a warning (the gate refuses it until the refunds before
                         it land or the node catches up); so is an asset.decimals that is not the
                         token's decimals() (every "$" price is then off by powers of ten)
  --refund-checks N      with --rpc: how many channels the gate saw refunded one run reads for
                         that warning (default 100; 0: none). Such a channel keeps its row until
                         it is spent, so their number grows with use: the runs take turns (first
                         those no read has shown at the gate's nonce, then those read longest
                         ago; a failed read takes its turn, and three in a row end the run's
                         check), and one the run read anyway is free
  --forget-closed-after DURATION
                         a channel deleted from the store leaves its refund nonce and claimed
                         total, which the gate judges a view of its chain against should the payer
                         deposit again (about 100 bytes each); forgotten this long after the
                         deletion, 1d to 366d (default 30d; "never" keeps them)

Output: progress on stderr (with --every, each pass begins with its UTC time); a summary on
stdout (channels, amount, transactions). A stop signal during a pass is answered at once: the run
stops after the pass, or at once on a second signal (a batch in flight is journaled, and the next
run resends it).
Exit status: 0 done (also when there was nothing to claim), 1 a batch or the sweep was refused
for a reason to look into (a signature, an amount, a reverted claim: see the reason), 2 bad usage
or configuration (also a facilitator URL that is not one's, a token it refuses, a store path that
names no gate store), 3 try again later (the facilitator or its node or the --rpc node unreachable
or busy, fees above the facilitator's cap, the store busy, another run in progress).

  paychan settle --config gate.json                       # one pass, e.g. from cron
  paychan settle --config gate.json --every 5m --min-unclaimed '$1'
)";

constexpr int kExitRetry = 3;

// The time as cron's mail and a journal read it: 2026-12-07T01:02:03Z.
std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Runs `pass`, answering a stop signal at once rather than after it (a claim may wait --timeout
// for its receipt): the first says the run stops after the pass (`stop_asked`); a second ends the
// process now, which loses nothing (a batch in flight is journaled, and the next run resends it).
int watched(const sigset_t& stop_signals, bool& stop_asked, const std::function<int()>& pass) {
  int status = kExitOk;
  stop_asked = false;  // set on the watching thread, read after it has ended
  while_watching(
      stop_signals,
      [&](int signal) {
        if (std::exchange(stop_asked, true)) {
          std::fprintf(stderr, "settle: second signal: stopping now (a batch in flight is journaled: the next run resends it)\n");
          std::_Exit(kExitRetry);
        }
        std::fprintf(stderr, "settle: %s received: stopping after this pass (a claim may wait up to --timeout for its "
                             "receipt; again to stop now)\n", stop_signal_name(signal));
      },
      [&] { status = pass(); });
  return status;
}

// "1 channel", "2 channels"; "1 batch", "2 batches".
std::string count(std::size_t n, std::string_view noun) {
  const std::string_view plural_ending = noun.ends_with("ch") ? "es" : "s";
  return std::to_string(n) + " " + std::string(noun) + std::string(n == 1 ? "" : plural_ending);
}

// Whether a --quiet run has anything to say: money moved, something refused, or a warning.
bool worth_telling(const engine::settlement::SettleSummary& s) {
  return !s.batches.empty() || !s.sweepTransaction.empty() || !s.ok() || !s.warnings.empty();
}

void print_summary(const engine::settlement::SettleSummary& s, unsigned decimals, bool quiet) {
  const auto dollars = [decimals](Uint128 v) { return protocol::format_price(v, decimals); };
  std::printf("settle: %s claimed in %s, %s (%s atomic)\n", count(s.claimedChannels(), "channel").c_str(),
              count(s.batches.size(), "batch").c_str(), dollars(s.claimedAmount()).c_str(),
              to_decimal(s.claimedAmount()).c_str());
  for (const auto& b : s.batches) {
    if (b.error.empty())
      std::printf("  claim  %-66s %11s %s%s\n", b.transaction.c_str(), count(b.channels, "channel").c_str(),
                  dollars(b.amount).c_str(), b.resumed ? " (resumed)" : "");
    else if (b.reverted)
      std::printf("  claim  reverted on chain: %s (%s; they wait)\n", b.error.c_str(), count(b.channels, "channel").c_str());
    else
      std::printf("  claim  refused: %s (%s%s)\n", b.error.c_str(), count(b.channels, "channel").c_str(),
                  b.transient ? "; the next run tries again" : "");
  }
  if (!s.sweepTransaction.empty()) std::printf("  settle %-66s swept %s atomic\n", s.sweepTransaction.c_str(), s.sweepAmount.c_str());
  if (!s.sweepError.empty()) std::printf("  settle refused: %s\n", s.sweepError.c_str());
  if (s.skippedChannels > 0)
    std::printf("  %s below --min-unclaimed left for later\n", count(s.skippedChannels, "channel").c_str());
  if (s.heldBackChannels > 0)
    std::printf("  %s wait: a claim of theirs reverted on chain (retried alone after a back-off)\n",
                count(s.heldBackChannels, "channel").c_str());
  if (s.resolvedRefunds > 0)
    std::printf("  %s of unknown outcome found settled on chain: cleared from the store\n",
                count(s.resolvedRefunds, "refund").c_str());
  if (s.forgottenClosed > 0)
    std::printf("  %s of channels deleted long ago forgotten (--forget-closed-after)\n",
                count(s.forgottenClosed, "record").c_str());
  if (s.refundChecksLeft > 0)
    std::printf("  %s left for the next runs to check on chain (--refund-checks)\n",
                count(s.refundChecksLeft, "refunded channel").c_str());
  if (quiet)  // shown as they came otherwise
    for (const std::string& w : s.warnings) std::printf("  warning: %s\n", w.c_str());
  std::fflush(stdout);
}

// The facilitators a pass talks to: `settle` for its calls, `probe` (a short timeout) to tell a
// URL that is no facilitator's from one that is down.
struct Facilitators {
  engine::gate::HttpFacilitator& settle;
  engine::gate::HttpFacilitator& probe;
};

// The gate turns the config's "$" prices into the token's base units with asset.decimals (6 unless
// given): one that is not the token's prices every request off by powers of ten, which only the
// chain can tell. Said on stderr even with --quiet (cron mails it); the claims go on regardless.
// A token without decimals() (it is optional in ERC-20), or a node that does not answer, is not
// checked.
void warn_of_wrong_decimals(engine::evm::RpcClient& node, const engine::gate::GateConfig& config,
                            std::string_view file) {
  auto reply = engine::http::run_blocking(node.call(config.asset, engine::chain::erc20_decimals_call()));
  if (!reply) return;
  auto decimals = engine::chain::decode_decimals(*reply);
  if (!decimals || *decimals == config.assetDecimals) return;
  const bool token_finer = *decimals > config.assetDecimals;
  const unsigned power = token_finer ? *decimals - config.assetDecimals : config.assetDecimals - *decimals;
  std::fprintf(stderr,
               "settle: warning: the token has %u decimals, but %s's asset.decimals is %u: its \"$\" prices are "
               "10^%u times too %s (set \"decimals\": %u in \"asset\")\n",
               *decimals, std::string(file).c_str(), config.assetDecimals, power,
               token_finer ? "low" : "high", *decimals);
}

// With --every, facilitatorTokenFile (the file named at start) is read again before each pass
// after the first, so a token rotated in it reaches a long-running job too, as the gate's SIGHUP
// takes it: a new token is sent once the facilitator takes it (renew_token). Until then, or while
// the file cannot be read (being rewritten, say), the pass sends the token in use, and says why.
// `taken`: set when the facilitator was asked about the new token and took it, cleared when it
// could not be asked.
void follow_token_file(const engine::gate::GateConfig& config, const Facilitators& facilitators, bool& taken) {
  if (!config.facilitatorTokenFile) return;
  auto renewed = engine::gate::renew_token(facilitators.probe, config);  // the probe's short timeout
  if (!renewed) {
    std::fprintf(stderr, "settle: warning: %s; this pass sends the token in use\n",
                 renewed.error().to_string().c_str());
    return;
  }
  if (!renewed->token) return;
  if (renewed->warning) std::fprintf(stderr, "settle: warning: %s\n", renewed->warning->c_str());
  taken = !renewed->warning;
  facilitators.settle.use_token(*renewed->token);
  facilitators.probe.use_token(std::move(*renewed->token));
  std::fprintf(stderr, "settle: facilitatorTokenFile holds a new token: sent from this pass on\n");
}

// One pass; returns the exit status. `quiet`: no progress, and a summary only when worth_telling.
// `token_refused`: set when the facilitator refused the token (kExitUsage).
int run_pass(const engine::gate::GateConfig& config, engine::settlement::SettleJobOptions options,
             const Facilitators& facilitators, bool quiet, bool& token_refused) {
  // A path that names no store (or another kind of file) is to fix; a busy or failing one may pass.
  const auto unopened = [](const Error& why) {
    return report("settle", why), why.code == ErrorCode::invalid_config ? kExitUsage : kExitRetry;
  };
  auto store = persistence::ChannelStore::open(config.store);
  if (!store) return unopened(store.error());
  auto journal = persistence::ClaimJournal::open(config.store + ".settle");
  if (!journal) return unopened(journal.error());
  engine::settlement::SettleJob job(std::move(options), facilitators.settle, **store, **journal);

  auto result = engine::http::run_blocking(job.run_once([quiet](const std::string& line) {
    if (!quiet) std::fprintf(stderr, "settle: %s\n", line.c_str());
  }));
  if (!result) {
    // A facilitator that refuses our token, or a URL that is no facilitator's, is a configuration
    // to fix, not an outage to wait out: an answer that was not a facilitator's is probed to tell.
    Error why = result.error();
    if (why.code == ErrorCode::facilitator_unavailable)
      if (Status probe = engine::http::run_blocking(facilitators.probe.check_token());
          !probe && probe.error().code != ErrorCode::facilitator_unavailable)
        why = probe.error();
    token_refused = why.code == ErrorCode::facilitator_unauthorized;
    const bool to_fix = token_refused || why.code == ErrorCode::invalid_config;
    return report("settle", why), to_fix ? kExitUsage : kExitRetry;
  }
  if (!quiet || worth_telling(*result)) print_summary(*result, config.assetDecimals, quiet);
  return result->ok() ? kExitOk : result->retry_later() ? kExitRetry : kExitNo;
}

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"config",      "every",   "min-unclaimed", "batch-size",    "no-sweep",           "quiet",
                                    "facilitator", "timeout", "rpc",           "refund-checks", "forget-closed-after"};
  const std::string_view flags[] = {"no-sweep", "quiet"};
  auto args = parse_command(argv, known, flags);
  if (!args) return report("settle", args.error());
  const auto file = args->option("config");
  if (!file) return report("settle", Error{ErrorCode::invalid_config, "--config FILE is required (see --help)"});
  engine::gate::GateConfigOverrides reading;
  reading.serving = false;  // the gate's file, as its gate may run it with --metrics-listen
  auto config = engine::gate::load_gate_config(*file, reading);
  if (!config) return report("settle", config.error());
  if (auto url = args->option("facilitator")) config->facilitator = *url;
  if (config->facilitator.empty())
    return report("settle", Error{ErrorCode::invalid_config, "no facilitator: set \"facilitator\" or --facilitator"});

  auto options = engine::settlement::settle_job_options(*config);
  options.sweep = !args->has("no-sweep");
  auto key = engine::gate::load_receiver_authorizer_key(*config);
  if (!key) return report("settle", key.error());
  options.receiverAuthorizerKey = *key;
  if (auto text = args->option("min-unclaimed")) {
    auto v = protocol::parse_exact_price(*text, config->assetDecimals);
    if (!v) return report("settle", Error{ErrorCode::invalid_config, "--min-unclaimed " + *text + ": " + v.error().detail});
    if (*v == 0) return report("settle", Error{ErrorCode::invalid_config, "--min-unclaimed: a positive amount"});
    options.policy.minUnclaimed = *v;
  }
  if (auto text = args->option("batch-size")) {
    auto n = parse_uint128(*text);
    if (!n || *n == 0 || *n > 1000) return report("settle", Error{ErrorCode::invalid_config, "--batch-size must be 1..1000"});
    options.policy.maxBatchSize = static_cast<std::size_t>(*n);
  }
  if (auto text = args->option("refund-checks")) {
    auto n = parse_uint128(*text);
    if (!n || *n > 100'000) return report("settle", Error{ErrorCode::invalid_config, "--refund-checks must be 0..100000"});
    options.refundChecksPerRun = static_cast<std::size_t>(*n);
  }
  if (auto text = args->option("forget-closed-after")) {
    if (*text == "never") {
      options.forgetClosedAfterSeconds = 0;
    } else {
      // Shorter, a node lagging or a reorg could undo a refund or a claim the record still guards.
      auto d = parse_duration(*text);
      if (!d || d->count() < 86400)
        return report("settle", Error{ErrorCode::invalid_config, "--forget-closed-after: 1d to 366d (e.g. 30d), or never"});
      options.forgetClosedAfterSeconds = static_cast<std::uint64_t>(d->count());
    }
  }
  auto loaded = engine::gate::http_facilitator_options(*config);
  if (!loaded) return report("settle", loaded.error());
  engine::gate::HttpFacilitatorOptions facilitator_options = std::move(*loaded);
  facilitator_options.timeout = std::chrono::seconds(120);
  if (auto text = args->option("timeout")) {
    auto d = parse_duration(*text);
    if (!d) return report("settle", Error{ErrorCode::invalid_config, "--timeout: " + d.error().detail});
    facilitator_options.timeout = *d;
  }
  std::optional<std::chrono::seconds> every;
  if (auto text = args->option("every")) {
    auto d = parse_duration(*text);
    if (!d) return report("settle", Error{ErrorCode::invalid_config, "--every: " + d.error().detail});
    every = *d;
  }
  auto facilitator = engine::gate::HttpFacilitator::create(facilitator_options);
  if (!facilitator) return report("settle", facilitator.error());
  engine::gate::HttpFacilitatorOptions probe_options = facilitator_options;
  probe_options.timeout = std::min<std::chrono::milliseconds>(facilitator_options.timeout, std::chrono::seconds(10));
  probe_options.attempts = 1;
  auto probe = engine::gate::HttpFacilitator::create(std::move(probe_options));
  if (!probe) return report("settle", probe.error());

  std::optional<engine::evm::RpcClient> node;
  std::optional<engine::settlement::RpcChainReader> reader;
  const std::optional<std::string> rpc = rpc_url(*args);
  if (!rpc && args->option("refund-checks"))
    return report("settle", Error{ErrorCode::invalid_config, "--refund-checks reads the chain: it needs --rpc URL (or $PAYCHAN_RPC)"});
  if (rpc) {
    // A URL that cannot be sent is a usage error; a node that does not answer, a reason to try again later.
    if (auto url = engine::http::parse_url(*rpc); !url)
      return report("settle", Error{ErrorCode::invalid_config, rpc_named(*args, *rpc) + ": " + url.error().detail});
    node.emplace(*rpc);
    auto id = engine::http::run_blocking(node->chain_id());
    if (!id) return report("settle", id.error()), kExitRetry;
    if (*id != config->chainId)
      return report("settle", Error{ErrorCode::invalid_config, rpc_named(*args, *rpc) + " serves chain " + std::to_string(*id) + ", the gate's network is " + config->network});
    reader.emplace(*node, kBatchSettlementAddress);
    options.chain = &*reader;
    warn_of_wrong_decimals(*node, *config, *file);
  }

  // Opening a store creates it: a mistyped "store" would otherwise claim nothing, run after run.
  if (std::error_code missing; !std::filesystem::exists(config->store, missing))
    return report("settle", Error{ErrorCode::invalid_config,
                                  "no gate store at " + config->store + engine::relative_to_working_directory(config->store) +
                                      " (the gate creates it when it first starts; check \"store\" in " + std::string(*file) + ")"});
  auto lock = FileLock::take(config->store + ".settle.lock", "another settle run");
  if (!lock) return report("settle", lock.error()), kExitRetry;

  const bool quiet = args->has("quiet");
  sigset_t stop_signals = block_stop_signals();
  const Facilitators facilitators{**facilitator, **probe};
  // Whether the facilitator took the token now sent: a token it took and then refuses may be in the
  // middle of its rotation, which the passes to come follow (follow_token_file).
  bool token_taken = false;
  if (every) {
    const Status asked = engine::http::run_blocking((*probe)->check_token());
    if (!asked && asked.error().code == ErrorCode::facilitator_unauthorized) return report("settle", asked.error());
    token_taken = static_cast<bool>(asked);  // not asked (the facilitator is down): as if refused
  }
  for (bool first = true;; first = false) {
    if (every && !quiet) std::fprintf(stderr, "settle: pass at %s\n", utc_now().c_str());
    if (!first) follow_token_file(*config, facilitators, token_taken);
    bool stop_asked = false;
    bool token_refused = false;
    const int status = watched(stop_signals, stop_asked,
                               [&] { return run_pass(*config, options, facilitators, quiet, token_refused); });
    if (stop_asked || !every) return status;
    // A configuration to fix: passes would not help. But a token the facilitator took before may
    // be in the middle of its rotation: the next pass reads the file again.
    if (status == kExitUsage && !(token_refused && token_taken)) return status;
    if (status == kExitUsage)
      std::fprintf(stderr, "settle: the facilitator took this token before: trying again at the next pass\n");
    // Waits for the next pass, or a stop signal.
    const timespec wait{static_cast<time_t>(every->count()), 0};
    if (const int signal = sigtimedwait(&stop_signals, nullptr, &wait); signal > 0) {
      std::fprintf(stderr, "settle: %s received, stopping\n", stop_signal_name(signal));
      return status;
    }
  }
}

}  // namespace

extern const Command kSettle{"settle", "claim a gate's vouchers on chain in batches, then sweep (cron job)", kHelp, run};

}  // namespace paychan::cli
