// CRC-32C (Castagnoli), the checksum of each voucher-log frame: it tells a frame cut short or
// torn by a crash from one written whole. Uses the CPU's crc32 instruction where it has one.
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <span>

namespace paychan::persistence {

[[nodiscard]] std::uint32_t crc32c(std::span<const std::uint8_t> bytes) noexcept;

}  // namespace paychan::persistence
