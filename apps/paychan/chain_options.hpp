// --chain-id / --contract: which EIP-712 domain the scheme's signatures live in.
#pragma once

#include "channel/bytes.hpp"
#include "cli.hpp"

namespace paychan::cli {

// The batch-settlement domain separator for --chain-id (required) and --contract (default canonical).
[[nodiscard]] Result<Bytes32> scheme_domain(const Args& args);

}  // namespace paychan::cli
