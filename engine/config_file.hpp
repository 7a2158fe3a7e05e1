// Reading an operator's configuration file: the whole text, at most 1 MiB (a config is a few KB; a
// larger file is a mistake, not something to parse).
// Thread-safety: reentrant (reads the file system).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "channel/result.hpp"

namespace paychan::engine {

inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

// Error: invalid_config naming the file (unreadable, larger than kMaxConfigFileBytes).
[[nodiscard]] Result<std::string> read_config_file(const std::string& path);

// For a message about a file the process did not find: " (looked for in the working directory
// D)" when `path` is relative (a service or cron job runs in another directory than the shell its
// operator tried it from), else "".
[[nodiscard]] std::string relative_to_working_directory(const std::string& path);

// A reload's refusal (invalid_config) of a configuration whose `members` (none empty) changed and
// only a restart applies: "payTo, store changed, which only a restart applies<why>; a reload
// applies <reloadable>".
[[nodiscard]] Failure restart_needed(std::span<const std::string_view> members, std::string_view why,
                                   std::string_view reloadable);

}  // namespace paychan::engine
