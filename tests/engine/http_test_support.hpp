// Helpers for the engine/http tests, which all run over real loopback sockets: a raw client that
// writes exact bytes and reads exact bytes, a server fixture, and an event that test threads and
// handlers on the server's threads can meet at (so that no test sleeps to synchronize).
//
// Every blocking read here gives up after kSafety: that only turns a bug into a failed test instead
// of a hung one; no test asserts on how long anything takes.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/http/beast.hpp"
#include "engine/http/handler.hpp"
#include "engine/http/server.hpp"

namespace paychan::engine::http::test {

inline constexpr std::chrono::seconds kSafety{20};

// A one-shot event: coroutines on any io_context await it, any thread sets it.
class Event {
 public:
  void set() {
    std::lock_guard lock(mutex_);
    set_ = true;
    for (auto* timer : waiters_) asio::post(timer->get_executor(), [timer] { timer->cancel(); });
    waiters_.clear();
  }

  [[nodiscard]] bool is_set() {
    std::lock_guard lock(mutex_);
    return set_;
  }

  // Blocks the test's thread (no I/O thread) until the event is set, at most `limit`; whether it was.
  bool wait_here(std::chrono::steady_clock::duration limit = kSafety) {
    asio::io_context context;
    asio::co_spawn(context, wait(), asio::detached);
    context.run_for(limit);
    return is_set();
  }

  Awaitable<void> wait() {
    asio::steady_timer timer(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    {
      std::lock_guard lock(mutex_);
      if (set_) co_return;
      waiters_.push_back(&timer);
    }
    // Leaves the list however the wait ends (also when a stopping server destroys the coroutine).
    struct Unlist {
      Event& e;
      asio::steady_timer* t;
      ~Unlist() {
        std::lock_guard lock(e.mutex_);
        std::erase(e.waiters_, t);
      }
    } unlist{*this, &timer};
    error_code ec;
    co_await timer.async_wait(use(ec));
  }

 private:
  std::mutex mutex_;
  bool set_ = false;
  std::vector<asio::steady_timer*> waiters_;
};

// One TCP connection driven step by step from the test thread.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : stream_(context_) {
    error_code ec;
    stream_.socket().connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port}, ec);
    connected_ = !ec;
  }

  [[nodiscard]] bool connected() const noexcept { return connected_; }

  void send(std::string_view bytes) {
    error_code ec;
    asio::write(stream_.socket(), asio::buffer(bytes.data(), bytes.size()), ec);
    last_error_ = ec;
  }

  // Half-closes: the server reads end-of-file after what was sent.
  void shutdown_send() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // One whole response (Beast parses it), or nullopt when the connection ended or timed out.
  std::optional<BeastResponse> read_response(bool head_request = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head_request);
    error_code ec;
    run([&](auto done) { bhttp::async_read(stream_, buffer_, parser, done); }, ec);
    last_error_ = ec;
    if (ec) return std::nullopt;
    return parser.release();
  }

  // Raw bytes until `needle` has arrived; what arrived either way (check with contains()).
  std::string read_until(std::string_view needle) {
    while (raw_.find(needle) == std::string::npos && read_more()) {
    }
    return raw_;
  }

  // True when the server closes the connection (after any bytes it still sends).
  bool closed_by_peer() {
    while (read_more()) {
    }
    return last_error_ == asio::error::eof || last_error_ == asio::error::connection_reset;
  }

  [[nodiscard]] const std::string& received() const noexcept { return raw_; }
  [[nodiscard]] error_code last_error() const noexcept { return last_error_; }

 private:
  // Runs one async operation to completion on this client's own context, within kSafety.
  template <typename Start>
  void run(Start start, error_code& ec) {
    stream_.expires_after(kSafety);
    start([&ec](error_code e, std::size_t) { ec = e; });
    context_.restart();
    context_.run();
  }

  bool read_more() {
    // Bytes Beast buffered but did not use belong to the raw stream too.
    if (buffer_.size() != 0) {
      raw_.append(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      buffer_.consume(buffer_.size());
      return true;
    }
    std::array<char, 4096> chunk;
    std::size_t got = 0;
    error_code ec;
    run([&](auto done) {
      stream_.async_read_some(asio::buffer(chunk), [&got, done](error_code e, std::size_t n) mutable {
        got = n;
        done(e, n);
      });
    }, ec);
    last_error_ = ec;
    raw_.append(chunk.data(), got);
    return !ec;
  }

  asio::io_context context_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string raw_;
  error_code last_error_;
  bool connected_ = false;
};

// A started server around a handler callable; stopped (gracefully, briefly) on destruction.
template <typename F>
class TestServer {
 public:
  explicit TestServer(F f, ServerOptions options = {}) : handler_(std::move(f)), server_(handler_, options) {
    Status started = server_.start();
    EXPECT_TRUE(started) << (started ? "" : started.error().to_string());
  }
  ~TestServer() { server_.stop(std::chrono::seconds(1)); }

  [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
  [[nodiscard]] std::string url(std::string_view target = "/") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(target);
  }
  HttpServer& server() noexcept { return server_; }

 private:
  FunctionHandler<F> handler_;
  HttpServer server_;
};

// Reads from `s` until a request head's end ("\r\n\r\n") has come; false if the peer closed (or
// the read failed) first.
inline bool read_request_head(tcp::socket& s) {
  std::string request;
  std::array<char, 4096> in;
  error_code ec;
  while (!ec && request.find("\r\n\r\n") == std::string::npos) {
    std::size_t n = s.read_some(asio::buffer(in), ec);
    request.append(in.data(), n);
  }
  return !ec;
}

// A one-shot peer that answers the first request of its first connection with canned bytes, then
// closes: for responses no HttpServer would send.
class CannedServer {
 public:
  explicit CannedServer(std::string reply)
      : acceptor_(context_, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}),
        thread_([this, reply = std::move(reply)] {
          tcp::socket s(context_);
          error_code ec;
          acceptor_.accept(s, ec);
          if (!ec) (void)read_request_head(s);
          asio::write(s, asio::buffer(reply), ec);
          s.shutdown(tcp::socket::shutdown_both, ec);
        }) {}
  ~CannedServer() {
    // Releases the accept() if the test never connected.
    tcp::socket wake(context_);
    error_code ec;
    wake.connect(acceptor_.local_endpoint(), ec);
    wake.close(ec);
    thread_.join();
  }

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }

 private:
  asio::io_context context_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

inline std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

}  // namespace paychan::engine::http::test
