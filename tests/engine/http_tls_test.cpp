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
#include "temp_dir.hpp"

namespace paychan::engine::http {
namespace {

// A TLS server answering every request with "secure " + its target, on keep-alive connections.
class TlsServer {
 public:
  TlsServer(const std::string& certificate, const std::string& key) : ssl_(asio::ssl::context::tls_server) {
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
      BeastResponse response(bhttp::status::ok, 11);
      response.set(bhttp::field::content_type, "text/plain");
      response.body() = "secure " + std::string(request.target());
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      co_await bhttp::async_write(tls, response, use(ec));
      ++answered;
    }
  }

  asio::io_context context_;
  asio::ssl::context ssl_;
  tcp::acceptor acceptor_{context_};
  std::thread thread_;
};

class HttpsTest : public ::testing::Test {
 protected:
  // A certificate authority, a server certificate it signs for "localhost", and a self-signed one
  // for the same name. The client trusts the authority through $SSL_CERT_FILE, which OpenSSL's
  // default paths read; it is set before the client's TLS context is first made.
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

TEST_F(HttpsTest, AnUntrustedCertificateIsRefusedBeforeTheRequestIsSent) {
  TlsServer server(file("self.pem"), file("self.key"));
  BlockingHttpClient client;
  auto got = client.request(ClientRequest::post(server.url("localhost", "/pay"), "{}"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::http_connect_failed);
  EXPECT_NE(got.error().detail.find("certificate verify failed"), std::string::npos) << got.error().detail;
  EXPECT_EQ(server.answered.load(), 0);
}

TEST_F(HttpsTest, ACertificateForAnotherNameIsRefused) {
  TlsServer server(file("server.pem"), file("server.key"));  // for "localhost", not 127.0.0.1
  BlockingHttpClient client;
  auto got = client.request(ClientRequest::get(server.url("127.0.0.1", "/")));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::http_connect_failed);
  EXPECT_EQ(server.answered.load(), 0);
}

}  // namespace
}  // namespace paychan::engine::http
