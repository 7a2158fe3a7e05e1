// paychan devnet — a local chain with paychan's contracts, for development, the demo and scripts.
#include <fcntl.h>
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/prettywriter.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "service_options.hpp"
#include "engine/evm/anvil.hpp"
#include "engine/evm/deployment.hpp"
#include "engine/http/run_blocking.hpp"
#include "protocol/price.hpp"
#include "protocol/requirements.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kHelp = R"(usage: paychan devnet [--port N] [--accounts N] [--fund ADDRESS]... [--mint AMOUNT] [--out FILE]
                      [--artifacts DIR]

Starts a local Ethereum chain (anvil, from the project's npm packages or $PAYCHAN_ANVIL; chain id
31337, Prague rules), deploys paychan's contracts and mints test USDC, then prints what a client,
a gate or a facilitator needs to use it, and runs until Ctrl-C (SIGINT, SIGTERM or SIGHUP), which
stops the chain. Nothing persists: the next start is a fresh chain.

  - the batch-settlement contract and its ERC-3009 deposit collector at their canonical addresses
    (0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003, 0x4020806089470a89826cB9fB1f4059150b550004),
    the addresses the x402 reference SDK signs against, and for tokens without ERC-3009 the
    Permit2 deposit collector (0x4020425FAf3B746C082C2f942b4E5159887B0005) and Uniswap's Permit2
    (0x000000000022D473030F116dDEE9F6B43aC78BA3);
  - TestUSDC, a 6-decimal token with EIP-3009 (transferWithAuthorization), EIP-712 domain name
    "USDC" version "2", at a fresh address;
  - anvil's dev accounts, each with 10,000 ETH for gas and test USDC. Their private keys are
    printed: they are anvil's well-known public test keys, for this devnet only — anything sent
    to them on a real network is taken at once by whoever watches them.

Options:
  --port N          RPC port on 127.0.0.1 (default 8545; 0 picks a free one)
  --accounts N      dev accounts to create (default 10)
  --fund ADDRESS    mint test USDC to ADDRESS; repeatable (default: every dev account)
  --mint AMOUNT     test USDC per funded account, atomic units or "$D" (default "$1000000")
  --out FILE        also write all of it as JSON to FILE (mode 0600, replaced atomically once
                    the chain is ready: scripts can wait for the file to appear)
  --artifacts DIR   the compiled contracts (default: the build tree's contracts/, or
                    $PAYCHAN_CONTRACTS_DIR)

  paychan devnet --out devnet.json
  paychan devnet --port 0 --fund 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --mint '$500'
)";

struct Funded {
  Address address;
  const engine::evm::DevAccount* dev = nullptr;  // nullptr for a --fund address
};

