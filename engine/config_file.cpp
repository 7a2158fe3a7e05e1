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

std::string relative_to_working_directory(const std::string& path) {
  std::error_code ec;
  if (path.empty() || std::filesystem::path(path).is_absolute()) return "";
  const auto here = std::filesystem::current_path(ec);
  return ec ? "" : " (looked for in the working directory " + here.string() + ")";
}

Failure restart_needed(std::span<const std::string_view> members, std::string_view why, std::string_view reloadable) {
  std::string names;
  for (const std::string_view member : members) names += (names.empty() ? "" : ", ") + std::string(member);
  return fail(ErrorCode::invalid_config,
              names + " changed, which only a restart applies" + std::string(why) + "; a reload applies " +
                  std::string(reloadable));
}

}  // namespace paychan::engine
