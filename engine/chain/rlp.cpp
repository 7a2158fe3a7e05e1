#include "engine/chain/rlp.hpp"

namespace paychan::engine::chain {
namespace {

// Short form for payloads under 56 bytes (offset + length), long form otherwise (offset + 55 +
// length-of-length, then the big-endian length).
void put_header(Bytes& out, std::size_t length, std::uint8_t offset) {
  if (length < 56) {
    out.push_back(static_cast<std::uint8_t>(offset + length));
    return;
  }
  std::uint8_t be[8];
  int n = 0;
  for (std::size_t l = length; l != 0; l >>= 8) be[n++] = static_cast<std::uint8_t>(l);
  out.push_back(static_cast<std::uint8_t>(offset + 55 + n));
  while (n > 0) out.push_back(be[--n]);
}

void append_string(Bytes& out, ByteView b) {
  if (b.size() == 1 && b[0] < 0x80) {
    out.push_back(b[0]);  // a single low byte is its own encoding
    return;
  }
  put_header(out, b.size(), 0x80);
  out.insert(out.end(), b.begin(), b.end());
}

}  // namespace

Bytes rlp_bytes(ByteView b) {
  Bytes out;
  append_string(out, b);
  return out;
}

RlpList& RlpList::bytes(ByteView b) {
  append_string(payload_, b);
  return *this;
}

RlpList& RlpList::uint(const U256& v) {
  const Bytes32 be = v.to_be();
  std::size_t first = 0;
  while (first < be.size() && be[first] == 0) ++first;
  return bytes(ByteView{be}.subspan(first));
}

RlpList& RlpList::list(const RlpList& nested) {
  const Bytes encoded = nested.encode();
  payload_.insert(payload_.end(), encoded.begin(), encoded.end());
  return *this;
}

Bytes RlpList::encode() const {
  Bytes out;
  out.reserve(payload_.size() + 9);
  put_header(out, payload_.size(), 0xc0);
  out.insert(out.end(), payload_.begin(), payload_.end());
  return out;
}

}  // namespace paychan::engine::chain