std::string to_json(const engine::evm::Anvil& anvil, const engine::evm::Deployment& d, const std::vector<Funded>& accounts,
                    Uint128 minted) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("warning", "devnet only: these private keys are public test keys");
  str("network", protocol::evm_network(d.chainId));
  w.Key("chainId");
  w.Uint64(d.chainId);
  str("rpcUrl", anvil.url());
  w.Key("contracts");
  w.StartObject();
  str("batchSettlement", to_checksum_hex(d.settlement));
  str("erc3009DepositCollector", to_checksum_hex(d.collector));
  str("permit2DepositCollector", to_checksum_hex(d.permit2Collector));
  str("permit2", to_checksum_hex(kPermit2Address));
  w.EndObject();
  w.Key("asset");
  w.StartObject();
  str("address", to_checksum_hex(d.token));
  str("name", d.tokenName);
  str("version", d.tokenVersion);
  w.Key("decimals");
  w.Uint(6);
  w.EndObject();
  w.Key("accounts");
  w.StartArray();
  for (const auto& a : accounts) {
    w.StartObject();
    str("address", to_checksum_hex(a.address));
    if (a.dev != nullptr) str("privateKey", a.dev->keyHex);
    str("usdc", to_decimal(minted));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

// FILE.tmp (0600) then rename: the file appears complete or not at all.
Status write_private(const std::string& file, const std::string& text) {
  const std::string tmp = file + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return fail(ErrorCode::invalid_config, "cannot create " + tmp);
  const bool written = ::fchmod(fd, 0600) == 0 &&
                       ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), file.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return fail(ErrorCode::invalid_config, "cannot write " + file);
  }
  return {};
}

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"port", "accounts", "fund", "mint", "out", "artifacts"};
  auto args = parse_command(argv, known);
  if (!args) return report("devnet", args.error());
  engine::evm::AnvilOptions anvil_options;
  anvil_options.port = 8545;
  if (auto port = args->option("port")) {
    auto n = parse_uint128(*port);
    if (!n || *n > 65535) return report("devnet", Error{ErrorCode::invalid_config, "--port must be 0..65535"});
    anvil_options.port = static_cast<std::uint16_t>(*n);
  }
  if (auto accounts = args->option("accounts")) {
    auto n = parse_uint128(*accounts);
    if (!n || *n == 0 || *n > 1000) return report("devnet", Error{ErrorCode::invalid_config, "--accounts must be 1..1000"});
    anvil_options.accounts = static_cast<std::uint32_t>(*n);
  }
  engine::evm::DeploymentOptions deploy_options;
  auto mint = protocol::parse_exact_price(args->option("mint").value_or("$1000000"), 6);
  if (!mint) return report("devnet", Error{mint.error().code, "--mint: " + mint.error().detail});
  deploy_options.mintAmount = *mint;
  if (auto dir = args->option("artifacts")) deploy_options.artifacts = *dir;
  std::vector<Address> extra;
  for (const auto& text : args->options("fund")) {
    auto a = parse_address(text);
    if (!a) return report("devnet", Error{a.error().code, "--fund " + text + ": " + a.error().detail});
    extra.push_back(*a);
  }
  // Checked before anvil starts, rather than found after the deployment: where --out goes.
  if (auto out = args->option("out")) {
    const std::filesystem::path dir = std::filesystem::path(*out).parent_path();
    if (std::error_code ec; !dir.empty() && !std::filesystem::is_directory(dir, ec))
      return report("devnet", Error{ErrorCode::invalid_config, "--out " + *out + ": no directory " + dir.string()});
  }
  // Checked before anvil starts: a missing build step is the likeliest failure.
  if (auto artifact = engine::evm::load_artifact(deploy_options.artifacts / "X402BatchSettlement.json"); !artifact)
    return report("devnet", artifact.error());

  // SIGINT/SIGTERM/SIGHUP are taken by sigwait below; blocked before any thread starts so all
  // inherit it (a SIGHUP would otherwise end the process and leave anvil running).
  sigset_t stop_signals = block_stop_signals();

  auto anvil = engine::evm::Anvil::start(anvil_options);
  if (!anvil) return report("devnet", anvil.error());
  engine::evm::RpcClient rpc((*anvil)->url());
  const auto& keys = (*anvil)->accounts();
  std::vector<Funded> funded;
  if (extra.empty()) {
    for (const auto& k : keys) funded.push_back({k.key.address(), &k});
  } else {
    for (const auto& a : extra) funded.push_back({a, nullptr});
  }
  for (const auto& f : funded) deploy_options.fund.push_back(f.address);
  engine::evm::TransactionSender deployer(rpc, keys.at(0).key, (*anvil)->chain_id());
  auto deployment = engine::http::run_blocking(engine::evm::deploy_paychan(rpc, deployer, deploy_options));
  if (!deployment) return report("devnet", deployment.error());

  const auto& d = *deployment;
  std::printf("paychan devnet: anvil %s, hardfork %s\n", (*anvil)->binary().c_str(), anvil_options.hardfork.c_str());
  std::printf("  network           eip155:%llu\n", static_cast<unsigned long long>(d.chainId));
  std::printf("  rpc               %s\n", (*anvil)->url().c_str());
  std::printf("  batch settlement  %s\n", to_checksum_hex(d.settlement).c_str());
  std::printf("  erc3009 collector %s\n", to_checksum_hex(d.collector).c_str());
  std::printf("  test USDC         %s  (name \"%s\", version \"%s\", 6 decimals)\n", to_checksum_hex(d.token).c_str(),
              d.tokenName.c_str(), d.tokenVersion.c_str());
  std::printf("accounts, each minted %s atomic units of test USDC%s:\n", to_decimal(*mint).c_str(),
              extra.empty() ? " and holding 10000 ETH" : "");
  for (const auto& f : funded) {
    if (f.dev != nullptr)
      std::printf("  %s  key %s\n", to_checksum_hex(f.address).c_str(), f.dev->keyHex.c_str());
    else
      std::printf("  %s\n", to_checksum_hex(f.address).c_str());
  }
  if (extra.empty())
    std::printf("  (anvil's well-known test keys: DEVNET ONLY — public, never fund them on a real network)\n");
  if (auto out = args->option("out")) {
    if (auto written = write_private(*out, to_json(**anvil, d, funded, *mint)); !written)
      return report("devnet", written.error());
    std::printf("  written to %s\n", out->c_str());
  }
  std::printf("running; Ctrl-C stops the chain\n");
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::fprintf(stderr, "paychan devnet: %s received, stopping the chain\n", stop_signal_name(signal));
  if (auto out = args->option("out")) ::unlink(out->c_str());  // a stale file would point at a dead chain
  return kExitOk;
}

}  // namespace

extern const Command kDevnet{"devnet", "run a local chain with paychan's contracts and funded test accounts", kHelp,
                             run};

}  // namespace paychan::cli
