// rapidcheck generators for the scheme's values, shared by every layer's property tests.
#pragma once

#include <rapidcheck.h>

#include "channel/amount.hpp"
#include "channel/channel_state.hpp"
#include "channel/ecdsa.hpp"
#include "channel/types.hpp"
#include "channel/wallet_signature.hpp"

namespace paychan::test {

// Uniform bytes at every size (rapidcheck's arbitrary<uint8_t> starts near zero, which would make
// early cases all-zero keys and addresses).
template <std::size_t N>
inline rc::Gen<FixedBytes<N>> gen_bytes() {
  const auto byte = rc::gen::map(rc::gen::inRange(0, 256), [](int b) { return static_cast<std::uint8_t>(b); });
  return rc::gen::map(rc::gen::container<std::vector<std::uint8_t>>(N, byte),
                      [](const std::vector<std::uint8_t>& v) {
                        FixedBytes<N> out{};
                        std::copy(v.begin(), v.end(), out.begin());
                        return out;
                      });
}

// A payer's signature: half the time an EOA's 65 bytes, else a smart wallet's of 1 to 4096 bytes
// (lengths near 65 and the limits well represented).
inline rc::Gen<WalletSignature> gen_wallet_signature() {
  const auto byte = rc::gen::map(rc::gen::inRange(0, 256), [](int b) { return static_cast<std::uint8_t>(b); });
  const auto length = rc::gen::oneOf(rc::gen::element<std::size_t>(1, 64, 66, 97, WalletSignature::kMaxBytes),
                                     rc::gen::inRange<std::size_t>(1, WalletSignature::kMaxBytes + 1));
  // The bytes do not shrink (4,096 of them one by one would take minutes); the length does.
  const auto any_length = rc::gen::mapcat(length, [byte](std::size_t n) {
    return rc::gen::noShrink(rc::gen::map(rc::gen::container<std::vector<std::uint8_t>>(n, byte),
                                          [](const std::vector<std::uint8_t>& v) { return *WalletSignature::from_bytes(v); }));
  });
  const auto ecdsa = rc::gen::map(gen_bytes<65>(), [](const Signature& s) { return WalletSignature{s}; });
  return rc::gen::oneOf(ecdsa, any_length);
}

inline rc::Gen<Address> gen_address() {
  return rc::gen::map(gen_bytes<20>(), [](const FixedBytes<20>& b) { return Address{b}; });
}

// Uint128 across its whole range, with the edges (0, 1, max) well represented.
inline rc::Gen<Uint128> gen_uint128() {
  return rc::gen::oneOf(
      rc::gen::element<Uint128>(0, 1, kUint128Max, kUint128Max - 1, Uint128{1} << 64),
      rc::gen::map(rc::gen::arbitrary<std::uint64_t>(), [](std::uint64_t v) { return Uint128{v}; }),
      rc::gen::apply([](std::uint64_t hi, std::uint64_t lo) { return static_cast<Uint128>(hi) << 64 | lo; },
                     rc::gen::arbitrary<std::uint64_t>(), rc::gen::arbitrary<std::uint64_t>()));
}

inline rc::Gen<U256> gen_u256() {
  return rc::gen::map(gen_bytes<32>(), [](const Bytes32& b) { return U256::from_be(b); });
}

inline rc::Gen<ChannelConfig> gen_channel_config() {
  return rc::gen::apply(
      [](Address payer, Address auth, Address receiver, Address recv_auth, Address token, std::uint64_t delay,
         Bytes32 salt) { return ChannelConfig{payer, auth, receiver, recv_auth, token, delay, salt}; },
      gen_address(), gen_address(), gen_address(), gen_address(), gen_address(),
      rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 40), gen_bytes<32>());
}

inline rc::Gen<SignedVoucher> gen_signed_voucher() {
  return rc::gen::apply([](Bytes32 id, Uint128 max, WalletSignature sig) { return SignedVoucher{Voucher{id, max}, sig}; },
                        gen_bytes<32>(), gen_uint128(), gen_wallet_signature());
}

// A channel's stored state, every field arbitrary.
inline rc::Gen<ChannelState> gen_channel_state() {
  return rc::gen::apply(
      [](Bytes32 id, ChannelConfig config, Uint128 charged, Uint128 signed_max, WalletSignature sig, Uint128 balance,
         Uint128 claimed, std::uint32_t withdraw_at, U256 nonce, std::uint32_t synced, std::uint32_t last) {
        ChannelState s;
        s.channelId = id;
        s.config = config;
        s.chargedCumulativeAmount = charged;
        s.signedMaxClaimable = signed_max;
        s.signature = sig;
        s.onchain = {balance, claimed, withdraw_at, nonce};
        s.onchainSyncedAt = synced;
        s.lastRequestTimestamp = last;
        return s;
      },
      gen_bytes<32>(), gen_channel_config(), gen_uint128(), gen_uint128(), gen_wallet_signature(), gen_uint128(),
      gen_uint128(), rc::gen::arbitrary<std::uint32_t>(), gen_u256(), rc::gen::arbitrary<std::uint32_t>(),
      rc::gen::arbitrary<std::uint32_t>());
}

}  // namespace paychan::test
