// What an Exchange (engine/http/handler.hpp) asks of the connection its request came on: the
// server's Session, or a provider's own Beast server through beast_serve.hpp.
// Thread-safety: the connection's I/O thread only.
#pragma once

#include <cstdint>
#include <string_view>

#include "channel/result.hpp"
#include "engine/http/asio.hpp"
#include "engine/http/connection_locals.hpp"

namespace paychan::engine::http::detail {

class Conduit {
 public:
  // The head as the Exchange's response() holds it now, then the body piece by piece (see
  // Exchange::begin_stream and the rest).
  [[nodiscard]] virtual Awaitable<Status> begin_stream() = 0;
  [[nodiscard]] virtual Awaitable<Status> write(std::string_view piece) = 0;
  [[nodiscard]] virtual Awaitable<Status> end_stream() = 0;
  [[nodiscard]] virtual bool streaming() const noexcept = 0;
  [[nodiscard]] virtual bool stream_unfinished() const noexcept = 0;
  [[nodiscard]] virtual std::string_view peer_address() const noexcept = 0;
  [[nodiscard]] virtual std::uint16_t peer_port() const noexcept = 0;
  [[nodiscard]] virtual ConnectionLocals& locals() noexcept = 0;

 protected:
  ~Conduit() = default;  // not owned through this interface
};

}  // namespace paychan::engine::http::detail
