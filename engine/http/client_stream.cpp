#include "engine/http/detail/client_stream_state.hpp"

#include <limits>

namespace paychan::engine::http {
namespace detail {

ClientStreamState::~ClientStreamState() {
  // Leftover bytes would be the start of a response nobody asked for: such a connection is not reused.
  // Nor is one that answered a HEAD: a server that wrongly sends the body anyway may send it after
  // the pool's check for bytes waiting, into the next response.
  if (connection && parser && parser->is_done() && parser->keep_alive() && connection->buffer.size() == 0 &&
      !head_request) {
    pool.give_back(key, std::move(connection), max_idle);
  }
}

void ClientStreamState::new_parser(const ClientOptions& options, bool head_request) {
  // The connection's buffer holds a head, or a chunk's size line with its extensions, or the
  // trailer, until the parser can take it whole. Beast 1.74 bounds only the head (header_limit):
  // without a bound here, a peer sending one endless chunk extension or trailer would grow it
  // without end. Past it, a read fails with buffer_overflow (http_response_too_large).
  connection->buffer.max_size(options.max_header_bytes + kReadAhead);
  parser.emplace();
  parser->header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  // Streams are unlimited; request() applies max_body_bytes. (Not boost::none: Beast 1.74 compares
  // a Content-Length against an empty limit as if the limit were smaller.)
  parser->body_limit(std::numeric_limits<std::uint64_t>::max());
  parser->skip(head_request);
  this->head_request = head_request;
}

}  // namespace detail

ClientStream::ClientStream(std::unique_ptr<detail::ClientStreamState> state) noexcept : state_(std::move(state)) {}
ClientStream::ClientStream(ClientStream&&) noexcept = default;
ClientStream& ClientStream::operator=(ClientStream&&) noexcept = default;
ClientStream::~ClientStream() = default;

int ClientStream::status() const noexcept { return state_->status; }
const std::vector<Header>& ClientStream::headers() const noexcept { return state_->headers; }
std::optional<std::string_view> ClientStream::header(std::string_view name) const noexcept {
  return find_header(state_->headers, name);
}
std::optional<std::uint64_t> ClientStream::content_length() const noexcept {
  auto n = state_->parser->content_length();
  if (!n) return std::nullopt;
  return *n;
}
bool ClientStream::done() const noexcept { return state_->parser->is_done(); }

Awaitable<Result<std::string_view>> ClientStream::read_some() {
  auto& s = *state_;
  while (!s.parser->is_done()) {
    if (!s.connection) co_return fail(ErrorCode::http_bad_response, "stream already failed");
    auto& body = s.parser->get().body();
    body.data = s.piece.data();
    body.size = s.piece.size();
    error_code ec;
    s.connection->stream.expires_after(s.read_timeout);
    auto& connection = *s.connection;
    co_await connection.over(
        [&](auto& stream) { return bhttp::async_read_some(stream, connection.buffer, *s.parser, use(ec)); });
    if (ec == bhttp::error::need_buffer) ec = {};  // the piece buffer is full: hand it out
    // A TLS peer that closes without close_notify (most do) reads as a truncated stream, not an
    // end of file: for a body that ends at the close, it is that end. Any other body is cut short.
    if (ec == asio::ssl::error::stream_truncated && s.parser->need_eof()) s.parser->put_eof(ec);
    if (ec) {
      s.connection.reset();  // never reused after an error
      if (ec == beast::error::timeout) co_return fail(ErrorCode::http_timeout, "no body bytes within read_timeout");
      if (ec == bhttp::error::buffer_overflow)
        co_return fail(ErrorCode::http_response_too_large, "a chunk's size line or the trailer");
      co_return fail(ErrorCode::http_bad_response, "reading the body: " + ec.message());
    }
    std::size_t n = s.piece.size() - body.size;
    if (n != 0) co_return std::string_view{s.piece.data(), n};
  }
  co_return std::string_view{};
}

}  // namespace paychan::engine::http
