#include "protocol/json_depth.hpp"

#include <gtest/gtest.h>

#include <string>

namespace paychan::protocol {
namespace {

TEST(JsonDepth, CountsNestingOutsideStrings) {
  EXPECT_TRUE(json_depth_within(R"({"a":[1,{"b":2}]})", 3));
  EXPECT_FALSE(json_depth_within(R"({"a":[1,{"b":2}]})", 2));
  EXPECT_TRUE(json_depth_within(R"({"a":"[[[[[[[["})", 1)) << "brackets in strings do not count";
  EXPECT_TRUE(json_depth_within(R"({"a":"\"[[[[[["})", 1)) << "an escaped quote does not end the string";
  EXPECT_FALSE(json_depth_within(std::string(kMaxJsonDepth + 1, '[')));
  EXPECT_TRUE(json_depth_within(std::string(kMaxJsonDepth, '[')));
  EXPECT_TRUE(json_depth_within("]]]]{}"));
}

}  // namespace
}  // namespace paychan::protocol
