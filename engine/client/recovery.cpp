#include "engine/client/recovery.hpp"

#include "channel/eip712.hpp"

namespace paychan::engine::client {

persistence::ClientChannel recovered_channel(const ChosenOffer& offer, const ChannelConfig& config,
                                             const Bytes32& channelId, const evm::OnchainChannel& onchain,
                                             const std::string& method, const std::string& url) {
  persistence::ClientChannel ch;
  ch.channelId = channelId;
  ch.config = config;
  ch.network = offer.requirements.network;
  ch.method = method;
  ch.url = url;
  ch.offer = offer.encoded;
  ch.deposited = onchain.balance;
  ch.balance = onchain.balance;
  ch.charged = onchain.totalClaimed;
  ch.signedMax = onchain.totalClaimed;
  ch.reserved = onchain.totalClaimed;
  ch.heldCeiling = kUint128Max;  // the lost store's vouchers are unknown: the provider's first answer tells
  ch.withdrawAmount = onchain.pendingWithdrawal.amount;
  ch.withdrawInitiatedAt = onchain.pendingWithdrawal.initiatedAt;
  return ch;
}

Result<std::optional<persistence::ClientChannel>> channel_from_chain(ChannelChain& chain, const ChosenOffer& offer,
                                                                     const ClientKeys& keys, std::uint64_t saltIndex,
                                                                     const std::string& method, const std::string& url) {
  if (offer.chainId != chain.chain_id())
    return fail(ErrorCode::invalid_network,
                "the offer is on " + offer.requirements.network + ", the RPC node serves " + chain.network());
  const ChannelConfig config = channel_config_for(offer, keys, channel_salt(saltIndex));
  const Bytes32 id = channel_id(batch_settlement_domain_separator(offer.chainId), config);
  PAYCHAN_ASSIGN(const auto onchain, chain.read(id));
  if (!onchain.used() && onchain.pendingWithdrawal.initiatedAt == 0) return std::optional<persistence::ClientChannel>{};
  return std::optional{recovered_channel(offer, config, id, onchain, method, url)};
}

Result<std::vector<persistence::ClientChannel>> channels_from_chain(ChannelChain& chain, const ChosenOffer& offer,
                                                                   const ClientKeys& keys, const std::string& method,
                                                                   const std::string& url) {
  std::vector<persistence::ClientChannel> found;
  for (std::uint64_t index = 0, unused = 0; unused < kRecoveryGap; ++index) {
    PAYCHAN_ASSIGN(auto ch, channel_from_chain(chain, offer, keys, index, method, url));
    if (!ch) {
      ++unused;
      continue;
    }
    unused = 0;
    found.push_back(std::move(*ch));
  }
  return found;
}

}  // namespace paychan::engine::client
