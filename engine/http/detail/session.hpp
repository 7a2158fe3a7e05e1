// One server connection: reads its requests in order, hands each to the Handler, writes the
// answers (batched when pipelined, streamed when the handler streams), until the client leaves, a
// limit or timeout ends it, or the server stops.
//
// No exception leaves a session: a handler that throws is answered 500 (or, once it has begun
// streaming, its connection is closed), and anything else ends the connection quietly.
// Thread-safety: lives on its worker's I/O thread; kept alive by its own coroutine.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/http/beast.hpp"
#include "engine/http/connection_locals.hpp"
#include "engine/http/detail/conduit.hpp"
#include "engine/http/detail/connection_budget.hpp"
#include "engine/http/detail/messages.hpp"
#include "engine/http/detail/request_reader.hpp"
#include "engine/http/detail/response_writer.hpp"
#include "engine/http/detail/streamed_response.hpp"
#include "engine/http/handler.hpp"

namespace paychan::engine::http::detail {

class Worker;

class Session final : public Conduit, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ConnectionSlot slot, Worker& worker);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  void start();
  // Graceful stop: an idle connection closes now; a busy one closes after its current answer.
  void stop();
  // Closes the socket whatever the session is doing.
  void abort();

  // The operations behind Exchange (engine/http/handler.hpp).
  [[nodiscard]] Awaitable<Status> begin_stream() override;
  [[nodiscard]] Awaitable<Status> write(std::string_view piece) override;
  [[nodiscard]] Awaitable<Status> end_stream() override;
  [[nodiscard]] bool streaming() const noexcept override { return streamed_.begun(); }
  [[nodiscard]] bool stream_unfinished() const noexcept override { return streamed_.unfinished(); }
  [[nodiscard]] std::string_view peer_address() const noexcept override { return peer_address_; }
  [[nodiscard]] std::uint16_t peer_port() const noexcept override { return peer_port_; }
  [[nodiscard]] ConnectionLocals& locals() noexcept override { return locals_; }

 private:
  Awaitable<void> run();
  Awaitable<void> serve();
  Awaitable<AfterAnswer> answer();
  // The request's header alone answered, and the connection closed (the unread body cannot be told
  // from a next request): 400 for a target the server refuses, else the handler's answer if `ask`
  // gives one (Handler::answer_before_body for a request that expects 100 Continue, answer_too_large
  // for a body above the limit), sent with `status` when set. True: answered, the session ends.
  Awaitable<bool> answered_from_head(bool (Handler::*ask)(Exchange&), std::optional<bhttp::status> status);
  Awaitable<void> reject(RequestReader::Outcome outcome);
  [[nodiscard]] bool keep_alive_after_answer() noexcept;
  void finalize(bool keep_alive);

  Worker& worker_;
  ConnectionSlot slot_;
  std::list<Session*>::iterator registration_;
  beast::tcp_stream stream_;
  RequestReader reader_;
  ResponseWriter writer_;
  RequestMessage request_;
  ResponseMessage response_;
  std::string peer_address_;
  std::uint16_t peer_port_ = 0;
  ConnectionLocals locals_;
  std::uint32_t answered_ = 0;
  StreamedResponse streamed_{writer_};
  bool waiting_idle_ = false;  // blocked reading while no request is in progress
  bool stopping_ = false;
};

}  // namespace paychan::engine::http::detail
