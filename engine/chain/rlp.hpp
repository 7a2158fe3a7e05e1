// Recursive Length Prefix encoding (Ethereum yellow paper, appendix B), for signing transactions.
// Only encoding: paychan never needs to parse RLP from the network.
// Thread-safety: plain values and pure functions.
#pragma once

#include <vector>

#include "channel/amount.hpp"
#include "channel/bytes.hpp"

namespace paychan::engine::chain {

// An RLP list under construction. Items are appended already encoded.
class RlpList {
 public:
  RlpList& bytes(ByteView b);
  // Unsigned integers are big-endian with leading zeros stripped (zero is the empty string).
  RlpList& uint(const U256& v);
  RlpList& list(const RlpList& nested);
  // The encoded list: prefix + payload.
  [[nodiscard]] Bytes encode() const;

 private:
  Bytes payload_;
};

// One RLP string item.
[[nodiscard]] Bytes rlp_bytes(ByteView b);

}  // namespace paychan::engine::chain
