// A private directory for the demo's files (the gate's store, the facilitator's journal, the
// agents' stores, the settle journal), under $TMPDIR or /tmp, removed with everything in it when
// the demo ends, whatever the outcome.
// Thread-safety: immutable after construction.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "channel/result.hpp"

namespace paychan::cli::demo {

class ScratchDir {
 public:
  // Error: invalid_config when the directory cannot be created.
  [[nodiscard]] static Result<ScratchDir> create() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/paychan-demo-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return fail(ErrorCode::invalid_config, "cannot create " + pattern);
    return ScratchDir(pattern);
  }
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  explicit ScratchDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace paychan::cli::demo
