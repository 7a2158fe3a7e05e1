// paychan key new / key address / key token — make a key file for an agent, a receiver authorizer
// or a facilitator signer, show the address of a key without showing the key, and make the bearer
// token a facilitator knows a server by.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

constexpr std::string_view kTokenHelp = R"(usage: paychan key token --out FILE

Creates a new random bearer token ("pct_" and 32 random bytes in hex) in FILE (mode 0600,
refuses to overwrite). A facilitator with "clients" in its configuration knows each server by
such a token: name the file as a client's "tokenFile" there, and as "facilitatorTokenFile" in the
gate's configuration (the settle job reads it from there too). Prints nothing: the token is never
shown.

  paychan key token --out gate.token
)";

// Writes `text` and a newline to a new file `out` (0600, never an existing one), synced, then
// wipes `text` and `secret`, the secret it was made from. Error: invalid_payload.
Status write_secret(const std::string& out, std::string& text, Bytes32& secret) {
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  const int open_error = errno;
  const bool written = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::write(fd, "\n", 1) == 1 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  std::fill(text.begin(), text.end(), '\0');
  secret.fill(0);
  if (fd < 0)
    return fail(ErrorCode::invalid_payload, "cannot create " + out + ": " +
                                                (open_error == EEXIST ? "it exists (never overwritten)" : std::strerror(open_error)));
  if (!written) return fail(ErrorCode::invalid_payload, "cannot write " + out);
  return {};
}

// The --out FILE of `key new` and `key token`.
Result<std::string> out_file(std::span<char* const> argv) {
  const std::string_view known[] = {"out"};
  PAYCHAN_ASSIGN(auto args, parse_command(argv, known));
  const auto out = args.option("out");
  if (!out) return fail(ErrorCode::invalid_payload, "--out FILE is required");
  return std::string(*out);
}

int run_new(std::span<char* const> argv) {
  auto out = out_file(argv);
  if (!out) return report("key new", out.error());
  auto drawn = engine::random_key_secret();
  if (!drawn) return report("key new", drawn.error());
  Bytes32 secret = *drawn;
  const auto key = PrivateKey::from_bytes(secret);
  std::string text = to_hex(secret);
  if (Status s = write_secret(*out, text, secret); !s) return report("key new", s.error());
  std::cout << R"({"address":")" << to_checksum_hex(key->address()) << "\"}\n";
  return kExitOk;
}

int run_token(std::span<char* const> argv) {
  auto out = out_file(argv);
  if (!out) return report("key token", out.error());
  auto drawn = engine::random_key_secret();  // 32 random bytes
  if (!drawn) return report("key token", drawn.error());
  // The prefix instead of 0x: a token file is never mistaken for a key file, nor a key for a token.
  std::string hex = to_hex(*drawn);
  std::string text;
  text.reserve(engine::kTokenPrefix.size() + hex.size() - 2);  // one allocation: no stray copy to wipe
  text.append(engine::kTokenPrefix).append(hex, 2);
  std::fill(hex.begin(), hex.end(), '\0');
  if (Status s = write_secret(*out, text, *drawn); !s) return report("key token", s.error());
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
extern const Command kKeyToken{"key token", "create a bearer token file (0600) for a facilitator's client", kTokenHelp,
                               run_token};

}  // namespace paychan::cli
