// The subcommands of `paychan`. Each lives in its own cmd_*.cpp and registers here.
#pragma once

#include <span>
#include <string_view>

namespace paychan::cli {

struct Command {
  std::string_view name;     // e.g. "voucher sign"
  std::string_view summary;  // one line for `paychan --help`
  std::string_view help;     // the full text for `paychan NAME --help`
  int (*run)(std::span<char* const> args);
  std::string_view shared_help = {};  // options several commands share, printed after `help`
};

std::span<const Command> commands();

}  // namespace paychan::cli
