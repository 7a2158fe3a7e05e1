// The gate's configuration file (an operator's file, still parsed as untrusted input): any bytes
// give a config or invalid_config, and an accepted config keeps its invariants.
#include "engine/gate/gate_config.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto config = paychan::engine::gate::parse_gate_config(paychan::fuzz::text(data, size));
  if (config) {
    paychan::fuzz::require(!config->routes.empty());
    for (const auto& r : config->routes) paychan::fuzz::require(r.price != 0 && r.path.starts_with('/'));
    paychan::fuzz::require(config->withdrawalSafetyMarginSeconds < config->withdrawDelay);
  } else {
    paychan::fuzz::require(config.error().code == paychan::ErrorCode::invalid_config ||
                           config.error().code == paychan::ErrorCode::input_too_large);
  }
  return 0;
}
