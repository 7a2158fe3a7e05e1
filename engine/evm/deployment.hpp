// Deploying paychan's contracts on a local chain (anvil): the batch-settlement contract, the
// ERC-3009 and Permit2 deposit collectors and Uniswap's Permit2 at their canonical addresses — the
// ones the reference SDK signs against — a stand-in for Multicall3 at its canonical address (contracts/src/TestMulticall3.sol,
// unless the chain has one), and a USDC-like test token at a fresh address, minted to the given
// accounts.
//
// Canonical placement: each contract is deployed normally, then its runtime code (as deployed, so
// with immutables filled in) is copied to the canonical address with anvil_setCode. Only code is
// copied, never storage: the contracts must not rely on constructor-written storage there. The
// collectors are constructed with the canonical settlement (and Permit2) addresses, which they
// keep as immutables. Permit2's compiled runtime code is placed as it is (contracts/build_permit2.mjs).
//
// Artifacts are the `contracts` CMake target's output, ${CMAKE_BINARY_DIR}/contracts/NAME.json,
// each {"contractName", "abi", "bytecode", "deployedBytecode"} with 0x-hex code.
// Thread-safety: free functions; one deployment at a time per deployer key.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"
#include "engine/evm/rpc_client.hpp"
#include "engine/evm/tx_sender.hpp"

namespace paychan::engine::evm {

struct ContractArtifact {
  std::string contractName;
  Bytes bytecode;          // creation code, without constructor arguments
  Bytes deployedBytecode;  // runtime code as compiled (immutables still zero)
};

// Reads NAME.json. Errors: invalid_config (missing, over 4 MiB, not the expected shape).
[[nodiscard]] Result<ContractArtifact> load_artifact(const std::filesystem::path& file);
// $PAYCHAN_CONTRACTS_DIR if set, else the build tree's contracts/ directory.
[[nodiscard]] std::filesystem::path default_artifacts_dir();

// Sends creationCode (bytecode ‖ ABI-encoded constructor arguments), waits for the receipt, and
// returns the new contract's address. Errors: as TransactionSender, and
// invalid_batch_settlement_evm_transaction_reverted when the constructor reverted.
[[nodiscard]] http::Awaitable<Result<Address>> deploy_contract(TransactionSender& deployer, Bytes creationCode,
                                                             WaitOptions wait = {});
// Places `code` at `to` (anvil_setCode) and checks it arrived.
[[nodiscard]] http::Awaitable<Status> place_code(RpcClient& rpc, const Address& to, const Bytes& code);
// Deploys `creationCode`, then copies the runtime code it left (immutables filled in) to `at`.
[[nodiscard]] http::Awaitable<Status> deploy_to(RpcClient& rpc, TransactionSender& deployer, Bytes creationCode,
                                                const Address& at);
// Copies the runtime code found at `from` to `to` (anvil_setCode) and checks it arrived.
[[nodiscard]] http::Awaitable<Status> copy_code(RpcClient& rpc, const Address& from, const Address& to);

struct DeploymentOptions {
  std::filesystem::path artifacts = default_artifacts_dir();
  std::string tokenName = "USDC";  // the test token's EIP-712 domain name and version
  std::string tokenVersion = "2";
  std::vector<Address> fund;             // minted mintAmount of the test token each
  Uint128 mintAmount = 1'000'000'000'000;  // 1,000,000 USDC (6 decimals)
};

struct Deployment {
  std::uint64_t chainId = 0;
  Address settlement;  // kBatchSettlementAddress
  Address collector;   // kErc3009CollectorAddress
  Address permit2Collector;  // kPermit2CollectorAddress (Permit2 itself at kPermit2Address)
  Address token;       // TestUSDC, 6 decimals
  std::string tokenName;
  std::string tokenVersion;
};

// Deploys and funds as described above, from `deployer` (a funded dev account).
[[nodiscard]] http::Awaitable<Result<Deployment>> deploy_paychan(RpcClient& rpc, TransactionSender& deployer,
                                                               DeploymentOptions options);

}  // namespace paychan::engine::evm
