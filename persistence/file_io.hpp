// Writes to the store's own files (the voucher log's segments), and the errors they report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "channel/result.hpp"

namespace paychan::persistence {

// store_failed, saying "<what> <path>: <the error's text>".
[[nodiscard]] Failure io_failure(const std::string& path, std::string_view what, int error);

// Writes all of `bytes` at `offset` of `fd`, retrying interrupted and short writes: 0, or the
// errno of the call that failed (EIO for one that wrote nothing), with `done` the bytes written
// before it.
[[nodiscard]] int pwrite_all(int fd, std::string_view bytes, std::uint64_t offset, std::size_t& done) noexcept;

// pwrite_all() to the file at `path`, its error told as store_failed.
[[nodiscard]] Status write_all(int fd, std::string_view bytes, std::uint64_t offset, const std::string& path);

}  // namespace paychan::persistence
