// Anvil: a local Ethereum node (Foundry's anvil) as a child process, for `paychan devnet`, the
// demo and the tests. It listens on 127.0.0.1 on a port the OS picks (or a given one), runs the
// chosen hardfork's rules (Cancun or later: the contracts use transient storage and MCOPY), and
// funds anvil's well-known dev accounts, whose keys it publishes — devnet only.
//
// Which binary: AnvilOptions::binary, else $PAYCHAN_ANVIL, else the project's npm copy
// (node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil under the source tree), else `anvil` on
// PATH. The child runs in its own process group (a terminal's Ctrl-C reaches paychan, which then
// stops it) and receives SIGTERM if the thread that started it exits first (a crashed test leaves
// no node behind) — start it from a thread that lives as long as the node.
// Thread-safety: immutable after start; the destructor stops the node (SIGTERM, SIGKILL after 5 s).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "channel/ecdsa.hpp"
#include "channel/result.hpp"

namespace paychan::engine::evm {

struct AnvilOptions {
  std::string binary;  // empty: see the lookup order above
  std::uint64_t chainId = 31337;
  std::string hardfork = "prague";
  std::uint16_t port = 0;  // 0: any free port
  bool automine = true;    // false: --no-mining, transactions wait in the pool for evm_mine
  std::uint32_t accounts = 10;
  std::chrono::milliseconds startup_timeout{30'000};
};

// A funded dev account. Its key is anvil's well-known test key, published by anvil itself, so
// it is kept as text too (paychan devnet prints it); never use it outside a devnet.
struct DevAccount {
  PrivateKey key;
  std::string keyHex;
};

class Anvil {
 public:
  // Starts the node and returns once it answers eth_chainId with options.chainId. Errors:
  // invalid_config (no binary, it cannot be run, it exited), invalid_batch_settlement_evm_rpc_read_failed
  // (not ready within startup_timeout).
  [[nodiscard]] static Result<std::unique_ptr<Anvil>> start(AnvilOptions options = {});
  Anvil(const Anvil&) = delete;
  Anvil& operator=(const Anvil&) = delete;
  ~Anvil();

  [[nodiscard]] std::string url() const;  // http://127.0.0.1:PORT
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::uint64_t chain_id() const noexcept { return options_.chainId; }
  [[nodiscard]] const AnvilOptions& options() const noexcept { return options_; }
  [[nodiscard]] const std::string& binary() const noexcept { return binary_; }
  // The funded dev accounts (10,000 ETH each), as anvil reports them.
  [[nodiscard]] const std::vector<DevAccount>& accounts() const noexcept { return accounts_; }
  // The last few kilobytes anvil printed (for error reports).
  [[nodiscard]] std::string output_tail() const;

 private:
  struct Output;
  explicit Anvil(AnvilOptions options);
  [[nodiscard]] Status launch();
  void stop() noexcept;

  AnvilOptions options_;
  std::string binary_;
  std::filesystem::path dir_;  // a private temp dir for anvil's --config-out
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::vector<DevAccount> accounts_;
  std::unique_ptr<Output> output_;
};

// The anvil binary that Anvil::start would run with `explicit_path` (may be empty), or an
// invalid_config error naming where it looked.
[[nodiscard]] Result<std::string> find_anvil(const std::string& explicit_path = {});

}  // namespace paychan::engine::evm
