#include "engine/http/hop_by_hop.hpp"

#include <array>

#include "engine/http/message.hpp"

namespace paychan::engine::http {
namespace {

constexpr std::array<std::string_view, 9> kHopByHop{
    "Connection", "Keep-Alive",        "Proxy-Connection",   "TE", "Trailer", "Transfer-Encoding",
    "Upgrade",    "Proxy-Authenticate", "Proxy-Authorization",
};

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_hop_by_hop(std::string_view name, std::string_view connection) noexcept {
  for (auto h : kHopByHop) {
    if (iequals(name, h)) return true;
  }
  while (!connection.empty()) {
    std::size_t comma = connection.find(',');
    if (iequals(trim(connection.substr(0, comma)), name)) return true;
    if (comma == std::string_view::npos) break;
    connection.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace paychan::engine::http
