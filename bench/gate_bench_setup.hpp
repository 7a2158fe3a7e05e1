// What the gate benchmarks share: deterministic keys, the provider's configuration (one route,
// POST /v1/infer at 10000 atomic units on a local chain id) and an agent's channel config.
#pragma once

#include <cstdint>

#include "channel/ecdsa.hpp"
#include "channel/types.hpp"
#include "engine/gate/gate_config.hpp"

namespace paychan::bench {

inline constexpr std::uint64_t kChainId = 31337;
inline constexpr Uint128 kPrice = 10'000;

inline PrivateKey key(std::uint32_t seed) {
  Bytes32 s{};
  s[0] = 0x33;
  for (int i = 0; i < 4; ++i) s[31 - i] = static_cast<std::uint8_t>(seed >> (8 * i));
  return *PrivateKey::from_bytes(s);
}

inline engine::gate::GateConfig gate_config() {
  engine::gate::GateConfig c;
  c.network = "eip155:31337";
  c.chainId = kChainId;
  c.asset = key(1'000'001).address();
  c.assetName = "USDC";
  c.assetVersion = "2";
  c.payTo = key(1'000'002).address();
  c.receiverAuthorizer = key(1'000'003).address();
  c.withdrawDelay = 86'400;
  c.routes = {engine::gate::RouteConfig{"POST", "/v1/infer", kPrice, std::nullopt, std::nullopt}};
  return c;
}

inline ChannelConfig channel_config(const engine::gate::GateConfig& g, const PrivateKey& payer, std::uint8_t salt) {
  ChannelConfig c{payer.address(), payer.address(), g.payTo, g.receiverAuthorizer, g.asset, g.withdrawDelay, Bytes32{}};
  c.salt[0] = salt;
  return c;
}

}  // namespace paychan::bench
