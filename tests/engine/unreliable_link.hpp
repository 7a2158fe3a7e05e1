// A facilitator between the gate and the real one that fails on demand (tests only).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "engine/gate/facilitator.hpp"
#include "protocol/settlement_response.hpp"

namespace paychan::engine::gate::test {

// The facilitator executes whatever it is asked to, but the gate may not hear back: a test double
// for a lost reply or an outage (a fault the real facilitator on anvil cannot be made to show).
class UnreliableLink final : public Facilitator {
 public:
  explicit UnreliableLink(Facilitator& inner) : inner_(inner) {}
  std::atomic<bool> lose_next_settle_reply{false};
  std::atomic<bool> down{false};
  // Rewrites the channel state of the next /settle reply that carries one (then is cleared): a
  // faulty facilitator's, or one read from a node behind the transaction it reports.
  std::function<void(protocol::ChannelSnapshot&)> report_state;
  // Rewrites the next /verify reply (then is cleared): one from a node behind the chain. (An
  // EIP-1271 payer's payload on a channel the gate does not hold is verified twice, the first
  // verdict dropped: the rewrite would not be judged.)
  std::function<void(protocol::VerifyResponse&)> report_verify;
  // The next /settle reply's `amount`, as if the chain had moved another figure (nullopt: none).
  std::optional<std::optional<std::string>> report_amount;
  // The next /settle is refused with this errorReason, without asking.
  std::optional<std::string> refuse_next_settle;
  // Runs as each /settle comes in, before it is answered.
  std::function<void()> on_settle;
  http::Awaitable<Result<protocol::VerifyResponse>> verify(const protocol::FacilitatorRequest& request) override {
    if (down) co_return fail(ErrorCode::facilitator_unavailable, "the link is down");
    auto verified = co_await inner_.verify(request);
    if (verified && report_verify) std::exchange(report_verify, nullptr)(*verified);
    co_return verified;
  }
  http::Awaitable<Result<protocol::SettlementResponse>> settle(const protocol::FacilitatorRequest& request) override {
    if (down) co_return fail(ErrorCode::facilitator_unavailable, "the link is down");
    if (on_settle) on_settle();
    if (refuse_next_settle) {
      protocol::SettlementResponse refused;
      refused.errorReason = *std::exchange(refuse_next_settle, std::nullopt);
      co_return refused;
    }
    auto settled = co_await inner_.settle(request);
    if (lose_next_settle_reply.exchange(false)) co_return fail(ErrorCode::facilitator_unavailable, "reply lost");
    if (settled && report_amount) settled->amount = *std::exchange(report_amount, std::nullopt);
    if (settled && report_state) {
      auto extra = protocol::batch_response_extra(*settled);
      if (extra && extra->channelState) {
        std::exchange(report_state, nullptr)(*extra->channelState);
        settled->extra = protocol::make_response_extra(*extra);
      }
    }
    co_return settled;
  }

 private:
  Facilitator& inner_;
};

}  // namespace paychan::engine::gate::test
