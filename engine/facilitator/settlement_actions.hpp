// The four on-chain actions of /settle (scheme_batch_settlement_evm.md, "POST /settle"), each as
// three pieces the Facilitator strings together with its journal:
//   action_key       what the action settles — the journal key that makes a retry find the first
//                    attempt: deposit → channelId + ERC-3009 nonce, or payer + Permit2 nonce;
//                    claim → keccak of the claim rows;
//                    settle → receiver + token + claimed and settled totals; refund → channelId +
//                    refund nonce;
//   prepare_action   the payload's checks and the transaction's calldata (claim/refund
//                    authorizations signed with the facilitator's receiverAuthorizer key when the
//                    server left them out and delegated to it);
//   describe_outcome the SettlementResponse for the mined transaction, with the post-transaction
//                    channel snapshot in extra.channelState.
// Thread-safety: coroutines over a ChainView; no state of their own.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/facilitator/chain_view.hpp"
#include "engine/facilitator/verification.hpp"
#include "protocol/facilitator_api.hpp"

namespace paychan::engine::facilitator {

// The receivers a caller may have the facilitator's receiverAuthorizer key sign claims and refunds
// for: every one (an in-process caller: the operator's own gate), or those an authenticated client
// lists (engine/facilitator/client_auth.hpp). A refund signed for anyone who asks would let a payer
// take back what the server charged but has not claimed yet.
class ReceiverScope {
 public:
  [[nodiscard]] static ReceiverScope everyone() noexcept { return ReceiverScope(nullptr); }
  // An unauthenticated caller: the key signs for no one.
  [[nodiscard]] static ReceiverScope nobody() noexcept {
    static const std::vector<Address> none;
    return ReceiverScope(std::shared_ptr<const std::vector<Address>>(std::shared_ptr<void>{}, &none));  // not counted
  }
  // Held by the scope (a client's, in the client table that a reload may replace meanwhile); null
  // is nobody, never everyone.
  [[nodiscard]] static ReceiverScope only(std::shared_ptr<const std::vector<Address>> receivers) noexcept {
    return receivers ? ReceiverScope(std::move(receivers)) : nobody();
  }
  [[nodiscard]] bool covers(const Address& receiver) const noexcept {
    return receivers_ == nullptr || std::find(receivers_->begin(), receivers_->end(), receiver) != receivers_->end();
  }

 private:
  explicit ReceiverScope(std::shared_ptr<const std::vector<Address>> receivers) noexcept
      : receivers_(std::move(receivers)) {}
  std::shared_ptr<const std::vector<Address>> receivers_;  // null: every receiver
};

// Who signs what: `relayer` sends the transactions; `authorizer`, when configured, is the
// receiverAuthorizer servers may delegate claim and refund signatures to, used for the receivers
// in `scope` only.
struct Signers {
  Address relayer;
  const PrivateKey* authorizer = nullptr;
  ReceiverScope scope;
};

// A deposit, voucher or refund on a channel whose receiverAuthorizer is `signers.authorizer` but
// whose receiver is outside `signers.scope`: refused up front (authorizer_address_mismatch), since
// its claims could never be signed for this caller and the server would serve on money it cannot
// collect. Nothing for other payloads (a claim's rows are checked when signing).
[[nodiscard]] std::optional<Error> scope_refusal(const protocol::BatchSettlementPayload& payload, Signers signers);

// The codes an action's failures are reported with (its simulation; its mined revert).
struct ActionCodes {
  ErrorCode simulation_failed;
  ErrorCode transaction_failed;
};
[[nodiscard]] ActionCodes action_codes(const protocol::BatchSettlementPayload& payload) noexcept;

// Error: rpc_read_failed (a settle's key includes the receiver's totals, read from chain);
// nothing_to_settle for a settle when those totals show nothing claimed and unsettled;
// *_refund_payload for a refund not completed with refundNonce.
[[nodiscard]] http::Awaitable<Result<std::string>> action_key(ChainView& chain,
                                                              const protocol::BatchSettlementPayload& payload);

// `journaled`, the payload of the request that made an action's transaction, is a deposit to
// another channel than `payload`'s under the same key (a Permit2 nonce the payer signed twice):
// `payload`'s deposit cannot land, and the first's outcome is not its answer. The refusal
// (deposit_simulation_failed), or nothing.
[[nodiscard]] std::optional<Error> deposit_of_another_channel(const protocol::BatchSettlementPayload& journaled,
                                                              const protocol::BatchSettlementPayload& payload);

// The action, or the refusal (an Error carrying the spec's code; rpc_read_failed for failed reads).
[[nodiscard]] http::Awaitable<std::variant<Action, Error>> prepare_action(ChainView& chain,
                                                                          const protocol::FacilitatorRequest& request,
                                                                          Signers signers);

// The answer for `request` whose transaction is mined with `receipt`: success with the amount
// moved (from the contract's events for settle and refund) and the channel snapshot, or
// *_transaction_failed for a revert. Error: rpc_read_failed (the snapshot could not be read).
[[nodiscard]] http::Awaitable<Result<protocol::SettlementResponse>> describe_outcome(
    ChainView& chain, const protocol::FacilitatorRequest& request, const chain::Receipt& receipt);

}  // namespace paychan::engine::facilitator
