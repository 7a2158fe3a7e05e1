// is_hop_by_hop: the fields a proxy must not forward (RFC 9110 §7.6.1).
#include "engine/http/hop_by_hop.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cctype>

namespace paychan::engine::http {
namespace {

TEST(HopByHop, FixedFieldsInAnyCase) {
  for (std::string_view name : {"Connection", "keep-alive", "PROXY-CONNECTION", "TE", "Trailer",
                                "Transfer-Encoding", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization"}) {
    EXPECT_TRUE(is_hop_by_hop(name, "")) << name;
  }
  for (std::string_view name : {"Content-Type", "Content-Length", "Authorization", "Payment-Signature", "Trailers",
                                "X-Connection"}) {
    EXPECT_FALSE(is_hop_by_hop(name, "")) << name;
  }
}

TEST(HopByHop, FieldsNamedByConnection) {
  EXPECT_TRUE(is_hop_by_hop("X-Private", "keep-alive, x-private"));
  EXPECT_TRUE(is_hop_by_hop("X-Private", "X-Private"));
  EXPECT_TRUE(is_hop_by_hop("x-b", " x-a ,\tX-B\t, x-c"));
  EXPECT_FALSE(is_hop_by_hop("X-Private", "keep-alive"));
  EXPECT_FALSE(is_hop_by_hop("X-Priv", "X-Private"));
  EXPECT_FALSE(is_hop_by_hop("X-Private", ",,"));
}

// A name listed anywhere in Connection, padded and in any case, is hop-by-hop; others are not.
RC_GTEST_PROP(HopByHopProperty, ConnectionListDecides, ()) {
  const auto token = rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(std::string("xyzXYZ-"))));
  auto listed = *rc::gen::container<std::vector<std::string>>(token);
  auto name = *token;
  std::string connection;
  for (const auto& t : listed) connection += " " + t + "\t,";
  bool named = false;
  for (const auto& t : listed) {
    named = named || (t.size() == name.size() && std::equal(t.begin(), t.end(), name.begin(), [](char a, char b) {
                        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                      }));
  }
  RC_ASSERT(is_hop_by_hop(name, connection) == named);
}

}  // namespace
}  // namespace paychan::engine::http
