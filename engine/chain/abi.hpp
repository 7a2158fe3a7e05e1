// Solidity ABI encoding of contract calls, and bounds-checked decoding of what a node returns.
// Values are built as a small tree in parameter order; `encode_call` lays it out with the ABI's
// head/tail rule (static values inline, dynamic ones behind offsets).
// Thread-safety: plain values and pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan::engine::chain {

// An address as one ABI word (and as an indexed event topic): left-padded with zeros.
[[nodiscard]] Bytes32 address_word(const Address& a) noexcept;

class AbiValue {
 public:
  [[nodiscard]] static AbiValue word(const Bytes32& w);  // bytes32, and any 32-byte static
  [[nodiscard]] static AbiValue address(const Address& a);
  [[nodiscard]] static AbiValue uint(const U256& v);     // uint8..uint256
  [[nodiscard]] static AbiValue boolean(bool b);
  [[nodiscard]] static AbiValue bytes(ByteView b);       // dynamic `bytes`
  [[nodiscard]] static AbiValue tuple(std::vector<AbiValue> members);
  [[nodiscard]] static AbiValue array(std::vector<AbiValue> elements);  // dynamic T[]

  [[nodiscard]] bool dynamic() const noexcept;
  void encode_to(Bytes& out) const;

 private:
  enum class Kind { word, bytes, tuple, array };
  Kind kind_ = Kind::word;
  Bytes data_;                     // word: 32 bytes; bytes: the raw bytes
  std::vector<AbiValue> members_;  // tuple members or array elements
};

// The 4-byte selector of a canonical signature such as "settle(address,address)".
[[nodiscard]] FixedBytes<4> selector(std::string_view signature);
// selector ‖ encoding of the arguments as one tuple.
[[nodiscard]] Bytes encode_call(std::string_view signature, std::vector<AbiValue> args);

// Reads untrusted ABI data (return data, a wrapped signature). Every accessor checks bounds and ranges, so a
// hostile node's reply becomes an error, never a crash.
class AbiReader {
 public:
  explicit AbiReader(ByteView data) noexcept : data_(data) {}
  [[nodiscard]] Result<Bytes32> word(std::size_t index) const;
  [[nodiscard]] Result<U256> uint256(std::size_t index) const;
  [[nodiscard]] Result<Uint128> uint128(std::size_t index) const;  // errors if the word exceeds 128 bits
  [[nodiscard]] Result<std::uint64_t> uint64(std::size_t index) const;
  [[nodiscard]] Result<Address> address(std::size_t index) const;
  [[nodiscard]] Result<bool> boolean(std::size_t index) const;  // errors unless the word is 0 or 1
  // A dynamic `bytes` whose offset (from the start of the data) is word `index`: a view into the data.
  [[nodiscard]] Result<ByteView> bytes(std::size_t index) const;
  // The encoding of a dynamic value (a tuple, an array) whose offset is word `index`: a reader whose
  // words, and the offsets within it, count from that value's start.
  [[nodiscard]] Result<AbiReader> tail(std::size_t index) const;
  // The words from `index` on: an array's elements, which their offsets count from (after its length).
  [[nodiscard]] Result<AbiReader> from_word(std::size_t index) const;

 private:
  ByteView data_;
};

// A human reading of revert data: Error(string)'s message, or the custom error's selector in hex,
// with its signature when it is one of the errors of the contracts paychan uses.
[[nodiscard]] std::string describe_revert(ByteView data);

}  // namespace paychan::engine::chain
