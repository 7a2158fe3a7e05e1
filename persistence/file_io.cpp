#include "persistence/file_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace paychan::persistence {

Failure io_failure(const std::string& path, std::string_view what, int error) {
  return fail(ErrorCode::store_failed, std::string{what} + " " + path + ": " + std::strerror(error));
}

int pwrite_all(int fd, std::string_view bytes, std::uint64_t offset, std::size_t& done) noexcept {
  for (done = 0; done < bytes.size();) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

Status write_all(int fd, std::string_view bytes, std::uint64_t offset, const std::string& path) {
  std::size_t done = 0;
  if (const int error = pwrite_all(fd, bytes, offset, done); error != 0) return io_failure(path, "cannot write", error);
  return {};
}

}  // namespace paychan::persistence
