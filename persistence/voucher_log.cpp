#include "persistence/voucher_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "persistence/file_io.hpp"
#include "persistence/file_lock.hpp"

namespace paychan::persistence {
namespace {

Status sync_directory(const std::string& file) {
  const auto slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_failure(dir, "cannot open the directory", errno);
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) return io_failure(dir, "cannot sync the directory", error);
  return {};
}

// The file's descriptor; -1 when it is missing and not to be created.
Result<int> open_file(const std::string& path, bool create) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (fd < 0 && errno == ENOENT && !create) return -1;
  if (fd < 0) return io_failure(path, "cannot open the voucher log", errno);
  return fd;
}

}  // namespace

Result<std::pair<VoucherLog::Held, VoucherLog::Segments>> VoucherLog::open(const std::string& store_path, bool create,
                                                                           std::chrono::milliseconds wait) {
  std::string first = store_path + "-vlog", second = store_path + "-vlog1";
  PAYCHAN_ASSIGN(const int fd, open_file(first, create));
  if (fd < 0) return std::pair{Held::missing, Segments{VoucherLog(-1, std::move(first)), VoucherLog(-1, std::move(second))}};
  VoucherLog locked(fd, std::move(first));
  PAYCHAN_ASSIGN(const bool held, lock_exclusive(fd, locked.path_, wait));
  if (!held) return std::pair{Held::busy, Segments{std::move(locked), VoucherLog(-1, std::move(second))}};
  // The second segment exists once the first does (a log from before segments has none yet).
  PAYCHAN_ASSIGN(const int fd2, open_file(second, true));
  return std::pair{Held::opened, Segments{std::move(locked), VoucherLog(fd2, std::move(second))}};
}

Result<VoucherLog::Segments> VoucherLog::own(const std::string& store_path, bool durable) {
  // A settle job replaying a crashed gate's log holds it for a moment: wait that out, not a gate.
  PAYCHAN_ASSIGN(auto opened, open(store_path, true, std::chrono::seconds{2}));
  if (opened.first != Held::opened)
    return fail(ErrorCode::store_failed,
                "another process (a running paychan gate) holds the voucher log " + opened.second[0].path_);
  // The files' names must survive a crash as their frames do.
  PAYCHAN_TRY(sync_directory(opened.second[0].path_));
  if (durable) {
    for (VoucherLog& segment : opened.second) {
      PAYCHAN_ASSIGN(segment.direct_, BlockAppender::open(segment.path_));
    }
  }
  return std::move(opened.second);
}

Result<std::optional<VoucherLog::Segments>> VoucherLog::open_if_idle(const std::string& store_path) {
  PAYCHAN_ASSIGN(auto opened, open(store_path, false, std::chrono::milliseconds{0}));
  if (opened.first != Held::opened) return std::optional<Segments>{};
  return std::optional<Segments>{std::move(opened.second)};
}

VoucherLog::VoucherLog(VoucherLog&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      generation_(other.generation_),
      size_(other.size_),
      allocated_(other.allocated_),
      header_synced_(other.header_synced_),
      direct_(std::exchange(other.direct_, std::nullopt)) {}

VoucherLog& VoucherLog::operator=(VoucherLog&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    generation_ = other.generation_;
    size_ = other.size_;
    allocated_ = other.allocated_;
    header_synced_ = other.header_synced_;
    direct_ = std::exchange(other.direct_, std::nullopt);
  }
  return *this;
}

VoucherLog::~VoucherLog() {
  if (fd_ >= 0) ::close(fd_);
}

Result<ScannedLog> VoucherLog::read() {
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return io_failure(path_, "cannot stat", errno);
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_failure(path_, "cannot read", errno);
    if (n == 0) break;  // shorter than stat said: read what is there
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  allocated_ = done;
  PAYCHAN_ASSIGN(ScannedLog scanned, scan_log(as_bytes(bytes)));
  if (scanned.end == 0 && done != 0) {
    // No header, so no records; but frames of some generation may follow where it was. Emptied,
    // they can never be read as the frames of a generation numbered anew.
    if (::ftruncate(fd_, 0) != 0) return io_failure(path_, "cannot truncate", errno);
    allocated_ = 0;
  }
  generation_ = scanned.generation;
  size_ = scanned.end;
  if (direct_) direct_->restart(std::string_view(bytes).substr(0, size_));
  return scanned;
}

Status VoucherLog::reset(std::uint64_t generation, bool sync) {
  // Only the header is rewritten: the old generation's frames after it are never read again (each
  // frame names its generation), and the file keeps its blocks for the next frames to overwrite.
  // From here the header on disk may be the old one or the new: no frame goes after it until the
  // new one is known synced (a frame of the new generation behind the old header would be lost).
  generation_ = generation;
  size_ = kLogHeaderBytes;
  allocated_ = std::max<std::uint64_t>(allocated_, kLogHeaderBytes);
  header_synced_ = false;
  if (direct_) direct_->restart(encode_log_header(generation_));
  return write_header(sync);
}

Status VoucherLog::write_header(bool sync) {
  // Written again on every try: after a failed sync the kernel may count the page as clean.
  PAYCHAN_TRY(write_all(fd_, encode_log_header(generation_), 0, path_));
  if (sync) PAYCHAN_TRY(sync_data());
  header_synced_ = true;
  return {};
}

Status VoucherLog::sync_data() {
  if (::fdatasync(fd_) != 0) return io_failure(path_, "cannot sync", errno);
  return {};
}

Status VoucherLog::write_zeros(std::uint64_t from, std::uint64_t to) {
  static const std::string zeros(1u << 20, '\0');
  for (std::uint64_t at = from; at < to; at += zeros.size())
    PAYCHAN_TRY(write_all(fd_, std::string_view(zeros).substr(0, std::min<std::uint64_t>(zeros.size(), to - at)), at, path_));
  return {};
}

Status VoucherLog::grow(std::uint64_t needed) {
  if (allocated_ >= needed) return {};
  const std::uint64_t to = std::max(needed, allocated_ + kGrowth);
  PAYCHAN_TRY(write_zeros(allocated_, to));
  allocated_ = to;
  return {};
}

Status VoucherLog::preallocate(bool sync) {
  if (allocated_ >= kGrowth) return {};
  PAYCHAN_TRY(write_zeros(allocated_, kGrowth));
  allocated_ = kGrowth;
  return sync ? sync_data() : Status{};
}

Status VoucherLog::write_direct(std::string_view frames) {
  PAYCHAN_ASSIGN(const bool written, direct_->write(frames));
  if (written) return {};
  direct_.reset();  // the file system refuses direct writes of 4 KiB blocks: the page cache from now on
  return write_all(fd_, frames, size_, path_);
}

Status VoucherLog::append(std::string_view frames, bool sync) {
  // A frame that failed is overwritten by the next, at the same place.
  if (!header_synced_) PAYCHAN_TRY(write_header(sync));
  PAYCHAN_TRY(grow(direct_ ? direct_->end_of_blocks(frames.size()) : size_ + frames.size()));
  Status appended = direct_ ? write_direct(frames) : write_all(fd_, frames, size_, path_);
  if (appended && sync) appended = sync_data();
  if (!appended) {
    // The frames may be in the file all the same, or reach it later: zeros over them end the log
    // where it was, so a replay after a crash does not apply what the callers were told failed.
    // Best effort: a disk that fails to take the zeros too may keep the frames.
    if (write_zeros(size_, size_ + frames.size()) && sync) (void)sync_data();
    return appended;
  }
  if (direct_) direct_->advance();
  size_ += frames.size();
  return {};
}

}  // namespace paychan::persistence
