// A fresh directory under /tmp for a test's files (SQLite stores, configs), removed afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

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
};

}  // namespace paychan::test
