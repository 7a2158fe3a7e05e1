#include "engine/facilitator/client_auth.hpp"

#include "channel/keccak.hpp"
#include "engine/http/message.hpp"
#include "engine/key_source.hpp"

namespace paychan::engine::facilitator {
namespace {

constexpr std::string_view kBearer = "bearer ";

Bytes32 digest_of(std::string_view token) { return keccak256(as_bytes(token)); }

}  // namespace

Result<ClientAuth> ClientAuth::load(const std::vector<ClientConfig>& clients) {
  ClientAuth auth;
  for (const auto& c : clients) {
    auto token = load_token_file(c.tokenFile);
    if (!token) return fail(ErrorCode::invalid_config, "client " + c.name + ": " + token.error().detail);
    if (!auth.byTokenDigest_.emplace(digest_of(*token), AuthenticatedClient{c.name, c.receivers}).second)
      return fail(ErrorCode::invalid_config, "client " + c.name + " has the token of another client");
  }
  return auth;
}

const AuthenticatedClient* ClientAuth::authenticate(std::string_view authorization) const {
  if (authorization.size() <= kBearer.size() || !http::istarts_with(authorization, kBearer))
    return nullptr;
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  const auto found = byTokenDigest_.find(digest_of(token));
  return found == byTokenDigest_.end() ? nullptr : &found->second;
}

}  // namespace paychan::engine::facilitator
