// Recovery after the agent lost its store (spec, client rules: "recompute the channelId, read the
// on-chain channel, continue from totalClaimed"). The agent's channels to a provider have counted
// salts (channel_salt: 0, 1, 2 …), so its keys and the provider's offer (from a 402) give back
// every channel config and id it can have opened; the chain tells which of them hold funds.
//
// A recovered channel resumes at chargedCumulativeAmount = totalClaimed, the only total the chain
// knows. The provider's running total is usually higher (vouchers not yet claimed): the first
// voucher then meets a corrective 402, which the client adopts after checking that the voucher
// the provider holds is its own signature — so it never pays twice for the same request.
// Thread-safety: pure apart from ChannelChain's reads.
#pragma once

#include <optional>
#include <vector>

#include "engine/client/channel_chain.hpp"
#include "engine/client/payloads.hpp"
#include "persistence/client_store.hpp"

namespace paychan::engine::client {

// Salts are scanned until this many in a row were never funded (a channel refunded or withdrawn
// in full before anything was claimed looks unused, so one empty salt does not end the scan).
inline constexpr std::uint64_t kRecoveryGap = 4;

// The local record of a channel known only from the chain: charged and signedMax at totalClaimed,
// the on-chain balance (also counted as deposited: earlier deposits are not recoverable one by
// one), a pending withdrawal carried over. `method`/`url` name the route that refunds go to.
[[nodiscard]] persistence::ClientChannel recovered_channel(const ChosenOffer& offer, const ChannelConfig& config,
                                                           const Bytes32& channelId, const evm::OnchainChannel& onchain,
                                                           const std::string& method, const std::string& url);

// The channel with salt `saltIndex` for `offer`, rebuilt from the chain; nullopt when it was never
// funded. Errors: ChannelChain's; invalid_network when the node serves another chain than the offer.
[[nodiscard]] Result<std::optional<persistence::ClientChannel>> channel_from_chain(
    ChannelChain& chain, const ChosenOffer& offer, const ClientKeys& keys, std::uint64_t saltIndex,
    const std::string& method, const std::string& url);

// Every channel of the agent to `offer`'s provider that holds or held funds, scanning salts
// 0, 1, … until kRecoveryGap consecutive unused ones. Nothing is written.
[[nodiscard]] Result<std::vector<persistence::ClientChannel>> channels_from_chain(ChannelChain& chain,
                                                                                 const ChosenOffer& offer,
                                                                                 const ClientKeys& keys,
                                                                                 const std::string& method,
                                                                                 const std::string& url);

}  // namespace paychan::engine::client
