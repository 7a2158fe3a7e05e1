// Reading an operator's configuration file: the whole text, at most 1 MiB (a config is a few KB; a
// larger file is a mistake, not something to parse).
// Thread-safety: reentrant (reads the file system).
#pragma once

#include <string>
#include <string_view>

#include "channel/result.hpp"

namespace paychan::engine {

inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

// Error: invalid_config naming the file (unreadable, larger than kMaxConfigFileBytes).
[[nodiscard]] Result<std::string> read_config_file(const std::string& path);

// A path written in field `field` of the configuration file `config_file`, as the process opens
// it: a relative one is the config's, taken from the directory of the file itself (symlinks
// followed), not from the working directory of whoever runs it (cron runs jobs from $HOME).
// Absolute and empty paths, SQLite's special names (":memory:"), and every path of a config read
// from a pipe (--config <(envsubst < gate.json)), which has no directory, are unchanged.
// Error: invalid_config when the file the path named before (from the working directory) exists
// and the config's does not: a deployment from before this rule, whose store would otherwise be
// started afresh beside the config, its vouchers left unclaimed.
[[nodiscard]] Result<std::string> beside_config(const std::string& config_file, std::string_view field,
                                                const std::string& path);

}  // namespace paychan::engine
