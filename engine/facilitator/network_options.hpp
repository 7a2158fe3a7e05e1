// One network the facilitator serves, as configured. The contract addresses default to the
// canonical CREATE2 ones (the reference SDK signs against those); a local chain may carry them
// elsewhere. `eip6492AllowedFactories`: the wallet factories whose ERC-6492 deployments the
// facilitator makes (and pays the gas of) for a deposit from a wallet not deployed yet; empty, as
// the reference's default, refuses such deposits (eip6492_factory_not_allowed).
// Thread-safety: plain value.
#pragma once

#include <string>
#include <vector>

#include "channel/address.hpp"
#include "channel/eip712.hpp"
#include "engine/chain/multicall3.hpp"

namespace paychan::engine::facilitator {

struct NetworkOptions {
  std::string network;  // CAIP-2, "eip155:<chainId>"
  std::string rpcUrl;   // http://host:port[/path] of the node
  Address batchSettlement = kBatchSettlementAddress;
  Address erc3009Collector = kErc3009CollectorAddress;
  Address permit2Collector = kPermit2CollectorAddress;
  Address permit2 = kPermit2Address;  // Uniswap's Permit2, whose domain Permit2 deposits are signed under
  Address multicall3 = chain::kMulticall3Address;  // runs a wallet's deployment and its deposit together
  std::vector<Address> eip6492AllowedFactories;
  friend bool operator==(const NetworkOptions&, const NetworkOptions&) = default;
};

}  // namespace paychan::engine::facilitator
