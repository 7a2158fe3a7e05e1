#include "persistence/file_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace paychan::persistence {

Failure io_failure(const std::string& path, std::string_view what, int error) {
  return fail(ErrorCode::store_failed, std::string{what} + " " + path + ": " + std::strerror(error));
}

Status write_all(int fd, std::string_view bytes, std::uint64_t offset, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_failure(path, "cannot write", n < 0 ? errno : EIO);
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

}  // namespace paychan::persistence
