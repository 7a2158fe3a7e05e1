#include "key_options.hpp"

#include "engine/key_source.hpp"

namespace paychan::cli {

Result<PrivateKey> load_key(const Args& args) {
  if (auto file = args.option("key-file")) return engine::load_key_file(*file);
  return engine::load_key_env(args.option("key-env").value_or("PAYCHAN_KEY"));
}

}  // namespace paychan::cli
