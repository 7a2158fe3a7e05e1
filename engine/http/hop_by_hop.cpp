#include "engine/http/hop_by_hop.hpp"

#include <array>

#include "engine/http/message.hpp"

namespace paychan::engine::http {
namespace {

constexpr std::array<std::string_view, 9> kHopByHop{
    "Connection", "Keep-Alive",        "Proxy-Connection",   "TE", "Trailer", "Transfer-Encoding",
    "Upgrade",    "Proxy-Authenticate", "Proxy-Authorization",
};

}  // namespace

bool is_hop_by_hop(std::string_view name, std::string_view connection) noexcept {
  for (auto h : kHopByHop) {
    if (iequals(name, h)) return true;
  }
  return any_list_item(connection, [&](std::string_view item) { return iequals(item, name); });
}

}  // namespace paychan::engine::http
