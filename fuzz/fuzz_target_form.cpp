// A request target as the server reads it (engine/http/target_form.hpp): an absolute-form one
// gives an origin-form target ending the input (after a '/' put first when it had none) and a
// host with no userinfo; any other is left alone; none crashes.
#include "engine/http/target_form.hpp"
#include "engine/http/text.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using paychan::fuzz::require;
  const std::string_view target = paychan::fuzz::text(data, size);
  auto form = paychan::engine::http::origin_form(target);
  if (!form || !*form) return 0;
  const auto& [origin, host] = **form;
  require(origin.starts_with('/'));
  require(!host.empty() && host.find('@') == std::string::npos && paychan::engine::http::valid_host(host));
  require(target.ends_with(origin) || target.ends_with(origin.substr(1)));
  return 0;
}
