// Loading a private key (or a bearer token) from where an operator keeps it: a file readable by its owner only, or an
// environment variable. The key is never echoed, logged or put in an error message.
// Thread-safety: reentrant (reads the file system / environment).
#pragma once

#include <string>

#include "channel/ecdsa.hpp"
#include "channel/result.hpp"

namespace paychan::engine {

// A file holding one 0x-prefixed 32-byte hex key (surrounding whitespace ignored). Refuses a file
// that group or others may read (like ssh does), so a key cannot leak through loose permissions.
// Errors: invalid_payload with the reason (missing, permissions, not a key).
[[nodiscard]] Result<PrivateKey> load_key_file(const std::string& path);

// The same format from an environment variable. Errors: invalid_payload.
[[nodiscard]] Result<PrivateKey> load_key_env(const std::string& variable);

// A bearer token (engine/facilitator/client_auth.hpp) from a file with the same permission rule:
// at least kMinTokenLength visible ASCII characters, surrounding whitespace ignored, and not a
// private key (a key file named by mistake would be sent in clear). Errors: invalid_payload with
// the reason; the token never appears in one.
inline constexpr std::size_t kMinTokenLength = 32;
[[nodiscard]] Result<std::string> load_token_file(const std::string& path);
// What `paychan key token` writes before the token's 64 hex digits (a key file starts with 0x).
inline constexpr std::string_view kTokenPrefix = "pct_";

// A new secret from the system's random source (getrandom), drawn again in the ~2^-128 case that
// the bytes are not a valid key. Error: invalid_payload when the random source fails.
[[nodiscard]] Result<Bytes32> random_key_secret();

}  // namespace paychan::engine
