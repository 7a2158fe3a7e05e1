// Helpers for the agent-side tests: a PaymentClient with its own store file, and a scripted
// server that answers paid requests with whatever charge report a test wants — honest or hostile
// (overcharging, a wrong running total, another channel, a forged corrective state).
#pragma once

#include <deque>
#include <functional>
#include <mutex>

#include "engine/client/payment_client.hpp"
#include "gate_stack.hpp"

namespace paychan::engine::client::test {

using gate::test::test_config;
using gate::test::test_key;

inline ClientPolicy test_policy() {
  ClientPolicy p;
  p.networks = {"eip155:31337"};
  p.maxPrice = 10'000;
  p.maxDeposit = 1'000'000;
  p.budget = 100'000'000;
  p.depositPrices = 5;
  return p;
}

struct Agent {
  explicit Agent(const std::string& store_path, ClientPolicy policy = test_policy(), std::uint8_t key = 1)
      : Agent(store_path, ClientOptions{std::move(policy), {}, {}, 4}, {}, key) {}
  Agent(const std::string& store_path, ClientOptions options, http::ClientOptions http_options, std::uint8_t key = 1)
      : store(std::move(*persistence::ClientStore::open(store_path))),
        http(http_options),
        client(ClientKeys{test_key(key), std::nullopt}, std::move(options), *store, http) {}
  std::unique_ptr<persistence::ClientStore> store;
  http::BlockingHttpClient http;
  PaymentClient client;
};

// What the scripted server reports for one paid request, given the voucher it received and its own
// running total: tamper with the honest report to make a hostile server.
struct Report {
  Uint128 chargedAmount = 0;
  Uint128 cumulative = 0;
  Uint128 balance = 0;
  Bytes32 channelId{};
};

class ScriptedServer {
 public:
  using Tamper = std::function<void(Report&)>;
  using OnDeposit = std::function<void(const protocol::DepositPayload&)>;
  // `charges`: the charge of each paid request in turn (the last repeats). `config`: the offer's
  // terms. `on_deposit`: runs before a deposit is answered (a test may execute it on chain).
  explicit ScriptedServer(std::vector<Uint128> charges, Tamper tamper = {}, const gate::GateConfig& config = test_config(),
                          OnDeposit on_deposit = {})
      : offers_(gate::OfferTable::build(config)),
        charges_(std::move(charges)),
        tamper_(std::move(tamper)),
        on_deposit_(std::move(on_deposit)),
        server_([this](http::Exchange& ex) { return serve(ex); }) {}

  std::string url(std::string_view target = "/v1/infer") const { return server_.url(target); }
  const protocol::PaymentRequirements& offer() const { return offers_.offers()[0].requirements; }
  std::atomic<int> paid{0};

 private:
  http::Handled serve(http::Exchange& ex) {
    const auto header = ex.request().header("PAYMENT-SIGNATURE");
    const auto& offer = offers_.offers()[0];
    if (!header) {
      const auto required = gate::payment_required(offer, "http://test/v1/infer");
      ex.response().set(402, "application/json", "{}");
      ex.response().set_header("PAYMENT-REQUIRED", protocol::encode_payment_required_header(required));
      return std::nullopt;
    }
    auto payload = protocol::decode_payment_signature(*header);
    const auto* batch = protocol::batch_payload(*payload);
    const SignedVoucher* v = nullptr;
    Uint128 deposit = 0;
    if (const auto* d = std::get_if<protocol::DepositPayload>(batch)) {
      v = &d->voucher, deposit = d->deposit.amount;
      if (on_deposit_) on_deposit_(*d);
    }
    if (const auto* p = std::get_if<protocol::VoucherPayload>(batch)) v = &p->voucher;
    std::lock_guard lock(mutex_);
    const Uint128 charge = charges_[std::min<std::size_t>(served_, charges_.size() - 1)];
    ++served_;
    balance_ += deposit;
    total_ += charge;
    Report r{charge, total_, balance_, v->voucher.channelId};
    if (tamper_) tamper_(r);
    protocol::SettlementResponse s;
    s.success = true;
    s.network = "eip155:31337";
    s.amount = "";
    s.extra = protocol::make_response_extra(
        {r.chargedAmount, protocol::ChannelSnapshot{r.channelId, r.balance, 0, 0, U256{}, r.cumulative}, std::nullopt});
    ex.response().set(200, "application/json", "{\"ok\":true}");
    ex.response().set_header("PAYMENT-RESPONSE", protocol::encode_payment_response(s));
    ++paid;
    return std::nullopt;
  }

