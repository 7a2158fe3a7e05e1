// A fresh directory under /tmp for a test's files (SQLite stores, configs, key files), removed afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace paychan::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/paychan-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const char* name = "gate.sqlite") const { return (path / name).string(); }
  // A file `name` holding `text` that only its owner may read (as key and token files must be);
  // its path.
  std::string secret_file(const char* name, std::string_view text) const {
    const std::string p = file(name);
    std::ofstream(p) << text;
    std::filesystem::permissions(p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return p;
  }
};

}  // namespace paychan::test
