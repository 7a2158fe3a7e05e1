// The agent's signed payloads (scheme_batch_settlement_evm.md, "Client: Payment Construction"),
// built the way the reference client builds them: a deposit authorizes ReceiveWithAuthorization of
// the deposit to the ERC-3009 collector (validAfter 0, validBefore now + maxTimeoutSeconds but at
// most kMaxAuthorizationSeconds, a fresh random salt hashed with the channelId into the nonce),
// signed by the payer; for an offer whose extra.assetTransferMethod is "permit2", Permit2's
// PermitWitnessTransferFrom of the deposit to the Permit2 collector instead (the random salt its
// nonce, the same deadline, the channel its witness), which Permit2 executes only for a payer that
// approved it for the token. Vouchers are signed by the payer authorizer.
// Thread-safety: pure functions (deposit salts come from the caller).
#pragma once

#include <cstdint>
#include <optional>

#include "channel/ecdsa.hpp"
#include "channel/types.hpp"
#include "engine/client/policy.hpp"
#include "protocol/payment_payload.hpp"

namespace paychan::engine::client {

// The longest a deposit authorization stays executable, whatever the offer's maxTimeoutSeconds:
// one the server refused can still be executed by it until then, so a server that refuses deposits
// must not collect authorizations that stay valid for years. A gate settles a deposit within the
// request.
inline constexpr std::uint64_t kMaxAuthorizationSeconds = 3600;

// The agent's keys. Keys are never printed; the payer authorizer may be a separate hot key.
struct ClientKeys {
  PrivateKey payer;
  std::optional<PrivateKey> payerAuthorizer;
  [[nodiscard]] const PrivateKey& voucher_signer() const { return payerAuthorizer ? *payerAuthorizer : payer; }
};

// A new channel's immutable config for `offer`.
[[nodiscard]] ChannelConfig channel_config_for(const ChosenOffer& offer, const ClientKeys& keys, const Bytes32& salt);

// The salt of the agent's `index`-th channel to one provider: uint256(index), big-endian. Salts
// are counted, not random, so an agent that lost its store finds its channels again from its keys
// and the provider's offer alone (recovery.hpp); index 0 is the reference client's default salt.
[[nodiscard]] Bytes32 channel_salt(std::uint64_t index);

[[nodiscard]] SignedVoucher sign_voucher(std::uint64_t chainId, const Bytes32& channelId, Uint128 cumulative,
                                         const ClientKeys& keys);

[[nodiscard]] protocol::PaymentPayload voucher_payload(const ChosenOffer& offer, const ChannelConfig& config,
                                                       const Bytes32& channelId, Uint128 cumulative,
                                                       const ClientKeys& keys);
[[nodiscard]] protocol::PaymentPayload deposit_payload(const ChosenOffer& offer, const ChannelConfig& config,
                                                       const Bytes32& channelId, Uint128 cumulative, Uint128 amount,
                                                       const ClientKeys& keys, std::uint64_t now,
                                                       const Bytes32& authorizationSalt);
// A cooperative refund: a zero-charge voucher at `charged`; `amount` absent refunds everything left.
[[nodiscard]] protocol::PaymentPayload refund_payload(const ChosenOffer& offer, const ChannelConfig& config,
                                                      const Bytes32& channelId, Uint128 charged,
                                                      std::optional<Uint128> amount, const ClientKeys& keys);

}  // namespace paychan::engine::client
