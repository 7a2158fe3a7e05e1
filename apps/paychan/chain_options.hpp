// --chain-id / --contract: which EIP-712 domain the scheme's signatures live in; --rpc: which node.
#pragma once

#include <optional>
#include <string>

#include "channel/bytes.hpp"
#include "cli.hpp"

namespace paychan::cli {

// The batch-settlement domain separator for --chain-id (required) and --contract (default canonical).
[[nodiscard]] Result<Bytes32> scheme_domain(const Args& args);

// The chain's JSON-RPC endpoint: --rpc, else $PAYCHAN_RPC when it is set.
[[nodiscard]] std::optional<std::string> rpc_url(const Args& args);
// How a message names the node `url` came from: "--rpc URL", or "$PAYCHAN_RPC URL" when it came
// from the environment (a user who gave no --rpc would look for one in vain).
[[nodiscard]] std::string rpc_named(const Args& args, const std::string& url);

}  // namespace paychan::cli
