#include "demo/run_demo.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>

#include "channel/hex.hpp"
#include "cli.hpp"
#include "demo/agents.hpp"
#include "demo/local_chain.hpp"
#include "demo/provider.hpp"
#include "demo/report.hpp"
#include "demo/scratch_dir.hpp"
#include "demo/toy_inference.hpp"
#include "engine/http/run_blocking.hpp"
#include "engine/key_source.hpp"
#include "engine/settlement/settle_job.hpp"
#include "persistence/channel_store.hpp"
#include "persistence/claim_journal.hpp"
#include "protocol/price.hpp"

namespace paychan::cli::demo {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// "demo [  3.2 s] …" on stderr, so that stdout carries only the table.
class Progress {
 public:
  void operator()(const std::string& line) const {
    const double s = static_cast<double>(elapsed().count()) / 1000.0;
    std::fprintf(stderr, "demo [%5.1f s] %s\n", s, line.c_str());
  }
  [[nodiscard]] milliseconds elapsed() const { return duration_cast<milliseconds>(Clock::now() - start_); }

 private:
  Clock::time_point start_ = Clock::now();
};

Result<std::vector<PrivateKey>> fresh_keys(std::size_t n) {
  std::vector<PrivateKey> keys;
  for (std::size_t i = 0; i < n; ++i) {
    PAYCHAN_ASSIGN(auto secret, engine::random_key_secret());
    PAYCHAN_ASSIGN(auto key, PrivateKey::from_bytes(secret));
    keys.push_back(std::move(key));
  }
  return keys;
}

Result<Holdings> holdings(LocalChain& chain, const std::vector<PrivateKey>& agents, const Address& payTo) {
  Holdings h;
  for (const auto& a : agents) {
    PAYCHAN_ASSIGN(auto balance, chain.token_balance(a.address()));
    h.agents += balance;
  }
  PAYCHAN_ASSIGN(h.payTo, chain.token_balance(payTo));
  PAYCHAN_ASSIGN(h.contract, chain.token_balance(chain.deployment().settlement));
  return h;
}

// The transactions' count and gas, from their receipts.
Result<OnchainAction> onchain_action(LocalChain& chain, const std::vector<Bytes32>& transactions) {
  OnchainAction a;
  for (const auto& tx : transactions) {
    PAYCHAN_ASSIGN(auto gas, chain.gas_used(tx));
    ++a.transactions;
    a.gas += gas;
  }
  return a;
}

Result<Bytes32> transaction_hash(const std::string& hex) { return fixed_from_hex<32>(hex); }

// What a deposit covers: half of an agent's share at the full price, so that each agent opens its
// channel with one deposit and tops it up once on the way.
engine::client::ClientPolicy agent_policy(const LocalChain& chain, std::uint64_t share, Uint128 mint) {
  engine::client::ClientPolicy p;
  p.networks = {chain.network()};
  p.assets = {chain.deployment().token};
  p.maxPrice = kOfferedPrice;
  p.maxDeposit = mint;
  p.budget = mint;
  p.depositPrices = share / 2 + 1;
  return p;
}

void add_agents(Figures& f, const std::vector<AgentOutcome>& outcomes) {
  for (const auto& o : outcomes) {
    f.paid += o.paid;
    f.chargedLess += o.chargedLess;
    f.agentsCharged += o.charged;
    f.agentsStoreCharged += o.storeCharged;
    f.agentsDeposited += o.deposited;
    f.channels += o.channels.size();
    if (!o.error.empty()) f.agentErrors.push_back(to_checksum_hex(o.address) + ": " + o.error);
  }
}

Status add_gate(Figures& f, const Provider& provider, persistence::ChannelStore& store) {
  const auto& m = provider.metrics();
  f.gatePaid = m.paid_requests.load();
  f.localChecks = m.local_verification.count();
  f.localCheckTime = m.local_verification.sum();
  f.facilitatorChecks = m.facilitator_verifications.load();
  PAYCHAN_ASSIGN(auto channels, store.load_all());
  for (const auto& ch : channels) f.gateCharged += ch.chargedCumulativeAmount;
  return {};
}

// The settle job as `paychan settle` runs it, with the in-process facilitator signing the claim
// batches as the delegated receiverAuthorizer.
Result<engine::settlement::SettleSummary> settle(Provider& provider, persistence::ChannelStore& store,
                                                 const DemoOptions& options, const std::filesystem::path& dir,
                                                 const Progress& progress) {
  const auto& config = provider.config();
  auto job_options = engine::settlement::settle_job_options(config);
  job_options.policy.maxBatchSize = options.batchSize;
  PAYCHAN_ASSIGN(auto journal, persistence::ClaimJournal::open((dir / "settle.journal").string()));
  engine::settlement::SettleJob job(std::move(job_options), provider.facilitator(), store, *journal);
  return engine::http::run_blocking(job.run_once([&](const std::string& line) { progress("settle: " + line); }));
}

Status add_settlement(Figures& f, LocalChain& chain, const engine::settlement::SettleSummary& s) {
  std::vector<Bytes32> claims;
  for (const auto& b : s.batches) {
    if (!b.error.empty()) {
      f.settleErrors.push_back("claim refused: " + b.error);
      continue;
    }
    PAYCHAN_ASSIGN(auto tx, transaction_hash(b.transaction));
    claims.push_back(tx);
  }
  f.claimedChannels = s.claimedChannels();
  PAYCHAN_ASSIGN(f.claims, onchain_action(chain, claims));
  if (!s.sweepError.empty()) f.settleErrors.push_back("sweep refused: " + s.sweepError);
  if (!s.sweepTransaction.empty()) {
    PAYCHAN_ASSIGN(auto tx, transaction_hash(s.sweepTransaction));
    PAYCHAN_ASSIGN(f.sweep, onchain_action(chain, {tx}));
  }
  for (const auto& w : s.warnings) f.settleErrors.push_back("warning: " + w);
  return {};
}

Status add_chain(Figures& f, LocalChain& chain, const std::vector<AgentOutcome>& outcomes) {
  PAYCHAN_ASSIGN(auto deposits, chain.deposit_transactions());
  PAYCHAN_ASSIGN(f.deposits, onchain_action(chain, deposits));
  for (const auto& o : outcomes) {
    for (const auto& id : o.channels) {
      PAYCHAN_ASSIGN(auto ch, chain.channel(id));
      f.claimedOnchain += ch.totalClaimed;
      f.channelBalances += ch.balance;
      f.leftInChannels += ch.balance - ch.totalClaimed;  // the contract keeps totalClaimed ≤ balance
    }
  }
  return {};
}

// The whole run; an Error is a setup failure (exit 2), anything else ends in the table.
Result<int> run(const DemoOptions& options, const std::atomic<bool>& stop) {
  const Progress progress;
  Figures f;
  f.agents = options.agents;
  f.requested = options.requests;
  f.offeredPrice = kOfferedPrice;

  PAYCHAN_ASSIGN(auto dir, ScratchDir::create());
  PAYCHAN_ASSIGN(auto agents, fresh_keys(options.agents));
  PAYCHAN_ASSIGN(auto provider_keys, fresh_keys(2));  // payTo, receiverAuthorizer
  const std::uint64_t share = (options.requests + options.agents - 1) / options.agents;
  const Uint128 mint = std::max<Uint128>(100'000'000, 2 * kOfferedPrice * share);  // at least $100 each

  progress("starting anvil, deploying paychan's contracts, minting " + protocol::format_price(mint, 6) +
           " test USDC to each of " + std::to_string(options.agents) + " agents");
  std::vector<Address> agent_addresses;
  for (const auto& a : agents) agent_addresses.push_back(a.address());
  PAYCHAN_ASSIGN(auto chain, LocalChain::start(agent_addresses, mint));
  f.network = chain->network();
  progress("chain " + chain->anvil().url() + ": batch settlement " + to_checksum_hex(chain->deployment().settlement) +
           ", test USDC " + to_checksum_hex(chain->deployment().token));
  PAYCHAN_ASSIGN(f.transferGas, chain->transfer_gas());
  PAYCHAN_ASSIGN(f.before, holdings(*chain, agents, provider_keys[0].address()));

  ProviderSetup setup{chain->dev_key(1), provider_keys[1], provider_keys[0].address(), dir.path()};
  PAYCHAN_ASSIGN(auto provider, Provider::start(*chain, setup));
  progress("facilitator in-process (signer " + to_checksum_hex(setup.facilitatorSigner.address()) +
           ", receiverAuthorizer " + to_checksum_hex(setup.receiverAuthorizer.address()) + "); gate on " + provider->url() +
           ", payTo " + to_checksum_hex(setup.payTo));

  AgentsPlan plan{provider->url(), agents, options.requests, agent_policy(*chain, share, mint), dir.path()};
  progress(std::to_string(options.agents) + " agents making " + std::to_string(options.requests) + " paid requests");
  const auto agents_started = Clock::now();
  const auto outcomes = run_agents(plan, stop, [&](std::uint64_t paid) {
    progress("  " + std::to_string(paid) + " / " + std::to_string(options.requests) + " paid, " +
             std::to_string(provider->metrics().deposits.load()) + " deposits on chain");
  });
  f.agentsTime = duration_cast<milliseconds>(Clock::now() - agents_started);
  provider->stop_serving();
  add_agents(f, outcomes);
  // The gate's file, opened as `paychan settle` opens it.
  PAYCHAN_ASSIGN(auto store, persistence::ChannelStore::open(provider->config().store));
  PAYCHAN_TRY(add_gate(f, *provider, *store));

  if (!stop.load()) {
    progress("settle job: claiming every channel in batches of up to " + std::to_string(options.batchSize) +
             " through the facilitator, then sweeping to payTo");
    const auto settle_started = Clock::now();
    auto summary = settle(*provider, *store, options, dir.path(), progress);
    f.settleTime = duration_cast<milliseconds>(Clock::now() - settle_started);
    if (!summary) {
      f.settleErrors.push_back(summary.error().to_string());
    } else {
      PAYCHAN_TRY(add_settlement(f, *chain, *summary));
    }
  } else {
    f.interrupted = true;
  }

  progress("reading balances and receipts");
  PAYCHAN_TRY(add_chain(f, *chain, outcomes));
  PAYCHAN_ASSIGN(f.after, holdings(*chain, agents, provider_keys[0].address()));
  f.totalTime = progress.elapsed();
  const auto checks = reconcile(f);
  print_report(stdout, f, checks);
  if (f.interrupted) return 128 + SIGINT;  // as a shell reports a command Ctrl-C ended
  return all_reconciled(f, checks) ? kExitOk : kExitNo;
}

}  // namespace

int run_demo(const DemoOptions& options, const std::atomic<bool>& stop) {
  auto status = run(options, stop);
  if (!status) return report("demo", status.error());
  return *status;
}

}  // namespace paychan::cli::demo
