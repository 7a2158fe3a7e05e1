// paychan key new / key address — make a key file for an agent, a receiver authorizer or a
// facilitator signer, and show the address of a key without showing the key.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "channel/hex.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "engine/key_source.hpp"
#include "key_options.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kNewHelp = R"(usage: paychan key new --out FILE

Creates a new secp256k1 private key in FILE (mode 0600, refuses to overwrite) and prints its
address as JSON: {"address": "0x…"}. The key itself is never printed.

  paychan key new --out agent.key
)";

constexpr std::string_view kAddressHelp = R"(usage: paychan key address (--key-file FILE | --key-env VAR)

Prints the EIP-55 address of a key as JSON: {"address": "0x…"}.

  paychan key address --key-file agent.key
  PAYCHAN_KEY=0x… paychan key address --key-env PAYCHAN_KEY
)";

int run_new(std::span<char* const> argv) {
  const std::string_view known[] = {"out"};
  auto args = parse_command(argv, known);
  if (!args) return report("key new", args.error());
  const auto out = args->option("out");
  if (!out) return report("key new", Error{ErrorCode::invalid_payload, "--out FILE is required"});

  auto drawn = engine::random_key_secret();
  if (!drawn) return report("key new", drawn.error());
  Bytes32 secret = *drawn;
  const auto key = PrivateKey::from_bytes(secret);
  const int fd = ::open(out->c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return report("key new", Error{ErrorCode::invalid_payload, "cannot create " + *out + " (exists?)"});
  std::string text = to_hex(secret) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  std::fill(text.begin(), text.end(), '\0');
  secret.fill(0);
  if (!written) return report("key new", Error{ErrorCode::invalid_payload, "cannot write " + *out});
  std::cout << R"({"address":")" << to_checksum_hex(key->address()) << "\"}\n";
  return kExitOk;
}

int run_address(std::span<char* const> argv) {
  const std::string_view known[] = {"key-file", "key-env"};
  auto args = parse_command(argv, known);
  if (!args) return report("key address", args.error());
  auto key = load_key(*args);
  if (!key) return report("key address", key.error());
  std::cout << R"({"address":")" << to_checksum_hex(key->address()) << "\"}\n";
  return kExitOk;
}

}  // namespace

extern const Command kKeyNew{"key new", "create a private key file (0600) and print its address", kNewHelp, run_new};
extern const Command kKeyAddress{"key address", "print the address of a key", kAddressHelp, run_address};

}  // namespace paychan::cli
