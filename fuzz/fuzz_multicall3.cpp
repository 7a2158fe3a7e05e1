// Multicall3 aggregate3 replies: the facilitator reads one from a node (untrusted) when it
// simulates a wallet's deployment with its deposit. Any bytes give the outcomes or a typed error,
// and the outcomes' data lies within the reply.
#include "engine/chain/multicall3.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  if (size == 0) return 0;
  // The first byte picks how many calls the reply must answer (the facilitator asks for 3).
  const std::size_t calls = data[0] % 4;
  const ByteView reply{data + 1, size - 1};
  auto outcomes = engine::chain::decode_aggregate3(reply, calls);
  if (outcomes) {
    fuzz::require(outcomes->size() == calls);
    for (const auto& o : *outcomes) fuzz::require(o.returnData.size() <= reply.size());
  }
  return 0;
}
