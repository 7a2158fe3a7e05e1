// A request's path, as the gate's route matching reads it (engine/gate/route_key.hpp): any bytes
// give keys that start with '/', with no empty segment and no trailing '/'; resolved keys hold no
// dot segment; a path taken as its own key is its key under every reading.
#include "engine/gate/route_key.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan::engine::gate;
  using paychan::fuzz::require;
  const std::string_view path = paychan::fuzz::text(data, size);
  for (const ReadKey& read : route_keys(path)) {
    const std::string& key = read.key;
    require(key.starts_with('/'));
    require(key == "/" || !key.ends_with('/'));
    require(key.find("//") == std::string::npos);
    if (is_route_key(path)) require(key == path);
  }
  const std::string resolved = route_key(path);
  require(resolved.find("/./") == std::string::npos && !resolved.ends_with("/."));
  require(resolved.find("/../") == std::string::npos && !resolved.ends_with("/.."));
  return 0;
}
