// What handlers keep for one connection across its requests, e.g. what the last request left that
// the next one can reuse: one value of each type, made (default-constructed) on first use and
// destroyed with the connection, the last made first. A Handler serves every connection; state of
// one goes here.
// Thread-safety: none; the connection's (its Exchange's) I/O thread only.
#pragma once

#include <memory>
#include <utility>
#include <vector>

namespace paychan::engine::http {

class ConnectionLocals {
 public:
  ConnectionLocals() = default;
  ConnectionLocals(const ConnectionLocals&) = delete;
  ConnectionLocals& operator=(const ConnectionLocals&) = delete;
  ~ConnectionLocals() {
    while (!values_.empty()) values_.pop_back();
  }

  template <typename T>
  T& get() {
    for (auto& [type, value] : values_)
      if (type == &tag<T>) return *static_cast<T*>(value.get());
    values_.emplace_back(&tag<T>, Value(new T(), [](void* p) { delete static_cast<T*>(p); }));
    return *static_cast<T*>(values_.back().second.get());
  }

 private:
  template <typename T>
  static constexpr char tag = 0;  // one address per type: compared, never read
  using Value = std::unique_ptr<void, void (*)(void*)>;
  std::vector<std::pair<const char*, Value>> values_;  // a handful at most
};

}  // namespace paychan::engine::http
