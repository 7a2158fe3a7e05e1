// Ethereum's keccak256: the original Keccak padding (0x01), not FIPS-202 SHA3-256 (0x06).
// Thread-safety: pure function.
#pragma once

#include "channel/bytes.hpp"

namespace paychan {

[[nodiscard]] Bytes32 keccak256(ByteView data) noexcept;

}  // namespace paychan
