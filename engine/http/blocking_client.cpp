#include <optional>

#include "engine/http/beast.hpp"
#include "engine/http/client.hpp"

namespace paychan::engine::http {

struct BlockingHttpClient::Impl {
  explicit Impl(const ClientOptions& options) : client(options) {}
  asio::io_context context{1};  // its pool keeps the connections between calls
  HttpClient client;
};

BlockingHttpClient::BlockingHttpClient(ClientOptions options) : impl_(std::make_unique<Impl>(options)) {}
BlockingHttpClient::~BlockingHttpClient() = default;

Result<ClientResponse> BlockingHttpClient::request(ClientRequest request, SinkFor sink_for) {
  std::optional<Result<ClientResponse>> out;
  asio::co_spawn(
      impl_->context,
      [&]() -> Awaitable<void> { out.emplace(co_await impl_->client.request(std::move(request), std::move(sink_for))); },
      asio::detached);
  impl_->context.restart();
  impl_->context.run();
  if (!out) return fail(ErrorCode::http_bad_response, "request failed unexpectedly");  // it threw (out of memory)
  return std::move(*out);
}

}  // namespace paychan::engine::http
