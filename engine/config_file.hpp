// Reading an operator's configuration file: the whole text, at most 1 MiB (a config is a few KB; a
// larger file is a mistake, not something to parse).
// Thread-safety: reentrant (reads the file system).
#pragma once

#include <string>

#include "channel/result.hpp"

namespace paychan::engine {

inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

// Error: invalid_config naming the file (unreadable, larger than kMaxConfigFileBytes).
[[nodiscard]] Result<std::string> read_config_file(const std::string& path);

// A path written in the configuration file `config_file`, as the process opens it: a relative one
// is the config's, taken from the config's directory (not from the working directory of whoever
// runs it: cron runs jobs from $HOME). Absolute and empty paths are unchanged, and so is every
// path of a config read from a pipe (--config <(envsubst < gate.json)), which has no directory.
[[nodiscard]] std::string beside_config(const std::string& config_file, const std::string& path);

}  // namespace paychan::engine
