// EIP-1559 (type 2) transactions: the RLP payload, its signing hash, and the signed raw bytes that
// eth_sendRawTransaction takes. Access lists are always empty (paychan calls one contract).
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/ecdsa.hpp"

namespace paychan::engine::chain {

struct Eip1559Transaction {
  std::uint64_t chainId = 0;
  std::uint64_t nonce = 0;
  U256 maxPriorityFeePerGas;
  U256 maxFeePerGas;
  std::uint64_t gas = 0;
  std::optional<Address> to;  // nullopt: contract creation
  U256 value;
  Bytes data;
};

struct SignedTransaction {
  Bytes raw;     // 0x02 ‖ rlp([…, yParity, r, s])
  Bytes32 hash;  // keccak256(raw): the transaction hash
};

// keccak256(0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, []]))
[[nodiscard]] Bytes32 signing_hash(const Eip1559Transaction& tx);
[[nodiscard]] SignedTransaction sign_transaction(const Eip1559Transaction& tx, const PrivateKey& key);

// The address of a contract created by `sender`'s transaction with `nonce` (CREATE):
// the last 20 bytes of keccak256(rlp([sender, nonce])). Receipts are read without their
// contractAddress field, so a deployer derives it from what it signed.
[[nodiscard]] Address create_address(const Address& sender, std::uint64_t nonce);

}  // namespace paychan::engine::chain
