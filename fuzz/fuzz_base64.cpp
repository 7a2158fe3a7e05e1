// base64_decode is total, and canonical: whatever it accepts re-encodes to the same text.
#include "fuzz.hpp"
#include "protocol/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  const auto in = fuzz::text(data, size);
  if (auto decoded = protocol::base64_decode(in, 1 << 16)) fuzz::require(protocol::base64_encode(*decoded) == in);
  return 0;
}
