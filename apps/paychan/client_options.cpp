#include "client_options.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "chain_options.hpp"
#include "engine/key_source.hpp"
#include "key_options.hpp"
#include "protocol/price.hpp"

namespace paychan::cli {
namespace {

constexpr unsigned kDollarDecimals = 6;  // "$" amounts are read for a USDC-like token

Result<Uint128> amount_option(const Args& args, std::string_view name, std::string_view fallback) {
  const std::string text = args.option(name).value_or(std::string{fallback});
  auto v = protocol::parse_exact_price(text, kDollarDecimals);
  if (!v) return fail(ErrorCode::invalid_config, "--" + std::string{name} + " " + text + ": " + v.error().detail);
  return v;
}

Result<std::string> state_path(const Args& args) {
  if (auto path = args.option("state")) return *path;
  if (const char* env = std::getenv("PAYCHAN_STATE")) return std::string{env};
  const char* home = std::getenv("HOME");
  if (home == nullptr) return fail(ErrorCode::invalid_config, "no --state FILE and no $HOME");
  const std::filesystem::path dir = std::filesystem::path(home) / ".paychan";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);  // the store reveals what the agent pays for
  return (dir / "agent.sqlite").string();
}

}  // namespace

Result<AgentSetup> agent_setup(const Args& args, ChainUse chain_use, StoreUse store_use, std::chrono::seconds store_wait) {
  PAYCHAN_ASSIGN(auto payer, load_key(args));
  std::optional<PrivateKey> authorizer;
  if (auto file = args.option("authorizer-key-file")) {
    PAYCHAN_ASSIGN(authorizer, engine::load_key_file(*file));
  }
  engine::client::ClientPolicy policy;
  PAYCHAN_ASSIGN(policy.maxPrice, amount_option(args, "max-price", "$0.10"));
  PAYCHAN_ASSIGN(policy.maxDeposit, amount_option(args, "max-deposit", "$1.00"));
  PAYCHAN_ASSIGN(policy.budget, amount_option(args, "budget", "$5.00"));
  policy.networks = args.options("network");
  auto n = parse_uint128(args.option("deposit-requests").value_or("100"));
  if (!n || *n == 0) return fail(ErrorCode::invalid_config, "--deposit-requests must be a positive integer");
  policy.depositPrices = *n;
  PAYCHAN_ASSIGN(auto path, state_path(args));
  if (std::error_code missing; store_use == StoreUse::existing && !std::filesystem::exists(path, missing))
    return fail(ErrorCode::invalid_config, "no agent store at " + path +
                                               ": nothing was paid from it (--state FILE or $PAYCHAN_STATE names another)");
  // One process per store: two would each see the other's reservations too late and could
  // together sign past the budget, and overwrite each other's channel rows.
  // Beside the file itself, so that a symlink to the store and its real path share one lock.
  std::error_code resolved_error;
  const auto resolved = std::filesystem::weakly_canonical(path, resolved_error);
  const std::string lock_path = (resolved_error ? path : resolved.string()) + ".lock";
  auto lock = FileLock::take(lock_path, "another paychan process using this agent store", store_wait, [&] {
    std::fprintf(stderr, "paychan: waiting up to %llds for another paychan process using the agent store %s\n",
                 static_cast<long long>(store_wait.count()), path.c_str());
  });
  if (!lock) return lock.failure();
  auto store = persistence::ClientStore::open(path);
  if (!store) return fail(ErrorCode::invalid_config, path + ": " + store.error().detail);
  AgentSetup setup{std::move(*lock), std::move(*store), engine::client::ClientKeys{payer, authorizer}, policy, path,
                   nullptr};
  if (chain_use == ChainUse::none) return setup;
  if (auto rpc = rpc_url(args).value_or(""); !rpc.empty()) {
    auto chain = engine::client::ChannelChain::connect(rpc, payer);
    if (!chain) return fail(ErrorCode::invalid_config, rpc_named(args, rpc) + ": " + chain.error().detail);
    setup.chain = std::move(*chain);
  }
  return setup;
}

}  // namespace paychan::cli
