// Byte containers shared by every layer: fixed-size values (hashes, addresses, signatures) are
// std::array so they live on the stack and compare by value; variable data is std::vector.
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace paychan {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
template <std::size_t N>
using FixedBytes = std::array<std::uint8_t, N>;

// keccak256 outputs, EIP-712 digests, channel ids, salts, nonces: all 32 bytes.
using Bytes32 = FixedBytes<32>;

// For hash maps keyed by channel id. Channel ids are keccak outputs: any 8 bytes are uniformly
// distributed.
struct Bytes32Hash {
  std::size_t operator()(const Bytes32& b) const noexcept {
    std::size_t h;
    static_assert(sizeof(h) <= 32);
    std::memcpy(&h, b.data(), sizeof(h));
    return h;
  }
};

inline ByteView as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace paychan
