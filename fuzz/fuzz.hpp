// Shared by the fuzz targets: the input as a string_view, and a check that traps (so libFuzzer
// records a crash) when a round-trip property fails.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace paychan::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline void require(bool property) {
  if (!property) std::abort();
}

}  // namespace paychan::fuzz
