// The --key-file / --key-env options shared by every command that signs.
#pragma once

#include "channel/ecdsa.hpp"
#include "cli.hpp"

namespace paychan::cli {

// --key-file FILE, else --key-env VAR, else the PAYCHAN_KEY environment variable.
[[nodiscard]] Result<PrivateKey> load_key(const Args& args);

}  // namespace paychan::cli
