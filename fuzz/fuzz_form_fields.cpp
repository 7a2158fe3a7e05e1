// A query or form body (untrusted) as the gate reads its `_method` fields
// (engine/gate/form_fields.hpp): any bytes, as urlencoded and as multipart under a boundary taken
// from the input, end without a crash or a hang, and every value found is no longer than the input.
#include "engine/gate/form_fields.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan::engine::gate;
  using paychan::fuzz::require;
  const std::string_view input = paychan::fuzz::text(data, size);
  const auto bounded = [&](std::string value) {
    require(value.size() <= input.size());
    return false;
  };
  (void)any_urlencoded_value(input, "_method", bounded);
  // The first line is the Content-Type, the rest the body.
  const auto newline = input.find('\n');
  const std::string_view type = input.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  (void)any_multipart_value(body, type, "_method", bounded);
  return 0;
}
