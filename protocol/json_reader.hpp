// Internal to protocol/: strict reading of untrusted JSON with RapidJSON. Not part of the public
// API (RapidJSON stays out of the public headers).
//
// parse_untrusted() refuses, before building anything big: text over the size limit, nesting past
// kMaxJsonDepth, invalid UTF-8, trailing bytes, and duplicate keys at any level.
// Fields reads one object's members with typed, range-checked accessors; every error names the
// member's path ("payload.voucher.signature") and carries the caller's error code.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/ecdsa.hpp"
#include "channel/wallet_signature.hpp"
#include "channel/result.hpp"
#include "protocol/json.hpp"

namespace paychan::protocol {

// The largest JSON text any x402 message may be (a PAYMENT-SIGNATURE is ~1.3 KB).
inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;

[[nodiscard]] Result<rapidjson::Document> parse_untrusted(std::string_view text, ErrorCode code,
                                                          std::size_t max_bytes = kMaxMessageBytes);
// A document whose values and parse stacks come from an arena the caller owns. On the hot path
// the arena is a buffer on the caller's stack: RapidJSON's own pool would take a 64 KiB chunk from
// the heap for every header, and freeing it makes malloc consolidate.
using ArenaDocument =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>, rapidjson::MemoryPoolAllocator<>>;

// The same checks, parsing in place: the document's strings point into `text` (which is modified),
// so nothing is copied; `text` and `arena` must outlive the document. Used on the hot path, where
// the decoded header is a buffer of our own.
[[nodiscard]] Result<ArenaDocument> parse_untrusted_in_place(std::string& text, rapidjson::MemoryPoolAllocator<>& arena,
                                                             ErrorCode code, std::size_t max_bytes = kMaxMessageBytes);

// Both compact forms of a value (see json.hpp).
struct JsonAccess {
  [[nodiscard]] static Json from_value(const rapidjson::Value& v);
};

class Fields;

// Parses `text` and hands its root to `read` as Fields(root, path, code): the one shape of every
// decode_* function. `read` returns a Result. Texts above `max_bytes` are refused (input_too_large).
template <typename Read>
[[nodiscard]] auto decode_with(std::string_view text, ErrorCode code, const char* path, Read read,
                               std::size_t max_bytes = kMaxMessageBytes)
    -> decltype(read(std::declval<const Fields&>()));

class Fields {
 public:
  // `v` must be an object; otherwise every accessor fails with `code`.
  Fields(const rapidjson::Value& v, std::string path, ErrorCode code);

  [[nodiscard]] Status is_object() const;
  // Refuses a member not in `known`: for configuration files, where a misspelt optional member
  // would otherwise be ignored without a word (never for the x402 wire, which may grow).
  [[nodiscard]] Status only(std::initializer_list<std::string_view> known) const;
  [[nodiscard]] bool has(const char* name) const;
  [[nodiscard]] Result<const rapidjson::Value*> value(const char* name) const;

  [[nodiscard]] Result<std::string> string(const char* name) const;
  // The string's text inside the document (no copy): valid while the document lives.
  [[nodiscard]] Result<std::string_view> text(const char* name) const;
  [[nodiscard]] Result<std::optional<std::string>> optional_string(const char* name) const;
  [[nodiscard]] Result<bool> boolean(const char* name) const;
  // A JSON integer literal in [0, max]; fractions, exponents and signs are refused.
  [[nodiscard]] Result<std::uint64_t> uint64(const char* name, std::uint64_t max = UINT64_MAX) const;
  [[nodiscard]] Result<Address> address(const char* name) const;
  [[nodiscard]] Result<Bytes32> bytes32(const char* name) const;
  [[nodiscard]] Result<Signature> signature(const char* name) const;
  [[nodiscard]] Result<WalletSignature> wallet_signature(const char* name) const;
  [[nodiscard]] Result<Uint128> uint128(const char* name) const;  // canonical decimal string
  [[nodiscard]] Result<U256> u256(const char* name) const;        // canonical decimal string
  // A decimal string or (as some reference fields are read) a JSON integer.
  [[nodiscard]] Result<U256> u256_or_number(const char* name) const;
  [[nodiscard]] Result<Json> json(const char* name) const;
  [[nodiscard]] Fields object(const char* name) const;  // errors surface on first access

  [[nodiscard]] Failure error(const char* name, std::string_view what) const;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  const rapidjson::Value* v_;
  std::string path_;
  ErrorCode code_;
};

template <typename Read>
auto decode_with(std::string_view text, ErrorCode code, const char* path, Read read, std::size_t max_bytes)
    -> decltype(read(std::declval<const Fields&>())) {
  auto doc = parse_untrusted(text, code, max_bytes);
  if (!doc) return doc.failure();
  return read(Fields(*doc, path, code));
}

}  // namespace paychan::protocol
