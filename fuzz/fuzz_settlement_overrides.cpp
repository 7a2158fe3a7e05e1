// The upstream's Settlement-Overrides header (the gate trusts its upstream less than itself).
#include "fuzz.hpp"
#include "protocol/settlement_overrides.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)paychan::protocol::parse_settlement_overrides(paychan::fuzz::text(data, size), 10'000, 6);
  return 0;
}
