// A worker's listening socket and its accept loop. Every worker listens on the same port with
// SO_REUSEPORT, so the kernel spreads new connections over the workers: no thread hands a
// connection to another and no lock is shared on the accept path.
// Thread-safety: the acceptor and its loop belong to one worker's I/O thread.
#pragma once

#include "channel/result.hpp"
#include "engine/http/beast.hpp"

namespace paychan::engine::http::detail {

class Worker;

// Opens, binds and listens. Error: http_listen_failed (address in use, permission, …).
[[nodiscard]] Result<tcp::acceptor> open_listener(asio::io_context& context, const tcp::endpoint& endpoint,
                                                  int backlog);

// Whether `endpoint`'s port is free of listeners: the workers' SO_REUSEPORT sockets would join
// another process's on the same port (another gate, run by the same user) and share its connections
// with it. Two servers starting at the same instant can both pass. Error: http_listen_failed
// (address in use, permission, …).
[[nodiscard]] Status claim_port(asio::io_context& context, const tcp::endpoint& endpoint);

// Accepts until the acceptor is closed, starting a Session for each connection the budget admits
// and closing the others at once.
[[nodiscard]] Awaitable<void> accept_connections(tcp::acceptor& acceptor, Worker& worker);

}  // namespace paychan::engine::http::detail
