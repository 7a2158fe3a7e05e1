// Asio I/O objects and Beast HTTP for the sources of engine/http (and tests). Heavy to compile:
// keep it out of public headers; include engine/http/asio.hpp there instead.
#pragma once

// clang-format off
#include "engine/http/asio.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
// clang-format on

namespace paychan::engine::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// The messages the server and client keep: whole bodies in a std::string.
using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

// Completion token for `co_await op(..., use(ec))`: the error lands in `ec` instead of being thrown,
// so no exception is used for the ordinary failures of network I/O.
[[nodiscard]] inline auto use(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

}  // namespace paychan::engine::http
