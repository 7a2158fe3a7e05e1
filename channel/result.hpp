// Result<T>: a value or an Error, returned by every fallible function of the pure layers
// (std::expected arrives only in C++23). No exceptions cross these APIs.
// Thread-safety: plain values.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "channel/error.hpp"

namespace paychan {

// Builds the error side of a Result: `return fail(ErrorCode::malformed_hex, "odd length");`
struct Failure {
  Error error;
};
[[nodiscard]] inline Failure fail(ErrorCode code, std::string detail = {}) {
  return Failure{Error{code, std::move(detail)}};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Failure f) : v_(std::in_place_index<1>, std::move(f.error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return *std::get_if<0>(&v_); }
  const T& value() const& { assert(ok()); return *std::get_if<0>(&v_); }
  T&& value() && { assert(ok()); return std::move(*std::get_if<0>(&v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return *std::get_if<1>(&v_); }
  Error&& error() && { assert(!ok()); return std::move(*std::get_if<1>(&v_)); }
  // Re-wraps this error for a Result of another type.
  Failure failure() const { return Failure{error()}; }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Failure f) : error_(std::move(f.error)), ok_(false) {}  // NOLINT

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }
  Failure failure() const { return Failure{error_}; }

 private:
  Error error_{};
  bool ok_ = true;
};

}  // namespace paychan

// Propagates the error of a Result/Status expression out of the enclosing function.
#define PAYCHAN_TRY(expr)                  \
  do {                                     \
    auto&& paychan_try_ = (expr);          \
    if (!paychan_try_) return paychan_try_.failure(); \
  } while (0)

// Assigns the value of a Result expression to `lhs`, or propagates its error:
//   PAYCHAN_ASSIGN(config.payer, fields.address("payer"));
#define PAYCHAN_ASSIGN(lhs, expr) PAYCHAN_ASSIGN_IMPL(PAYCHAN_CONCAT(paychan_assign_, __LINE__), lhs, expr)
#define PAYCHAN_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                        \
  if (!tmp) return tmp.failure();           \
  lhs = std::move(*tmp)
#define PAYCHAN_CONCAT(a, b) PAYCHAN_CONCAT_IMPL(a, b)
#define PAYCHAN_CONCAT_IMPL(a, b) a##b
