// One network the facilitator serves, as configured. The contract addresses default to the
// canonical CREATE2 ones (the reference SDK signs against those); a local chain may carry them
// elsewhere.
// Thread-safety: plain value.
#pragma once

#include <string>

#include "channel/address.hpp"
#include "channel/eip712.hpp"

namespace paychan::engine::facilitator {

struct NetworkOptions {
  std::string network;  // CAIP-2, "eip155:<chainId>"
  std::string rpcUrl;   // http://host:port[/path] of the node
  Address batchSettlement = kBatchSettlementAddress;
  Address erc3009Collector = kErc3009CollectorAddress;
};

}  // namespace paychan::engine::facilitator
