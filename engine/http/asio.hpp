// The one way into Boost.Asio for paychan. Every file that needs Asio includes this header (or
// engine/http/beast.hpp) instead of a Boost header, because g++ 12 in C++20 mode fails inside
// Boost 1.74's Asio (std::exchange undeclared) unless <utility> comes first.
//
// Second g++ 12 trap, in coroutines: an aggregate temporary in a full-expression that contains
// co_await is destroyed as if it had been copied bitwise (ASan: "attempting free on address which
// was not malloc()-ed"). `co_await f(Agg{.s = "x"})` or `co_await f({...})` crash; name the value
// first, or give the type a constructor (ClientRequest has one for this reason).
//
// Deliberately light: only what public headers need to declare coroutines (asio::awaitable and
// its executor), so that code using the HTTP layer does not compile Beast. Sources that do I/O
// include engine/http/beast.hpp.
#pragma once

// clang-format off
#include <utility>
#define BOOST_BEAST_USE_STD_STRING_VIEW 1  // beast::string_view is std::string_view everywhere
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
// clang-format on

namespace paychan::engine::http {

namespace asio = boost::asio;

// A coroutine running on an Asio executor: the return type of every asynchronous HTTP operation.
template <typename T>
using Awaitable = asio::awaitable<T>;

}  // namespace paychan::engine::http
