#include "engine/http/detail/request_reader.hpp"

#include <algorithm>
#include <limits>
#include <string_view>

#include "engine/http/text.hpp"

namespace paychan::engine::http::detail {
namespace {

// Bytes asked of the socket per read: several small pipelined requests fit in one.
constexpr std::size_t kReadChunk = 16 * 1024;

RequestReader::Outcome classify(const error_code& ec) noexcept {
  if (ec == bhttp::error::header_limit) return RequestReader::Outcome::header_too_large;
  if (ec == bhttp::error::body_limit) return RequestReader::Outcome::body_too_large;
  return RequestReader::Outcome::malformed;
}

// What RFC 9112 has a server refuse and Beast's parser lets through: an HTTP/1.1 request without
// exactly one Host, or with one that is not host[:port] (§3.2); a Transfer-Encoding whose last
// coding is not chunked, whose length cannot be told (§6.3); any Transfer-Encoding in an HTTP/1.0
// request, whose framing is to be taken as faulty (§6.1: a proxy before us may frame it otherwise).
bool acceptable_head(const bhttp::request_parser<bhttp::string_body>& parser) {
  const auto& head = parser.get();
  const std::size_t hosts = head.count(bhttp::field::host);
  if (hosts > 1 || (hosts == 0 && head.version() >= 11)) return false;
  if (hosts == 1 && !valid_host(head[bhttp::field::host])) return false;
  const bool transfer_encoded = head.find(bhttp::field::transfer_encoding) != head.end();
  if (transfer_encoded && head.version() < 11) return false;
  return !transfer_encoded || parser.chunked();
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
  // The header alone first, so that its size is what the put that completes it used: Beast 1.74
  // applies header_limit only while the header's end is not in the bytes it is given, so a
  // header sent in one piece could be up to a whole buffer long. The body is then parsed eagerly.
  parser_->eager(false);
  head_bytes_ = 0;
  skipped_empty_line_ = false;
  continue_answered_ = false;
  head_checked_ = false;
  deadline_.reset();
}

RequestReader::Outcome RequestReader::parse_buffered() {
  while (!parser_->is_done()) {
    if (buffer_.size() == 0) return Outcome::need_more;
    // One empty line before a request line is ignored (RFC 9112 §2.2: some clients end a POST
    // body with an extra CRLF); Beast 1.74 takes it for a malformed start line. One only, so that
    // a stream of empty lines is still refused.
    if (!parser_->got_some() && !skipped_empty_line_) {
      const std::string_view start(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      if (start == "\r") return Outcome::need_more;
      if (start.starts_with("\r\n")) {
        buffer_.consume(2);
        skipped_empty_line_ = true;
        continue;
      }
    }
    error_code ec;
    std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (!head_checked_) head_bytes_ += used;
    if (!head_checked_ && parser_->is_header_done()) {  // before a 100 Continue invites the body
      if (head_bytes_ > limits_.max_header_bytes) return Outcome::header_too_large;
      if (!acceptable_head(*parser_)) return Outcome::malformed;
      head_checked_ = true;
      parser_->eager(true);  // the body bytes already here in one pass
    }
    if (ec == bhttp::error::need_more) {
      // A header that fills the whole buffer can never complete.
      if (buffer_.size() == buffer_.max_size()) return Outcome::header_too_large;
      return Outcome::need_more;
    }
    if (ec == bhttp::error::body_limit && !head_checked_) {
      // A Content-Length above the limit stops the parser as its header ends, before
      // is_header_done(): the header is whole, and checked as any other before a handler sees it
      // (Handler::answer_too_large).
      if (head_bytes_ > limits_.max_header_bytes) return Outcome::header_too_large;
      if (!acceptable_head(*parser_)) return Outcome::malformed;
      head_checked_ = true;
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
  if (expect == parser_->get().end() || !iequals(expect->value(), "100-continue")) return false;
  continue_answered_ = true;
  return true;
}

BeastRequest RequestReader::take() { return parser_->release(); }

BeastRequest RequestReader::head() const { return BeastRequest(parser_->get().base()); }

}  // namespace paychan::engine::http::detail

