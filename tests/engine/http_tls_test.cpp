// HttpClient over https against a real TLS server on loopback, with certificates made by the
// openssl tool for this run: a trusted chain is answered (and its connection kept alive), an
// untrusted certificate and one for another name are refused before anything is sent.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/http/beast.hpp"
#include "engine/http/client.hpp"
#include "http_test_support.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::http {
namespace {

// A TLS server answering every request with "secure " + its target, on keep-alive connections.
class TlsServer {
 public:
  // How a response ends: with a Content-Length on a kept-alive connection, at a TCP close with no
  // length and no TLS close_notify, or cut short by such a close before its Content-Length is sent.
  enum class Ending { length, abrupt_close, cut_short };
  TlsServer(const std::string& certificate, const std::string& key, Ending ending = Ending::length)
      : ending_(ending), ssl_(asio::ssl::context::tls_server) {
    ssl_.use_certificate_chain_file(certificate);
    ssl_.use_private_key_file(key, asio::ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(context_, accept(), asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;
  ~TlsServer() {
    context_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string url(const std::string& host, const std::string& path) const {
    return "https://" + host + ":" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  std::atomic<int> accepted{0};
  std::atomic<int> answered{0};

 private:
  Awaitable<void> accept() {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(use(ec));
      if (ec) co_return;
      ++accepted;
      asio::co_spawn(context_, serve(std::move(socket)), asio::detached);
    }
  }
  Awaitable<void> serve(tcp::socket socket) {
    asio::ssl::stream<tcp::socket> tls(std::move(socket), ssl_);
    error_code ec;
    co_await tls.async_handshake(asio::ssl::stream_base::server, use(ec));
    beast::flat_buffer buffer;
    while (!ec) {
      BeastRequest request;
      co_await bhttp::async_read(tls, buffer, request, use(ec));
      if (ec) break;
      if (ending_ != Ending::length) {
        const std::string framing = ending_ == Ending::cut_short ? "Content-Length: 100\r\n" : "Connection: close\r\n";
        const std::string raw = "HTTP/1.1 200 OK\r\n" + framing + "\r\nsecure " + std::string(request.target()) + ", to the end";
        co_await asio::async_write(tls, asio::buffer(raw), use(ec));
        tls.next_layer().close(ec);  // no TLS shutdown
        co_return;
      }
      BeastResponse response(bhttp::status::ok, 11);
      response.set(bhttp::field::content_type, "text/plain");
      response.body() = "secure " + std::string(request.target());
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      co_await bhttp::async_write(tls, response, use(ec));
      ++answered;
    }
  }

  Ending ending_;
  asio::io_context context_;
  asio::ssl::context ssl_;
  tcp::acceptor acceptor_{context_};
  std::thread thread_;
};

class HttpsTest : public ::testing::Test {
 protected:
  // A certificate authority, a server certificate it signs for "localhost", and a self-signed one
  // for the same name. The client trusts the authority through $SSL_CERT_FILE, which OpenSSL's
  // default paths read; it is set before the client's TLS context is first made (ctest runs each
  // test in a process of its own; in one process, no other test may make a TLS connection first).
  static void SetUpTestSuite() {
    dir_ = new paychan::test::TempDir();
    const std::string d = dir_->path.string();
    std::ofstream(d + "/san.ext") << "subjectAltName=DNS:localhost\n";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2";
    const std::string script =
        "cd '" + d + "' && openssl req -x509" + ec + " -keyout ca.key -out ca.pem -subj /CN=paychan-test-ca" +
        " && openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=localhost" +
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext"
        " -out server.pem && openssl req -x509" + ec + " -keyout self.key -out self.pem -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost";
    ok_ = std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0;
    ::setenv("SSL_CERT_FILE", (d + "/ca.pem").c_str(), 1);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(ok_) << "the openssl tool could not make the test certificates"; }
  static std::string file(const char* name) { return (dir_->path / name).string(); }

  static paychan::test::TempDir* dir_;
  static bool ok_;
};
paychan::test::TempDir* HttpsTest::dir_ = nullptr;
bool HttpsTest::ok_ = false;

TEST_F(HttpsTest, ATrustedServerIsAnsweredOverOneKeptAliveConnection) {
  TlsServer server(file("server.pem"), file("server.key"));
  BlockingHttpClient client;
  for (const char* path : {"/a", "/b"}) {
    auto got = client.request(ClientRequest::get(server.url("localhost", path)));
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(got->body, std::string("secure ") + path);
  }
  EXPECT_EQ(server.accepted.load(), 1) << "the second request went over the first connection";
}

TEST_F(HttpsTest, AnUntrustedCertificateIsRefused) {
  TlsServer server(file("self.pem"), file("self.key"));
  BlockingHttpClient client;
  auto got = client.request(ClientRequest::post(server.url("localhost", "/pay"), "{}"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::http_connect_failed);
  EXPECT_NE(got.error().detail.find("certificate verify failed"), std::string::npos) << got.error().detail;
}

TEST_F(HttpsTest, ACertificateForAnotherNameIsRefused) {
  TlsServer server(file("server.pem"), file("server.key"));  // for "localhost", not 127.0.0.1
  BlockingHttpClient client;
  auto got = client.request(ClientRequest::get(server.url("127.0.0.1", "/")));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::http_connect_failed);
  EXPECT_NE(got.error().detail.find("certificate verify failed"), std::string::npos) << got.error().detail;
}

// Most TLS servers close without close_notify; for a body that ends at the close, that is its end.
TEST_F(HttpsTest, ABodyEndedByAClosedConnectionWithoutCloseNotifyIsWhole) {
  TlsServer server(file("server.pem"), file("server.key"), TlsServer::Ending::abrupt_close);
  BlockingHttpClient client;
  auto got = client.request(ClientRequest::get(server.url("localhost", "/stream")));
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->body, "secure /stream, to the end");
}

// The same close before the Content-Length the response announced is a cut, not an end: an
// error, never a short body taken as whole.
TEST_F(HttpsTest, ABodyCutShortOfItsLengthByAClosedConnectionIsAnError) {
  TlsServer server(file("server.pem"), file("server.key"), TlsServer::Ending::cut_short);
  BlockingHttpClient client;
  auto got = client.request(ClientRequest::get(server.url("localhost", "/stream")));
  ASSERT_FALSE(got) << "a short body was taken as whole: " << got->body;
  EXPECT_EQ(got.error().code, ErrorCode::http_bad_response) << got.error().to_string();
}

// A peer that takes the TCP connection but never answers the TLS handshake: the client gives up
// within its connect timeout.
TEST_F(HttpsTest, AHandshakeThatNeverCompletesTimesOut) {
  asio::io_context context;
  tcp::acceptor silent(context, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});  // never accepts
  ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(300);
  BlockingHttpClient client(options);
  auto got = client.request(ClientRequest::get("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::http_timeout) << got.error().to_string();
}

// A kept-alive plain connection is never taken for https to the same host and port.
TEST_F(HttpsTest, APlainConnectionIsNotReusedForHttps) {
  test::TestServer server{[](Exchange& ex) -> Handled {
    ex.response().set(200, "text/plain", "plain");
    return std::nullopt;
  }};
  BlockingHttpClient client;
  auto plain = client.request(ClientRequest::get(server.url("/")));
  ASSERT_TRUE(plain) << plain.error().to_string();
  std::string secure_url = server.url("/");
  secure_url.replace(0, 4, "https");
  auto secure = client.request(ClientRequest::get(secure_url));
  ASSERT_FALSE(secure) << "answered over the pooled plain connection";
  EXPECT_EQ(secure.error().code, ErrorCode::http_connect_failed);
}

}  // namespace
}  // namespace paychan::engine::http
