#include "key_options.hpp"

#include <cstdlib>

#include "engine/key_source.hpp"

namespace paychan::cli {

Result<PrivateKey> load_key(const Args& args) {
  if (args.has("key-file") && args.has("key-env"))
    return fail(ErrorCode::invalid_payload, "--key-file and --key-env name two keys: give one");
  if (auto file = args.option("key-file")) return engine::load_key_file(*file);
  if (auto variable = args.option("key-env")) return engine::load_key_env(*variable);
  if (std::getenv("PAYCHAN_KEY") == nullptr)
    return fail(ErrorCode::invalid_payload, "no key: set PAYCHAN_KEY, or pass --key-file FILE (mode 0600) or "
                                            "--key-env NAME (make one with `paychan key new --out FILE`)");
  return engine::load_key_env("PAYCHAN_KEY");
}

}  // namespace paychan::cli
