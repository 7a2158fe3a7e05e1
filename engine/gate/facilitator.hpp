// What the gate needs from a facilitator: /verify and /settle for the payloads it cannot finish
// alone (deposits, refunds, EIP-1271 vouchers, stale on-chain state). Implemented over HTTP by
// HttpFacilitator; a facilitator running in the same process implements it directly (no hop).
//
// Errors of both calls: facilitator_unavailable when no trustworthy answer arrived (down,
// timeout, malformed reply); facilitator_unauthorized when it refused this server's token. A
// facilitator's refusal is not an error: it is an answer (VerifyResponse.isValid false,
// SettlementResponse.success false) carrying its reason.
// Thread-safety: implementations must allow concurrent calls from every I/O thread.
#pragma once

#include "channel/result.hpp"
#include "engine/http/asio.hpp"
#include "protocol/facilitator_api.hpp"

namespace paychan::engine::gate {

class Facilitator {
 public:
  virtual ~Facilitator() = default;
  [[nodiscard]] virtual http::Awaitable<Result<protocol::VerifyResponse>> verify(
      const protocol::FacilitatorRequest& request) = 0;
  // The same, for a caller that can do without the answer (a known channel the gate can serve on
  // its mirror): a facilitator that is slow to answer is given up on sooner than verify() would.
  [[nodiscard]] virtual http::Awaitable<Result<protocol::VerifyResponse>> verify_briefly(
      const protocol::FacilitatorRequest& request) {
    return verify(request);
  }
  [[nodiscard]] virtual http::Awaitable<Result<protocol::SettlementResponse>> settle(
      const protocol::FacilitatorRequest& request) = 0;
};

}  // namespace paychan::engine::gate
