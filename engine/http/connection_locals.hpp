// What handlers keep for one connection across its requests, e.g. what the last request left that
// the next one can reuse: one value of each type, made (default-constructed) on first use and
// destroyed with the connection. A Handler serves every connection; state of one goes here.
// Thread-safety: none; the connection's (its Exchange's) I/O thread only.
#pragma once

#include <memory>
#include <typeinfo>
#include <utility>
#include <vector>

namespace paychan::engine::http {

class ConnectionLocals {
 public:
  template <typename T>
  T& get() {
    for (auto& [type, value] : values_)
      if (*type == typeid(T)) return *static_cast<T*>(value.get());
    auto value = std::make_shared<T>();  // shared_ptr<void> keeps T's destructor
    T& made = *value;
    values_.emplace_back(&typeid(T), std::move(value));
    return made;
  }

 private:
  std::vector<std::pair<const std::type_info*, std::shared_ptr<void>>> values_;  // a handful at most
};

}  // namespace paychan::engine::http
