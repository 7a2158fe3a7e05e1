#include "engine/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace paychan::engine {

Result<std::string> read_config_file(const std::string& path) {
  // A directory opens as a stream that reads nothing ("not valid JSON at byte 0"); a pipe
  // (--config <(envsubst < gate.json)) is read like a file.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail(ErrorCode::invalid_config, path + " is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::invalid_config, "cannot read " + path + ": " + std::strerror(errno));
  // One byte past the limit is enough to know the file is too large.
  std::string text(kMaxConfigFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigFileBytes) return fail(ErrorCode::invalid_config, path + " is larger than 1 MiB");
  return text;
}

Result<std::string> beside_config(const std::string& config_file, std::string_view field, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path written(path);
  std::error_code ec;
  if (path.empty() || path.starts_with(':') || written.is_absolute()) return path;
  const fs::path config = fs::canonical(config_file, ec);
  if (ec || !fs::is_regular_file(config, ec)) return path;
  const std::string beside = (config.parent_path() / written).lexically_normal().string();
  std::error_code missing;
  if (!fs::exists(beside, missing) && fs::exists(written, missing) && !fs::equivalent(fs::absolute(written), beside, missing))
    return fail(ErrorCode::invalid_config,
                config_file + ": \"" + std::string(field) + "\": " + path + " is taken from the config's directory, as " +
                    beside + " (which does not exist), not from the working directory, where " +
                    fs::absolute(written).lexically_normal().string() +
                    " exists: move it beside the config, or write its absolute path");
  return beside;
}

}  // namespace paychan::engine
