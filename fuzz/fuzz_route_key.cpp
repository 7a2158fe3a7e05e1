// A request's path, as the gate's route matching reduces it (engine/gate/route_key.hpp): any bytes
// give a key in normal form — one leading '/', no empty, "." or ".." segment, no trailing '/'.
#include "engine/gate/route_key.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string key = paychan::engine::gate::route_key(paychan::fuzz::text(data, size));
  paychan::fuzz::require(key.starts_with('/'));
  paychan::fuzz::require(key == "/" || !key.ends_with('/'));
  paychan::fuzz::require(key.find("//") == std::string::npos);
  paychan::fuzz::require(key.find("/./") == std::string::npos && !key.ends_with("/."));
  paychan::fuzz::require(key.find("/../") == std::string::npos && !key.ends_with("/.."));
  return 0;
}
