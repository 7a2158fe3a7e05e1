#include "commands.hpp"

namespace paychan::cli {

// Each command is defined in its cmd_*.cpp.
extern const Command kDemo;
extern const Command kKeyNew;
extern const Command kKeyAddress;

std::span<const Command> commands() {
  // A function-local static: filled on first use, after every command's constant initialization.
  static const Command table[] = {kDemo, kKeyNew, kKeyAddress};
  return table;
}

}  // namespace paychan::cli
