// The agent's own line to the chain: what the batch-settlement contract holds for one of its
// channels (channels, refundNonce, pendingWithdrawals), and the transactions the payer side may
// send itself — initiateWithdraw and finalizeWithdraw, which the contract accepts from the
// channel's payer or payerAuthorizer only, and the payer's approval of Permit2 for a token. Used
// for the timed withdrawal, for recovery after a lost store and for Permit2 deposits
// (engine/client/withdrawal.hpp, recovery.hpp, permit2_approval.hpp).
//
// Calls block: each runs the RPC coroutine on a private io_context (never call from an I/O
// thread). Every reply is untrusted (engine/evm/rpc_client.hpp). Errors:
// invalid_batch_settlement_evm_rpc_read_failed (node down, malformed reply),
// *_transaction_reverted (with the contract's reason), *_wait_for_receipt_failed.
// Thread-safety: calls may run concurrently (the sender takes nonces and sends one at a time).
#pragma once

#include <memory>
#include <string>

#include "channel/ecdsa.hpp"
#include "channel/eip712.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/chain/json_rpc.hpp"
#include "engine/evm/onchain_channel.hpp"
#include "engine/evm/rpc_client.hpp"
#include "engine/evm/tx_sender.hpp"
#include "protocol/requirements.hpp"

namespace paychan::engine::client {


class ChannelChain {
 public:
  // Connects to the node at `rpcUrl` and learns its chain id. `sender` sends the withdrawals: the
  // channels' payer (or their payerAuthorizer), with gas money on that chain.
  // Errors: rpc_read_failed when the node does not answer.
  [[nodiscard]] static Result<std::unique_ptr<ChannelChain>> connect(const std::string& rpcUrl, PrivateKey sender,
                                                                     evm::WaitOptions wait = {});

  [[nodiscard]] std::uint64_t chain_id() const noexcept { return chainId_; }
  // The account that sends the transactions (and pays their gas).
  [[nodiscard]] const Address& sender() const noexcept { return sender_.address(); }
  // "eip155:<chain id>", to compare with a channel's network.
  [[nodiscard]] std::string network() const { return protocol::evm_network(chainId_); }

  [[nodiscard]] Result<evm::OnchainChannel> read(const Bytes32& channelId);
  // What `owner` lets Permit2 (kPermit2Address) move of `token`: what Permit2 deposits may take.
  [[nodiscard]] Result<U256> permit2_allowance(const Address& token, const Address& owner);
  // The token's decimals().
  [[nodiscard]] Result<unsigned> token_decimals(const Address& token);
  // The latest block's timestamp: the clock the contract's withdrawDelay runs on.
  [[nodiscard]] Result<std::uint64_t> time();
  // Sends `calldata` to the batch-settlement contract and waits for it to be mined. A transaction
  // mined but reverted is an error too (transaction_reverted, naming the hash).
  [[nodiscard]] Result<chain::Receipt> send(Bytes calldata) { return send_to(kBatchSettlementAddress, std::move(calldata)); }
  // The same, to the contract at `to`.
  [[nodiscard]] Result<chain::Receipt> send_to(const Address& to, Bytes calldata);

 private:
  ChannelChain(const std::string& rpcUrl, PrivateKey sender, std::uint64_t chainId, evm::WaitOptions wait);

  std::unique_ptr<evm::RpcClient> rpc_;
  std::uint64_t chainId_;
  evm::TransactionSender sender_;
  evm::WaitOptions wait_;
};

}  // namespace paychan::engine::client
