#include "voucher_log_descriptor.hpp"

#include <unistd.h>

#include <string>
#include <string_view>

namespace paychan::persistence::test {

bool is_voucher_log(int fd) {
  char target[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  if (n <= 0) return false;
  const std::string_view path(target, static_cast<std::size_t>(n));
  return path.ends_with("-vlog") || path.ends_with("-vlog1");
}

}  // namespace paychan::persistence::test
