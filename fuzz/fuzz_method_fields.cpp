// A query or a body (untrusted) as the gate reads its `_method` fields
// (engine/gate/method_fields.hpp): any bytes, read as urlencoded, as JSON and as multipart, end
// without a crash or a hang (the runs' -timeout), and every value found is no longer than the input.
#include "engine/gate/method_fields.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan::engine::gate;
  using paychan::fuzz::require;
  const std::string_view input = paychan::fuzz::text(data, size);
  const MethodFieldSink bounded = [&](std::string_view value) {
    require(value.size() <= input.size());
    return false;
  };
  (void)urlencoded_method_fields(input, bounded);
  (void)json_method_fields(input, bounded);
  (void)multipart_method_fields(input);
  return 0;
}
