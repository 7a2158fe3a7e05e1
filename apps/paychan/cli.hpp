// The command-line conventions every paychan subcommand shares: `--name value` / `--name=value`
// options (curl's -X, -H, -d, -v as short forms of --request, --header, --data, --verbose),
// positional arguments, JSON in (file or stdin) and JSON out, and exit codes
//   0 success, 1 a negative answer (e.g. a signature that does not verify), 2 bad usage or input.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "channel/result.hpp"

namespace paychan::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNo = 1;
inline constexpr int kExitUsage = 2;

class Args {
 public:
  // `known`: every option name the command takes (others are usage errors, so typos do not pass
  // silently); `flags`: those that take no value (e.g. "help", "verbose"); `max_positional`: how
  // many other arguments it takes (more are usage errors, not silently ignored).
  [[nodiscard]] static Result<Args> parse(std::span<char* const> argv, std::span<const std::string_view> known,
                                          std::span<const std::string_view> flags, std::size_t max_positional);

  [[nodiscard]] bool has(std::string_view name) const { return options_.contains(std::string{name}); }
  // The last value given for --name (an option may be repeated).
  [[nodiscard]] std::optional<std::string> option(std::string_view name) const;
  // Every value given for --name, in order (e.g. repeated -H headers).
  [[nodiscard]] std::vector<std::string> options(std::string_view name) const;
  [[nodiscard]] const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> options_;
  std::vector<std::string> positional_;
};

// A command's options (Args::parse), with typos reported as usage errors.
[[nodiscard]] Result<Args> parse_command(std::span<char* const> argv, std::span<const std::string_view> known,
                                         std::span<const std::string_view> flags = {}, std::size_t max_positional = 0);

// The text of FILE, or of stdin for "-" or no file. Input is capped at `limit` bytes.
[[nodiscard]] Result<std::string> read_input(const std::optional<std::string>& file, std::size_t limit = 1 << 20);
// An argument that is a value itself, or names where it is: stdin for "-" or no argument, the
// text of the file or pipe it names, else the argument as given (a header value or JSON, which no
// file is named like).
[[nodiscard]] Result<std::string> read_value(std::span<const std::string> positional);

// "60s", "5m", "1h", "30d" (a bare number is seconds): more than zero, at most a year.
// Errors: invalid_config.
[[nodiscard]] Result<std::chrono::seconds> parse_duration(std::string_view text);

// "paychan <command>: <code>: <detail>" on stderr; returns kExitUsage.
int report(std::string_view command, const Error& error);

}  // namespace paychan::cli
