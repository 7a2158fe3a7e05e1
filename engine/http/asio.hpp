// The one way into Boost.Asio for paychan. Every file that needs Asio includes this header (or
// engine/http/beast.hpp) instead of a Boost header, because g++ 12 in C++20 mode fails inside
// Boost 1.74's Asio (std::exchange undeclared) unless <utility> comes first.
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