  gate::OfferTable offers_;
  std::vector<Uint128> charges_;
  Tamper tamper_;
  OnDeposit on_deposit_;
  std::mutex mutex_;
  std::size_t served_ = 0;
  Uint128 total_ = 0;
  Uint128 balance_ = 0;
  http::test::TestServer<std::function<http::Handled(http::Exchange&)>> server_;
};

// Pieces of hand-written servers, for tests that script each answer.

// The voucher a paid request carries (a deposit's, a plain voucher's or a refund's), with a
// deposit's amount.
inline std::optional<std::pair<SignedVoucher, Uint128>> voucher_of(const http::Exchange& ex) {
  const auto header = ex.request().header("PAYMENT-SIGNATURE");
  if (!header) return std::nullopt;
  auto payload = *protocol::decode_payment_signature(*header);
  const auto* batch = protocol::batch_payload(payload);
  if (const auto* d = std::get_if<protocol::DepositPayload>(batch)) return std::pair{d->voucher, d->deposit.amount};
  if (const auto* r = std::get_if<protocol::RefundPayload>(batch)) return std::pair{r->voucher, Uint128{0}};
  return std::pair{std::get<protocol::VoucherPayload>(*batch).voucher, Uint128{0}};
}

inline bool is_refund(const http::Exchange& ex) {
  const auto header = ex.request().header("PAYMENT-SIGNATURE");
  if (!header) return false;
  const auto payload = protocol::decode_payment_signature(*header);
  return payload && std::holds_alternative<protocol::RefundPayload>(*protocol::batch_payload(*payload));
}

// A 402 with the test route's offer (on `config`'s terms): `error` makes it a refusal, and
// `corrective` (given the offer's extra) a corrective one.
inline void answer_402(http::Exchange& ex, std::optional<std::string> error = std::nullopt,
                       const std::function<void(protocol::BatchSettlementExtra&)>& corrective = {},
                       const gate::GateConfig& config = test_config()) {
  const auto offer = gate::OfferTable::build(config).offers()[0];
  auto accepted = offer.requirements;
  if (corrective) {
    auto extra = *protocol::batch_settlement_extra(accepted);
    corrective(extra);
    accepted.extra = protocol::make_extra(extra);
  }
  const auto required = gate::payment_required(offer, "http://test/", error, &accepted);
  ex.response().set(402, "application/json", "{}");
  ex.response().set_header("PAYMENT-REQUIRED", protocol::encode_payment_required_header(required));
}

// A test server's answer with a PAYMENT-RESPONSE of `r` (on the test network) and body {}.
inline void answer_settled(http::Exchange& ex, int status, protocol::SettlementResponse r) {
  r.network = "eip155:31337";
  ex.response().set(status, "application/json", "{}");
  ex.response().set_header("PAYMENT-RESPONSE", protocol::encode_payment_response(r));
}

// The reference server's answer when settling fails after its handler ran: a 402 with a
// PAYMENT-RESPONSE of success false with `reason`, and no PAYMENT-REQUIRED.
inline void answer_settle_failure(http::Exchange& ex, std::string reason) {
  protocol::SettlementResponse r;
  r.errorReason = std::move(reason);
  answer_settled(ex, 402, std::move(r));
}

// A refund executed, as a server that reports no channel state answers it.
inline void answer_refunded(http::Exchange& ex) {
  protocol::SettlementResponse r;
  r.success = true;
  answer_settled(ex, 200, std::move(r));
}

// A served request's 200 with its PAYMENT-RESPONSE.
inline void answer_paid(http::Exchange& ex, const Bytes32& channelId, Uint128 charge, Uint128 cumulative, Uint128 balance) {
  protocol::SettlementResponse r;
  r.success = true;
  r.extra = protocol::make_response_extra(
      {charge, protocol::ChannelSnapshot{channelId, balance, 0, 0, U256{}, cumulative}, std::nullopt});
  answer_settled(ex, 200, std::move(r));
}

// A test server's handler: a request without payment gets the plain offer; a paid one goes to
// `on_paid(ex, voucher, deposit)`, under `mutex`, which answers it.
template <typename OnPaid>
auto paid_route(std::mutex& mutex, OnPaid on_paid) {
  return [&mutex, on_paid](http::Exchange& ex) -> http::Handled {
    const auto paid = voucher_of(ex);
    if (!paid) return answer_402(ex), std::nullopt;
    std::lock_guard lock(mutex);
    on_paid(ex, paid->first, paid->second);
    return std::nullopt;
  };
}

// A corrective state saying the server holds `held` and has charged `charged` of it.
inline auto holding(const SignedVoucher& held, Uint128 charged, Uint128 balance) {
  return [=](protocol::BatchSettlementExtra& extra) {
    extra.channelState = protocol::ChannelSnapshot{held.voucher.channelId, balance, 0, 0, U256{}, charged};
    extra.voucherState = protocol::VoucherState{held.voucher.maxClaimableAmount, held.signature};
  };
}

}  // namespace paychan::engine::client::test
