#include "engine/evm/deployment.hpp"

#include <rapidjson/document.h>

#include <cstdlib>
#include <fstream>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "engine/chain/abi.hpp"
#include "engine/chain/multicall3.hpp"
#include "engine/chain/transaction.hpp"

namespace paychan::engine::evm {
namespace {

constexpr std::uintmax_t kMaxArtifactBytes = 4 << 20;

Failure config_fail(std::string detail) { return fail(ErrorCode::invalid_config, std::move(detail)); }

Result<Bytes> code_field(const rapidjson::Document& doc, const char* name, const std::string& file) {
  if (!doc.HasMember(name) || !doc[name].IsString()) return config_fail(file + ": no " + name);
  auto code = bytes_from_hex({doc[name].GetString(), doc[name].GetStringLength()});
  if (!code || code->empty()) return config_fail(file + ": " + name + " is not 0x-hex code");
  return code;
}

// creation code ‖ abi.encode(arguments)
Bytes with_arguments(const Bytes& bytecode, std::vector<chain::AbiValue> arguments) {
  Bytes out = bytecode;
  chain::AbiValue::tuple(std::move(arguments)).encode_to(out);
  return out;
}

}  // namespace

Result<ContractArtifact> load_artifact(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return config_fail(name + ": cannot read (build the `contracts` target first)");
  if (size > kMaxArtifactBytes) return config_fail(name + ": larger than 4 MiB");
  std::ifstream in(file, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) return config_fail(name + ": cannot read");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return config_fail(name + ": not a JSON object");
  ContractArtifact artifact;
  if (!doc.HasMember("contractName") || !doc["contractName"].IsString()) return config_fail(name + ": no contractName");
  artifact.contractName = doc["contractName"].GetString();
  PAYCHAN_ASSIGN(artifact.bytecode, code_field(doc, "bytecode", name));
  PAYCHAN_ASSIGN(artifact.deployedBytecode, code_field(doc, "deployedBytecode", name));
  return artifact;
}

std::filesystem::path default_artifacts_dir() {
  if (const char* env = std::getenv("PAYCHAN_CONTRACTS_DIR"); env != nullptr && *env != '\0') return env;
  return PAYCHAN_CONTRACTS_DIR;
}

http::Awaitable<Result<Address>> deploy_contract(TransactionSender& deployer, Bytes creationCode, WaitOptions wait) {
  TxRequest request;
  request.data = std::move(creationCode);
  auto sent = co_await deployer.submit(std::move(request));
  if (!sent) co_return sent.failure();
  auto receipt = co_await deployer.wait(*sent, wait);
  if (!receipt) co_return receipt.failure();
  if (!receipt->success)
    co_return fail(ErrorCode::invalid_batch_settlement_evm_transaction_reverted,
                   "constructor reverted in " + to_hex(receipt->transactionHash));
  co_return chain::create_address(deployer.address(), sent->nonce);
}

http::Awaitable<Status> place_code(RpcClient& rpc, const Address& to, const Bytes& code) {
  auto set = co_await rpc.raw("anvil_setCode",
                              "[" + chain::quote(to_hex(to.bytes)) + "," + chain::quote(to_hex(code)) + "]");
  if (!set) co_return set.failure();
  auto placed = co_await rpc.code(to);
  if (!placed) co_return placed.failure();
  if (*placed != code) co_return config_fail("anvil_setCode did not place the code at " + to_checksum_hex(to));
  co_return Status{};
}

http::Awaitable<Status> deploy_to(RpcClient& rpc, TransactionSender& deployer, Bytes creationCode, const Address& at) {
  auto fresh = co_await deploy_contract(deployer, std::move(creationCode));
  if (!fresh) co_return fresh.failure();
  co_return co_await copy_code(rpc, *fresh, at);
}

http::Awaitable<Status> copy_code(RpcClient& rpc, const Address& from, const Address& to) {
  auto code = co_await rpc.code(from);
  if (!code) co_return code.failure();
  if (code->empty()) co_return config_fail("no code at " + to_checksum_hex(from));
  co_return co_await place_code(rpc, to, *code);
}

http::Awaitable<Result<Deployment>> deploy_paychan(RpcClient& rpc, TransactionSender& deployer,
                                                   DeploymentOptions options) {
  auto settlement = load_artifact(options.artifacts / "X402BatchSettlement.json");
  if (!settlement) co_return settlement.failure();
  auto collector = load_artifact(options.artifacts / "ERC3009DepositCollector.json");
  if (!collector) co_return collector.failure();
  auto permit2_collector = load_artifact(options.artifacts / "Permit2DepositCollector.json");
  if (!permit2_collector) co_return permit2_collector.failure();
  auto permit2 = load_artifact(options.artifacts / "Permit2.json");
  if (!permit2) co_return permit2.failure();
  auto token = load_artifact(options.artifacts / "TestUSDC.json");
  if (!token) co_return token.failure();
  auto multicall = load_artifact(options.artifacts / "TestMulticall3.json");
  if (!multicall) co_return multicall.failure();
  auto chain_id = co_await rpc.chain_id();
  if (!chain_id) co_return chain_id.failure();

  Deployment out;
  out.chainId = *chain_id;
  out.settlement = kBatchSettlementAddress;
  out.collector = kErc3009CollectorAddress;
  out.permit2Collector = kPermit2CollectorAddress;
  out.tokenName = options.tokenName;
  out.tokenVersion = options.tokenVersion;

  if (auto placed = co_await deploy_to(rpc, deployer, settlement->bytecode, out.settlement); !placed)
    co_return placed.failure();
  // (Creation codes are named: g++ 12 cannot keep a braced list's temporaries across co_await.)
  Bytes collector_code = with_arguments(collector->bytecode, {chain::AbiValue::address(out.settlement)});
  if (auto placed = co_await deploy_to(rpc, deployer, std::move(collector_code), out.collector); !placed)
    co_return placed.failure();

  // Permit2's runtime code as compiled, its immutables zero: contracts/build_permit2.mjs says why
  // that is its canonical address's Permit2 on any chain. A chain that has one (a fork) keeps it.
  auto permit2_code = co_await rpc.code(kPermit2Address);
  if (!permit2_code) co_return permit2_code.failure();
  if (permit2_code->empty()) {
    if (auto placed = co_await place_code(rpc, kPermit2Address, permit2->deployedBytecode); !placed)
      co_return placed.failure();
  }
  Bytes permit2_collector_code = with_arguments(
      permit2_collector->bytecode, {chain::AbiValue::address(out.settlement), chain::AbiValue::address(kPermit2Address)});
  if (auto placed = co_await deploy_to(rpc, deployer, std::move(permit2_collector_code), out.permit2Collector); !placed)
    co_return placed.failure();

  // A wallet not deployed yet deposits through Multicall3 (engine/chain/multicall3.hpp), which
  // real chains have and anvil lacks.
  auto existing = co_await rpc.code(chain::kMulticall3Address);
  if (!existing) co_return existing.failure();
  if (existing->empty()) {
    if (auto placed = co_await deploy_to(rpc, deployer, multicall->bytecode, chain::kMulticall3Address); !placed)
      co_return placed.failure();
  }

  // string and bytes share one ABI encoding.
  const Bytes token_code = with_arguments(
      token->bytecode, {chain::AbiValue::bytes(as_bytes(options.tokenName)), chain::AbiValue::bytes(as_bytes(options.tokenVersion))});
  auto token_address = co_await deploy_contract(deployer, token_code);
  if (!token_address) co_return token_address.failure();
  out.token = *token_address;

  // All mints in flight at once (the sender numbers them), then their receipts.
  std::vector<SentTransaction> mints;
  for (const auto& account : options.fund) {
    TxRequest mint;
    mint.to = out.token;
    mint.data = chain::encode_call("mint(address,uint256)",
                                   {chain::AbiValue::address(account), chain::AbiValue::uint(U256{options.mintAmount})});
    auto sent = co_await deployer.submit(std::move(mint));
    if (!sent) co_return sent.failure();
    mints.push_back(std::move(*sent));
  }
  for (const auto& sent : mints) {
    auto receipt = co_await deployer.wait(sent);
    if (!receipt) co_return receipt.failure();
    if (!receipt->success)
      co_return fail(ErrorCode::invalid_batch_settlement_evm_transaction_reverted,
                     "mint reverted in " + to_hex(receipt->transactionHash));
  }
  co_return out;
}

}  // namespace paychan::engine::evm
