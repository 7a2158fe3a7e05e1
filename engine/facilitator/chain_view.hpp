// What the facilitator reads from one network: a channel's on-chain snapshot, token balances, the
// chain's clock, a receiver's claim totals, and whether a signature is valid the way the
// contract's SignatureChecker decides it (ECDSA by the address, else EIP-1271 on its code).
// Every read goes through evm::RpcClient, whose replies are untrusted and checked; a failed read
// is invalid_batch_settlement_evm_rpc_read_failed.
// Thread-safety: reads may run concurrently from coroutines on any executors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "channel/address.hpp"
#include "channel/ecdsa.hpp"
#include "channel/eip712.hpp"
#include "engine/async_mutex.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/evm/rpc_client.hpp"
#include "engine/facilitator/network_options.hpp"
#include "protocol/requirements.hpp"

namespace paychan::engine::facilitator {

class ChainView {
 public:
  // `chainId` is the network's ("eip155:<chainId>"); the node's is checked by check_node().
  ChainView(NetworkOptions options, std::uint64_t chainId);

  [[nodiscard]] const std::string& network() const noexcept { return options_.network; }
  [[nodiscard]] std::uint64_t chain_id() const noexcept { return chainId_; }
  [[nodiscard]] const Address& contract() const noexcept { return options_.batchSettlement; }
  [[nodiscard]] const Address& erc3009_collector() const noexcept { return options_.erc3009Collector; }
  [[nodiscard]] const Address& permit2_collector() const noexcept { return options_.permit2Collector; }
  [[nodiscard]] const Address& permit2() const noexcept { return options_.permit2; }
  [[nodiscard]] const Address& multicall3() const noexcept { return options_.multicall3; }
  // The operator lets this facilitator deploy wallets through `factory` (ERC-6492).
  [[nodiscard]] bool factory_allowed(const Address& factory) const noexcept {
    return std::find(options_.eip6492AllowedFactories.begin(), options_.eip6492AllowedFactories.end(), factory) !=
           options_.eip6492AllowedFactories.end();
  }
  // The scheme's EIP-712 domain on this network: channel ids, vouchers, refunds, claim batches.
  [[nodiscard]] const Bytes32& domain() const noexcept { return domain_; }
  [[nodiscard]] evm::RpcClient& rpc() noexcept { return rpc_; }
  // The signer's nonce on this network, owned by JournaledSender: read and advanced only while
  // `lock` is held, from taking a nonce until its transaction is sent.
  struct NonceState {
    AsyncMutex lock;
    std::optional<std::uint64_t> next;  // nullopt: ask the node (eth_getTransactionCount "pending")
  };
  [[nodiscard]] NonceState& nonce_state() noexcept { return nonce_; }

  // The node answers with this network's chain id. Error: invalid_config naming both ids, or why
  // it did not answer. `timeout`: a bound of its own for this one call (a readiness probe);
  // unset, the node's client's.
  [[nodiscard]] http::Awaitable<Status> check_node(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // What would make this network's transactions fail, checked at start-up: no batch-settlement
  // contract at its address, a `signer` with nothing to pay gas with, and a deposit collector that
  // has code on the chain but names another batch-settlement contract (x402BatchSettlement()) or,
  // for the Permit2 collector, another Permit2 (PERMIT2()). A sentence for each, saying what it
  // breaks, or for a check that could not be made. Not errors: the contract may be deployed and the
  // signer funded later, and a facilitator that overrides some addresses and not the others still
  // serves what they leave working.
  [[nodiscard]] http::Awaitable<std::vector<std::string>> check_setup(const Address& signer);

  // channels(id), pendingWithdrawals(id).initiatedAt and refundNonce(id), as the spec's snapshot.
  [[nodiscard]] http::Awaitable<Result<protocol::ChannelSnapshot>> snapshot(const Bytes32& channelId);
  [[nodiscard]] http::Awaitable<Result<U256>> token_balance(const Address& token, const Address& owner);
  [[nodiscard]] http::Awaitable<Result<U256>> token_allowance(const Address& token, const Address& owner,
                                                              const Address& spender);
  [[nodiscard]] http::Awaitable<Result<chain::ReceiverTotals>> receiver_totals(const Address& receiver,
                                                                               const Address& token);
  // The latest block's timestamp: what validAfter/validBefore are judged against.
  [[nodiscard]] http::Awaitable<Result<std::uint64_t>> now();
  // How an account without code signs: by the contract's (and OpenZeppelin's) ECDSA rules, low s
  // only, or as bare ecrecover takes it (Permit2), either s.
  enum class EcdsaRule { low_s, either_s };
  // SignatureChecker.isValidSignatureNow: `signer` has no code and `signature` recovers to it, or
  // it has code and its isValidSignature(digest, signature) returns the EIP-1271 magic value.
  [[nodiscard]] http::Awaitable<Result<bool>> signature_valid(const Address& signer, const Bytes32& digest,
                                                              const WalletSignature& signature,
                                                              EcdsaRule rule = EcdsaRule::low_s);

 private:
  NetworkOptions options_;
  std::uint64_t chainId_;
  Bytes32 domain_;
  evm::RpcClient rpc_;
  NonceState nonce_;
};

}  // namespace paychan::engine::facilitator
