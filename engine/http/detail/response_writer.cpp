#include "engine/http/detail/response_writer.hpp"

#include <array>
#include <charconv>

namespace paychan::engine::http::detail {
namespace {

// Bodies up to this size are copied into the batch; larger ones are written from the message itself.
constexpr std::size_t kCopyLimit = 64 * 1024;

// A lingering close reads at most this much before giving up on the client.
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;

Failure write_failure(const error_code& ec) {
  if (ec == beast::error::timeout) return fail(ErrorCode::http_timeout, "client stopped reading");
  return fail(ErrorCode::http_peer_closed, ec.message());
}

bool has_no_body(const BeastResponse& r) noexcept {
  unsigned s = r.result_int();
  return s < 200 || s == 204 || s == 304;
}

}  // namespace

template <typename Buffers>
Awaitable<Status> ResponseWriter::write(const Buffers& buffers) {
  error_code ec;
  stream_.expires_after(limits_.write_timeout);
  co_await asio::async_write(stream_, buffers, use(ec));
  if (ec) co_return write_failure(ec);
  co_return Status{};
}

void ResponseWriter::serialize(const BeastResponse& response, bool header_only) {
  bhttp::response_serializer<bhttp::string_body> sr{response};
  sr.split(header_only);
  error_code ec;
  while (!ec && !(header_only ? sr.is_header_done() : sr.is_done())) {
    sr.next(ec, [&](error_code& visit_ec, const auto& buffers) {
      visit_ec = {};
      std::size_t n = asio::buffer_size(buffers);
      out_.commit(asio::buffer_copy(out_.prepare(n), buffers));
      sr.consume(n);
    });
  }
}

Awaitable<Status> ResponseWriter::send(const BeastResponse& response) {
  if (response.body().size() > kCopyLimit) {
    if (Status flushed = co_await flush(); !flushed) co_return flushed;
    error_code ec;
    stream_.expires_after(limits_.write_timeout);
    co_await bhttp::async_write(stream_, response, use(ec));
    if (ec) co_return write_failure(ec);
    co_return Status{};
  }
  serialize(response, false);
  if (++queued_ >= limits_.pipeline_depth) co_return co_await flush();
  co_return Status{};
}

Awaitable<Status> ResponseWriter::flush() {
  if (out_.size() == 0) co_return Status{};
  Status written = co_await write(out_.data());
  out_.consume(out_.size());
  queued_ = 0;
  if (out_.capacity() > 4 * kCopyLimit) out_.shrink_to_fit();  // one big batch must not pin memory
  co_return written;
}

Awaitable<Status> ResponseWriter::send_continue() {
  if (Status flushed = co_await flush(); !flushed) co_return flushed;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  co_return co_await write(asio::buffer(kContinue));
}

Awaitable<Status> ResponseWriter::begin_stream(BeastResponse& head, bool head_only) {
  if (Status flushed = co_await flush(); !flushed) co_return flushed;
  head.body().clear();
  auto length = head.find(bhttp::field::content_length);
  std::uint64_t announced = 0;
  bool has_length = length != head.end();
  if (has_length) {
    auto v = length->value();
    auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), announced);
    has_length = err == std::errc{} && end == v.data() + v.size();
    if (!has_length) head.erase(bhttp::field::content_length);
    // One Content-Length, the one the body is framed by: a proxied head may repeat it (RFC 9110
    // §8.6 lets a recipient collapse equal copies; a stricter client refuses the answer).
    else if (head.count(bhttp::field::content_length) > 1)
      head.set(bhttp::field::content_length, std::to_string(announced));
  }
  if (has_no_body(head)) {
    head.erase(bhttp::field::content_length);
    head.erase(bhttp::field::transfer_encoding);
    framing_ = Framing::none;
  } else if (head_only) {
    framing_ = Framing::none;  // a HEAD answer keeps the Content-Length a GET would have
  } else if (has_length) {
    framing_ = Framing::length;
    remaining_ = announced;
  } else if (head.version() >= 11) {
    head.chunked(true);
    framing_ = Framing::chunked;
  } else {
    head.keep_alive(false);  // HTTP/1.0 without a length: the end of the body is the close
    framing_ = Framing::close;
  }
  serialize(head, true);
  co_return co_await flush();
}

Awaitable<Status> ResponseWriter::write_piece(std::string_view piece) {
  if (piece.empty() || framing_ == Framing::none) co_return Status{};
  auto bytes = asio::buffer(piece.data(), piece.size());
  if (framing_ == Framing::chunked) co_return co_await write(bhttp::make_chunk(bytes));
  if (framing_ == Framing::length) {
    if (piece.size() > remaining_) co_return fail(ErrorCode::http_bad_response, "body exceeds Content-Length");
    remaining_ -= piece.size();
  }
  co_return co_await write(bytes);
}

Awaitable<Status> ResponseWriter::end_stream() {
  Framing framing = std::exchange(framing_, Framing::none);
  if (framing == Framing::chunked) co_return co_await write(bhttp::make_chunk_last());
  if (framing == Framing::length && remaining_ != 0) {
    co_return fail(ErrorCode::http_bad_response, "body shorter than Content-Length");
  }
  co_return Status{};
}

Awaitable<void> ResponseWriter::linger_close() {
  if (!co_await flush()) co_return;
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(limits_.linger_timeout);
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  while (!ec && drained < kMaxLingerBytes) {
    drained += co_await stream_.async_read_some(asio::buffer(sink), use(ec));
  }
}

}  // namespace paychan::engine::http::detail
