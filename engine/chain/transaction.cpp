#include "engine/chain/transaction.hpp"

#include <algorithm>

#include "channel/keccak.hpp"
#include "engine/chain/rlp.hpp"

namespace paychan::engine::chain {
namespace {

constexpr std::uint8_t kType = 0x02;

RlpList fields(const Eip1559Transaction& tx) {
  RlpList l;
  l.uint(tx.chainId).uint(tx.nonce).uint(tx.maxPriorityFeePerGas).uint(tx.maxFeePerGas).uint(tx.gas);
  if (tx.to) {
    l.bytes(tx.to->bytes);
  } else {
    l.bytes({});
  }
  l.uint(tx.value).bytes(tx.data).list(RlpList{});
  return l;
}

Bytes typed(const RlpList& l) {
  Bytes out{kType};
  const Bytes body = l.encode();
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

U256 scalar(const Signature& sig, std::size_t offset) {
  Bytes32 be{};
  std::copy_n(sig.begin() + static_cast<std::ptrdiff_t>(offset), 32, be.begin());
  return U256::from_be(be);
}

}  // namespace

Bytes32 signing_hash(const Eip1559Transaction& tx) { return keccak256(typed(fields(tx))); }

SignedTransaction sign_transaction(const Eip1559Transaction& tx, const PrivateKey& key) {
  const Signature sig = key.sign(signing_hash(tx));
  RlpList l = fields(tx);
  // Typed transactions carry the recovery id itself (y parity 0/1), not 27/28.
  l.uint(static_cast<Uint128>(sig[64] - 27)).uint(scalar(sig, 0)).uint(scalar(sig, 32));
  SignedTransaction out{typed(l), {}};
  out.hash = keccak256(out.raw);
  return out;
}

Address create_address(const Address& sender, std::uint64_t nonce) {
  RlpList l;
  l.bytes(sender.bytes).uint(nonce);
  const Bytes32 h = keccak256(l.encode());
  Address a;
  std::copy(h.begin() + 12, h.end(), a.bytes.begin());
  return a;
}

}  // namespace paychan::engine::chain
