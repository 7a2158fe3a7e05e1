#include "persistence/block_appender.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "persistence/file_io.hpp"

namespace paychan::persistence {
namespace {

constexpr std::size_t round_down(std::size_t n) noexcept { return n / BlockAppender::kBlock * BlockAppender::kBlock; }
constexpr std::size_t round_up(std::size_t n) noexcept { return round_down(n + BlockAppender::kBlock - 1); }

}  // namespace

Result<std::optional<BlockAppender>> BlockAppender::open(const std::string& path) {
  std::unique_ptr<char, Free> buffer(static_cast<char*>(std::aligned_alloc(kBlock, kBlock)));
  if (!buffer) return io_failure(path, "no memory for the direct writes of", ENOMEM);
  std::string name = path;
  const int fd = ::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == EINVAL) return std::optional<BlockAppender>{};
  if (fd < 0) return io_failure(path, "cannot open for direct writes", errno);
  return std::optional<BlockAppender>{BlockAppender(fd, std::move(name), std::move(buffer))};
}

BlockAppender::BlockAppender(int fd, std::string path, std::unique_ptr<char, Free> buffer) noexcept
    : fd_(fd), path_(std::move(path)), buffer_(std::move(buffer)) {}

BlockAppender::BlockAppender(BlockAppender&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)),
      capacity_(other.capacity_),
      start_(other.start_),
      tail_(other.tail_),
      written_(other.written_) {}

BlockAppender& BlockAppender::operator=(BlockAppender&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    buffer_ = std::move(other.buffer_);
    capacity_ = other.capacity_;
    start_ = other.start_;
    tail_ = other.tail_;
    written_ = other.written_;
  }
  return *this;
}

BlockAppender::~BlockAppender() {
  if (fd_ >= 0) ::close(fd_);
}

void BlockAppender::restart(std::string_view prefix) {
  const std::size_t whole = round_down(prefix.size());
  start_ = whole;
  tail_ = written_ = prefix.size() - whole;
  std::memcpy(buffer_.get(), prefix.data() + whole, tail_);
}

std::uint64_t BlockAppender::end_of_blocks(std::size_t n) const noexcept { return start_ + round_up(tail_ + n); }

Status BlockAppender::reserve(std::size_t bytes) {
  if (bytes <= capacity_) return {};
  const std::size_t grown = std::max(bytes, 2 * capacity_);
  std::unique_ptr<char, Free> bigger(static_cast<char*>(std::aligned_alloc(kBlock, grown)));
  if (!bigger) return io_failure(path_, "no memory for the direct writes of", ENOMEM);
  std::memcpy(bigger.get(), buffer_.get(), tail_);
  buffer_ = std::move(bigger);
  capacity_ = grown;
  return {};
}

Result<bool> BlockAppender::write(std::string_view bytes) {
  const std::size_t used = tail_ + bytes.size();
  const std::size_t whole = round_up(used);
  PAYCHAN_TRY(reserve(whole));
  std::memcpy(buffer_.get() + tail_, bytes.data(), bytes.size());
  std::memset(buffer_.get() + used, 0, whole - used);
  std::size_t done = 0;
  const int error = pwrite_all(fd_, std::string_view(buffer_.get(), whole), start_, done);
  if (error == EINVAL && done == 0) return false;  // refused, not failed: nothing was written
  if (error != 0) return io_failure(path_, "cannot write", error);
  written_ = used;
  return true;
}

void BlockAppender::advance() noexcept {
  const std::size_t whole = round_down(written_);
  start_ += whole;
  tail_ = written_ = written_ - whole;
  std::memmove(buffer_.get(), buffer_.get() + whole, tail_);
}

}  // namespace paychan::persistence
