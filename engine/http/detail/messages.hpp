// The Beast messages behind the Request / Response views (engine/http/message.hpp). Private to
// engine/http: only sources that already compile Beast include it.
#pragma once

#include "engine/http/beast.hpp"
#include "engine/http/message.hpp"

namespace paychan::engine::http::detail {

struct RequestMessage {
  BeastRequest m;
};

struct ResponseMessage {
  BeastResponse m;
};

}  // namespace paychan::engine::http::detail
