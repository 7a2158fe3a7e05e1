#include "persistence/voucher_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <utility>

namespace paychan::persistence {
namespace {

Failure failed(const std::string& path, std::string_view what, int error) {
  return fail(ErrorCode::store_failed, std::string{what} + " " + path + ": " + std::strerror(error));
}

Status write_all(int fd, std::string_view bytes, std::uint64_t offset, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return failed(path, "cannot write", n < 0 ? errno : EIO);
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

}  // namespace

Result<std::pair<VoucherLog::Held, VoucherLog>> VoucherLog::open(const std::string& store_path, bool create) {
  std::string path = store_path + "-vlog";
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (fd < 0) {
    if (errno == ENOENT && !create) return std::pair{Held::missing, VoucherLog(-1, std::move(path))};
    return failed(path, "cannot open the voucher log", errno);
  }
  VoucherLog log(fd, std::move(path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return failed(log.path_, "cannot lock", errno);
    return std::pair{Held::busy, std::move(log)};
  }
  return std::pair{Held::opened, std::move(log)};
}

Result<VoucherLog> VoucherLog::own(const std::string& store_path) {
  PAYCHAN_ASSIGN(auto opened, open(store_path, true));
  if (opened.first == Held::busy)
    return fail(ErrorCode::store_failed, "another process (a running paychan gate) holds the voucher log " + opened.second.path_);
  return std::move(opened.second);
}

Result<std::optional<VoucherLog>> VoucherLog::open_if_idle(const std::string& store_path) {
  PAYCHAN_ASSIGN(auto opened, open(store_path, false));
  if (opened.first != Held::opened) return std::optional<VoucherLog>{};
  return std::optional<VoucherLog>{std::move(opened.second)};
}

VoucherLog::VoucherLog(VoucherLog&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      generation_(other.generation_),
      size_(other.size_),
      allocated_(other.allocated_) {}

VoucherLog& VoucherLog::operator=(VoucherLog&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    generation_ = other.generation_;
    size_ = other.size_;
    allocated_ = other.allocated_;
  }
  return *this;
}

VoucherLog::~VoucherLog() {
  if (fd_ >= 0) ::close(fd_);
}

Result<ScannedLog> VoucherLog::read() {
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return failed(path_, "cannot stat", errno);
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed(path_, "cannot read", errno);
    if (n == 0) break;  // shorter than stat said: read what is there
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  allocated_ = done;
  PAYCHAN_ASSIGN(ScannedLog scanned, scan_log(as_bytes(bytes)));
  generation_ = scanned.generation;
  size_ = scanned.end;
  return scanned;
}

Status VoucherLog::reset(std::uint64_t generation, bool sync) {
  // Only the header is rewritten: the old generation's frames after it are never read again (each
  // frame names its generation), and the file keeps its blocks for the next frames to overwrite.
  PAYCHAN_TRY(write_all(fd_, encode_log_header(generation), 0, path_));
  if (sync && ::fdatasync(fd_) != 0) return failed(path_, "cannot sync", errno);
  generation_ = generation;
  size_ = kLogHeaderBytes;
  allocated_ = std::max<std::uint64_t>(allocated_, kLogHeaderBytes);
  return {};
}

Status VoucherLog::grow(std::uint64_t needed) {
  if (allocated_ >= needed) return {};
  const std::uint64_t to = std::max(needed, allocated_ + kGrowth);
  static const std::string zeros(1u << 20, '\0');
  for (std::uint64_t at = allocated_; at < to; at += zeros.size()) {
    PAYCHAN_TRY(write_all(fd_, std::string_view(zeros).substr(0, std::min<std::uint64_t>(zeros.size(), to - at)), at, path_));
    allocated_ = std::min(at + zeros.size(), to);
  }
  return {};
}

Status VoucherLog::append(std::string_view frames, bool sync) {
  // A frame that failed is overwritten by the next, at the same place.
  PAYCHAN_TRY(grow(size_ + frames.size()));
  PAYCHAN_TRY(write_all(fd_, frames, size_, path_));
  if (sync && ::fdatasync(fd_) != 0) return failed(path_, "cannot sync", errno);
  size_ += frames.size();
  return {};
}

}  // namespace paychan::persistence
