#include "engine/key_source.hpp"

#include <sys/random.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "engine/config_file.hpp"

namespace paychan::engine {
namespace {

constexpr std::size_t kMaxKeyText = 256;
constexpr std::size_t kMaxTokenText = 1024;

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// A key pasted where a file path or a variable's name belongs: the error must not echo it.
bool looks_like_key(std::string_view s) {
  s = trim(s);
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

Failure pasted_key(const std::string& what) {
  return fail(ErrorCode::invalid_payload, "the " + what + " given is a key itself, or looks like one (not shown): put "
                                          "it in a file only you can read and name that file");
}

// The text of a file holding a secret: a regular file no one but its owner may access (as ssh
// insists), at most `max_size` bytes. `what` names the file in errors; the text never appears in one.
Result<std::string> read_secret_file(const std::string& path, const std::string& what, std::size_t max_size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (looks_like_key(path)) return pasted_key(what + " path");  // (a file may be named so; none is)
    return fail(ErrorCode::invalid_payload, what + " " + path + " not found" + relative_to_working_directory(path));
  }
  if (!S_ISREG(st.st_mode)) return fail(ErrorCode::invalid_payload, what + " " + path + " is not a regular file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    return fail(ErrorCode::invalid_payload,
                what + " " + path + " is accessible by group or others; run: chmod 600 " + path);
  if (st.st_size > static_cast<off_t>(max_size))
    return fail(ErrorCode::invalid_payload, what + " " + path + " is too large");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return fail(ErrorCode::invalid_payload, what + " " + path + " cannot be read");
  return text.str();
}

// Parses the key text; the detail never contains the text itself.
Result<PrivateKey> parse_key_text(std::string_view text, const std::string& where) {
  auto key = PrivateKey::from_hex(trim(text));
  if (!key) return fail(ErrorCode::invalid_payload, where + " does not hold a 0x-prefixed 32-byte secp256k1 key");
  return key;
}

}  // namespace

Result<PrivateKey> load_key_file(const std::string& path) {
  PAYCHAN_ASSIGN(std::string text, read_secret_file(path, "key file", kMaxKeyText));
  return parse_key_text(text, "key file " + path);
}

Result<std::string> load_token_file(const std::string& path) {
  PAYCHAN_ASSIGN(std::string text, read_secret_file(path, "token file", kMaxTokenText));
  const std::string_view token = trim(text);
  const bool visible = std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; });
  if (token.size() < kMinTokenLength || !visible)
    return fail(ErrorCode::invalid_payload, "token file " + path + " does not hold a token of at least " +
                                                std::to_string(kMinTokenLength) + " visible ASCII characters");
  // A key named as a token would travel in every request's header.
  if (PrivateKey::from_hex(token))
    return fail(ErrorCode::invalid_payload, "token file " + path + " holds a private key, not a token; "
                                            "make a token with `paychan key token --out FILE`");
  return std::string(token);
}

Result<PrivateKey> load_key_env(const std::string& variable) {
  if (looks_like_key(variable)) return pasted_key("environment variable's name");
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr) return fail(ErrorCode::invalid_payload, "environment variable " + variable + " is not set");
  return parse_key_text(value, "environment variable " + variable);
}

Result<Bytes32> random_key_secret() {
  Bytes32 secret{};
  for (;;) {
    if (getrandom(secret.data(), secret.size(), 0) != static_cast<ssize_t>(secret.size()))
      return fail(ErrorCode::invalid_payload, "the system random source failed");
    if (PrivateKey::from_bytes(secret)) return secret;
  }
}

}  // namespace paychan::engine
