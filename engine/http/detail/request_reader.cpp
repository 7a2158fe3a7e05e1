#include "engine/http/detail/request_reader.hpp"

#include <algorithm>
#include <limits>

namespace paychan::engine::http::detail {
namespace {

// Bytes asked of the socket per read: several small pipelined requests fit in one.
constexpr std::size_t kReadChunk = 16 * 1024;

RequestReader::Outcome classify(const error_code& ec) noexcept {
  if (ec == bhttp::error::header_limit) return RequestReader::Outcome::header_too_large;
  if (ec == bhttp::error::body_limit) return RequestReader::Outcome::body_too_large;
  return RequestReader::Outcome::malformed;
}

}  // namespace

// The buffer holds at most one header plus one read: body bytes leave it as they are parsed.
RequestReader::RequestReader(const ServerLimits& limits)
    : limits_(limits), buffer_(limits.max_header_bytes + kReadChunk) {}

void RequestReader::begin() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(limits_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(limits_.max_body_bytes);
  parser_->eager(true);  // header and the body bytes already here in one pass
  continue_answered_ = false;
  deadline_.reset();
}

RequestReader::Outcome RequestReader::parse_buffered() {
  while (!parser_->is_done()) {
    if (buffer_.size() == 0) return Outcome::need_more;
    error_code ec;
    std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) {
      // A header that fills the whole buffer can never complete.
      if (buffer_.size() == buffer_.max_size()) return Outcome::header_too_large;
      return Outcome::need_more;
    }
    if (ec) return classify(ec);
  }
  return Outcome::complete;
}

Awaitable<error_code> RequestReader::receive(beast::tcp_stream& stream) {
  if (idle()) {
    stream.expires_after(limits_.idle_timeout);
  } else {
    if (!deadline_) deadline_ = std::chrono::steady_clock::now() + limits_.request_timeout;
    stream.expires_at(*deadline_);
  }
  error_code ec;
  std::size_t room = std::min(kReadChunk, buffer_.max_size() - buffer_.size());
  std::size_t n = co_await stream.async_read_some(buffer_.prepare(room), use(ec));
  buffer_.commit(n);
  co_return ec;
}

bool RequestReader::idle() const noexcept { return buffer_.size() == 0 && !parser_->got_some(); }

bool RequestReader::wants_continue() noexcept {
  if (continue_answered_ || !parser_->is_header_done() || parser_->is_done()) return false;
  if (parser_->get().version() < 11) return false;  // HTTP/1.0 clients do not know 100 (RFC 9110 §15.2)
  auto expect = parser_->get().find(bhttp::field::expect);
  if (expect == parser_->get().end() || !beast::iequals(expect->value(), "100-continue")) return false;
  continue_answered_ = true;
  return true;
}

BeastRequest RequestReader::take() { return parser_->release(); }

}  // namespace paychan::engine::http::detail

