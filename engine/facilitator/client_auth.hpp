// Who may call a facilitator's /verify and /settle: the clients of its configuration, each proving
// itself with `Authorization: Bearer <token>` — the header a reference HTTPFacilitatorClient sends
// through its createAuthHeaders hook, and paychan's gate and settle job through facilitatorTokenFile.
// An authenticated client's receivers are the scope in which the facilitator's receiverAuthorizer
// key signs claims and refunds for it (settlement_actions.hpp, ReceiverScope).
//
// Tokens are kept only as keccak256 digests: the table holds no secret, and a lookup compares
// digests, so its timing tells nothing about how much of a guessed token was right.
// Thread-safety: immutable after load(); authenticate() from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "channel/address.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"
#include "engine/facilitator/facilitator_config.hpp"

namespace paychan::engine::facilitator {

struct AuthenticatedClient {
  std::string name;
  std::vector<Address> receivers;
  friend bool operator==(const AuthenticatedClient&, const AuthenticatedClient&) = default;
};

class ClientAuth {
 public:
  // Reads every client's token file (owner-only, engine/key_source.hpp). Error: invalid_config
  // naming the client (unreadable or weak token, or a token two clients share).
  [[nodiscard]] static Result<ClientAuth> load(const std::vector<ClientConfig>& clients);

  // The client whose token the Authorization header `authorization` carries ("Bearer <token>",
  // the scheme's case ignored); nullptr for a missing, malformed or unknown one.
  [[nodiscard]] const AuthenticatedClient* authenticate(std::string_view authorization) const;
  // The same clients with the same tokens.
  friend bool operator==(const ClientAuth&, const ClientAuth&) = default;

 private:
  std::map<Bytes32, AuthenticatedClient> byTokenDigest_;
};

}  // namespace paychan::engine::facilitator
