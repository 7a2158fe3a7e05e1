// paychan: x402 batch-settlement payments for machines. `paychan --help` lists the commands.
#include <cstring>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "cli.hpp"

namespace {

constexpr std::string_view kUsage = R"(paychan — pay-per-request over HTTP 402 with x402 batch-settlement channels (EVM)

usage: paychan COMMAND [ARGS...]        paychan COMMAND --help   for a command's options and examples
                                        paychan --version

Commands:
)";

constexpr std::string_view kFooter = R"(
JSON goes in on stdin (or a FILE argument) and comes out on stdout. Exit status: 0 success,
1 a negative answer (e.g. a signature that does not verify), 2 bad usage or bad input.
Keys are read from a file only its owner can read (--key-file) or an environment variable
(--key-env); they are never printed.
)";

void print_usage(std::ostream& out) {
  out << kUsage;
  for (const auto& c : paychan::cli::commands()) {
    std::string name{c.name};
    name.resize(std::max<std::size_t>(name.size() + 2, 18), ' ');
    out << "  " << name << c.summary << '\n';
  }
  out << kFooter;
}

// The longest registered command name that prefixes argv (commands may be two words).
const paychan::cli::Command* find(int argc, char** argv, int& consumed) {
  const paychan::cli::Command* best = nullptr;
  for (const auto& c : paychan::cli::commands()) {
    const auto space = c.name.find(' ');
    const std::string_view first = c.name.substr(0, space);
    if (argc < 2 || first != argv[1]) continue;
    if (space == std::string_view::npos) {
      if (best == nullptr) best = &c, consumed = 2;
    } else if (argc >= 3 && c.name.substr(space + 1) == argv[2]) {
      best = &c, consumed = 3;
    }
  }
  return best;
}

// "sign, verify" for "voucher": the second words of a two-word command group, or "" if none.
std::string subcommands_of(std::string_view group) {
  std::string names;
  for (const auto& c : paychan::cli::commands()) {
    const auto space = c.name.find(' ');
    if (space == std::string_view::npos || c.name.substr(0, space) != group) continue;
    names += (names.empty() ? "" : ", ") + std::string{c.name.substr(space + 1)};
  }
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    print_usage(std::cout);
    return argc < 2 ? paychan::cli::kExitUsage : paychan::cli::kExitOk;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::cout << "paychan " << PAYCHAN_VERSION << '\n';
    return paychan::cli::kExitOk;
  }
  int consumed = 0;
  const auto* command = find(argc, argv, consumed);
  if (command == nullptr) {
    if (const std::string group = subcommands_of(argv[1]); !group.empty()) {
      std::cerr << "paychan " << argv[1] << ": one of " << group << " expected (paychan " << argv[1]
                << " SUBCOMMAND --help)\n";
      return paychan::cli::kExitUsage;
    }
    std::cerr << "paychan: unknown command '" << argv[1] << "'\n\n";
    print_usage(std::cerr);
    return paychan::cli::kExitUsage;
  }
  for (int i = consumed; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << command->help << command->shared_help;
      return paychan::cli::kExitOk;
    }
  }
  try {
    return command->run({argv + consumed, static_cast<std::size_t>(argc - consumed)});
  } catch (const std::exception& e) {
    // The pure layers do not throw; this catches what the I/O layers may (allocation, Asio).
    std::cerr << "paychan " << command->name << ": internal error: " << e.what() << '\n';
    return paychan::cli::kExitUsage;
  }
}
