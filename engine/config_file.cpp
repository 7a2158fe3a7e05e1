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

std::string beside_config(const std::string& config_file, const std::string& path) {
  const std::filesystem::path written(path);
  std::error_code ec;
  if (path.empty() || written.is_absolute() || !std::filesystem::is_regular_file(config_file, ec)) return path;
  return (std::filesystem::path(config_file).parent_path() / written).lexically_normal().string();
}

}  // namespace paychan::engine
