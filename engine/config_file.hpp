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

}  // namespace paychan::engine
