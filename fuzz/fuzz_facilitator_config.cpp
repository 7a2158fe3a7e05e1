// The facilitator's configuration parser (an operator's file, still parsed as untrusted input): any
// bytes give a config or invalid_config, and an accepted config keeps its invariants.
#include "engine/facilitator/facilitator_config.hpp"
#include "engine/http/url.hpp"
#include "fuzz.hpp"
#include "protocol/requirements.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  auto config = engine::facilitator::parse_facilitator_config(fuzz::text(data, size));
  if (config) {
    fuzz::require(!config->networks.empty() && config->networks.size() <= engine::facilitator::kMaxNetworks);
    for (const auto& n : config->networks) {
      auto chain = protocol::evm_chain_id(n.network);
      fuzz::require(chain.ok() && *chain != 0 && engine::http::parse_url(n.rpcUrl).ok());
    }
    fuzz::require(config->receiptTimeoutSeconds >= 1 && config->receiptTimeoutSeconds <= 3600);
  } else {
    fuzz::require(config.error().code == ErrorCode::invalid_config || config.error().code == ErrorCode::input_too_large);
  }
  return 0;
}
