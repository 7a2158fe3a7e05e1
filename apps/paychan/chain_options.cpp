#include "chain_options.hpp"

#include <cstdlib>

#include "channel/eip712.hpp"

namespace paychan::cli {

Result<Bytes32> scheme_domain(const Args& args) {
  const auto chain = args.option("chain-id");
  if (!chain) return fail(ErrorCode::invalid_network, "--chain-id N is required (e.g. 8453 for Base)");
  auto id = parse_uint128(*chain);
  if (!id || *id == 0 || *id > UINT64_MAX) return fail(ErrorCode::invalid_network, "--chain-id must be a positive integer");
  Address contract = kBatchSettlementAddress;
  if (auto c = args.option("contract")) {
    auto parsed = parse_address(*c);
    if (!parsed) return fail(ErrorCode::malformed_address, "--contract: " + parsed.error().detail);
    contract = *parsed;
  }
  return batch_settlement_domain_separator(static_cast<std::uint64_t>(*id), contract);
}

std::optional<std::string> rpc_url(const Args& args) {
  if (auto rpc = args.option("rpc")) return rpc;
  if (const char* env = std::getenv("PAYCHAN_RPC")) return std::string{env};
  return std::nullopt;
}

std::string rpc_named(const Args& args, const std::string& url) {
  return (args.option("rpc") ? "--rpc " : "$PAYCHAN_RPC ") + url;
}

}  // namespace paychan::cli
