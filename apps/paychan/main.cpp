// paychan: x402 batch-settlement payments for machines. `paychan --help` lists the commands.
#include <algorithm>
#include <cstdio>
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

// For "voucher": a line per command of the group ("  paychan voucher sign   sign a …"); "" if
// there is no such group.
std::string subcommands_of(std::string_view group) {
  std::string lines;
  for (const auto& c : paychan::cli::commands()) {
    const auto space = c.name.find(' ');
    if (space == std::string_view::npos || c.name.substr(0, space) != group) continue;
    std::string name = "paychan " + std::string{c.name};
    name.resize(std::max<std::size_t>(name.size() + 2, 26), ' ');
    lines += "  " + name + std::string{c.summary} + '\n';
  }
  return lines;
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
      const bool asked = argc >= 3 && (std::strcmp(argv[2], "--help") == 0 || std::strcmp(argv[2], "-h") == 0);
      (asked ? std::cout : std::cerr) << "usage: paychan " << argv[1] << " SUBCOMMAND [ARGS...]   (paychan " << argv[1]
                                      << " SUBCOMMAND --help for its options)\n\n" << group;
      return asked ? paychan::cli::kExitOk : paychan::cli::kExitUsage;
    }
    std::cerr << "paychan: unknown command '" << argv[1] << "'\n\n";
    print_usage(std::cerr);
    return paychan::cli::kExitUsage;
  }
  for (int i = consumed; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << command->help << command->shared_help << std::flush;
      return std::cout ? paychan::cli::kExitOk : paychan::cli::kExitNo;
    }
  }
  try {
    const int status = command->run({argv + consumed, static_cast<std::size_t>(argc - consumed)});
    // Output that never arrived (a full disk, a closed pipe) is no success, whatever the command did
    // (a command that failed has said why already).
    const bool written = (std::cout.flush(), std::fflush(stdout) == 0 && !std::ferror(stdout) && std::cout);
    if (status == paychan::cli::kExitOk && !written) {
      std::cerr << "paychan " << command->name << ": could not write its output to stdout\n";
      return paychan::cli::kExitNo;
    }
    return status;
  } catch (const std::exception& e) {
    // The pure layers do not throw; this catches what the I/O layers may (allocation, Asio).
    std::cerr << "paychan " << command->name << ": internal error: " << e.what() << '\n';
    return paychan::cli::kExitUsage;
  }
}
