// The agent's side of batch-settlement over HTTP: wraps a request, and when the server answers 402
// pays under the agent's policy — opens a channel with a deposit, then one voucher per request,
// topping up before the balance runs out — and checks every PAYMENT-RESPONSE before signing again
// (spec: "Client Verification Rules"). Channel state is durable in a ClientStore: what is about to
// be signed or deposited is recorded before the request leaves.
//
// On a server's rule violation (overcharge, wrong running total, another channel, a balance that
// does not add up) the channel is suspended: nothing more is signed on it, the reason is stored
// and returned, and — when the client has a chain (ClientOptions::chain) — the timed withdrawal
// of what is left is initiated on chain (withdrawal.hpp; finalize it after the delay).
// A corrective 402 is adopted only when its voucherState is the agent's own signature on a voucher
// the server may hold: one it was sent and did not refuse (else the request fails, code
// corrective_state_not_held, and nothing more is signed; see ClientOptions::acceptProviderState).
// A corrective that takes up a charge whose answer never came (lost, or a gateway's 502–504) is
// adopted three times in a row per channel, that is with no charged answer between (counted in the
// store, across runs); a fourth fails the request, and every one after it until the provider's
// state is accepted (corrective_charges_unserved): a server cutting every answer off would
// otherwise charge a retrying caller one price per failed call, up to its budget.
//
// Bookkeeping per request is kept small: the store is written when something must be durable — a
// budget reservation (one per up to 256 vouchers on a channel), a deposit, a suspension — and otherwise the
// channel's progress is held in the ChannelPool and written by flush() (the destructor flushes).
// Each route's offer is remembered (KnownOffers), so a request to a route paid before carries its
// voucher at once: one HTTP exchange per paid request, not two.
//
// With a chain the client also recovers from a lost store: before opening a channel to a provider
// it knows no channel for, it looks its channels up on chain (recovery.hpp) and continues them
// from totalClaimed instead of depositing into a new one.
//
// Thread-safety: one call at a time per PaymentClient (it uses a blocking HTTP client). For
// parallel requests run one PaymentClient per thread over the same store and one shared
// ChannelPool: each request then pays on a channel no other request is using, opening more
// channels to a provider as needed (each bounded by the same budget).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "engine/client/channel_chain.hpp"
#include "engine/client/channel_pool.hpp"
#include "engine/client/known_offers.hpp"
#include "engine/client/payloads.hpp"
#include "engine/client/policy.hpp"
#include "engine/client/voucher_headers.hpp"
#include "engine/http/client.hpp"
#include "persistence/client_store.hpp"
#include "protocol/settlement_response.hpp"

namespace paychan::engine::client {

struct ClientOptions {
  ClientPolicy policy;
  // Unix seconds (deposit authorizations expire maxTimeoutSeconds after it).
  std::function<std::uint64_t()> now;
  // Each payment step in a line, for `paychan pay -v`; never keys or whole signatures.
  std::function<void(std::string_view)> log;
  unsigned attempts = 4;  // sends per request: corrective 402s and busy channels are retried
  // Channels in use by the process's other PaymentClients on the same store (parallel requests);
  // null: this client is the only one.
  std::shared_ptr<ChannelPool> pool;
  // The agent's line to the chain the offers are on; null: no recovery, violations only suspend.
  std::shared_ptr<ChannelChain> chain;
  // The offers of routes paid before; null: this client's own. Share one only between clients with
  // the same policy: a remembered offer is paid without being chosen again.
  std::shared_ptr<KnownOffers> offers;
  // Adopt a corrective 402 over the agent's own signature even when its voucher is above every one
  // this store knows was sent and not refused — once per channel in this client's life. Normally
  // such a corrective fails the request (code corrective_state_not_held): a server may refuse a
  // voucher and then present it as charged. A store restored from a backup, or copied and used
  // elsewhere, lags what was signed: pay once with this set to take up the provider's state.
  // Without a chain it also gives back, once, the allowance of deposits on the provider's word that
  // a channel is short of funds (PaymentClient::take_deposit_on_word).
  bool acceptProviderState = false;
  // The longest wait for a paid answer's head and each silence within its body
  // (http::ClientRequest::wait). Unset: the offer's maxTimeoutSeconds (at most an hour) and 90 s
  // more (a deposit's settlement on chain may follow the upstream's answer), since the provider
  // charges an answer that comes within it, and one given up on early is paid all the same (taken
  // up later as unserved). Other requests keep the HTTP client's timeouts.
  std::optional<std::chrono::milliseconds> maxWait;
};

struct PaidResponse {
  http::ClientResponse response;  // the server's final answer (also a failed upstream: 5xx, nothing charged)
  std::optional<Bytes32> channelId;
  Uint128 charged = 0;    // what this request cost
  Uint128 deposited = 0;  // a deposit made with it
  // What a corrective 402 raised the running total by before this request was charged: earlier
  // charges the agent had not seen (an answer lost in transit, a store that lagged).
  Uint128 takenUp = 0;
};

class PaymentClient {
 public:
  PaymentClient(ClientKeys keys, ClientOptions options, persistence::ClientStore& store, http::BlockingHttpClient& http);
  PaymentClient(const PaymentClient&) = delete;
  PaymentClient& operator=(const PaymentClient&) = delete;
  ~PaymentClient();  // flushes; an error is logged (what is lost is recoverable, see channel_pool.hpp)

  // Called once the final answer's head is in and taken up, before its body is read.
  using Answered = std::function<void()>;
  // Errors: policy_* (refused by the policy), channel_suspended, response_* (the server broke the
  // rules; the channel is now suspended), the server's refusal code (a 402's `error`),
  // invalid_payment_requirements (an unreadable 402), http_* (transport), the store's.
  // The final answer's head is taken up as soon as it arrives: its PAYMENT-RESPONSE checked, its
  // charge recorded, and its channel free for other requests while the body comes. So a body that
  // breaks off (response.cut, or an http_* error for a body read whole) is charged as its head
  // says (part of it may have been served).
  // `body`: the final answer's body goes there as it arrives (an SSE stream, a large download)
  // instead of into PaidResponse::response.body; also the body of an answer whose PAYMENT-RESPONSE
  // is refused (without a sink that body is dropped, and the refusal returned).
  // `answered`: called then (at most once), before the body, unless the answer suspends its
  // channel (whose withdrawal follows the body); it may call flush(). A process that holds the
  // agent's store for one request (paychan pay) lets the store go there, so that other requests
  // need not wait for a long body: nothing is written for this request after it.
  [[nodiscard]] Result<PaidResponse> fetch(const http::ClientRequest& request, http::BodySink body = {},
                                           Answered answered = {});

  // Cooperative refund of what is left in `channelId` (or `amount` of it), through the provider
  // route that opened it. Errors: as fetch, and invalid_payload for an unknown or closed channel.
  [[nodiscard]] Result<protocol::SettlementResponse> refund(const Bytes32& channelId, std::optional<Uint128> amount);

  // Recovery after a lost store: asks `request`'s server for its offer (an unpaid request that
  // must answer 402), finds the agent's channels to that provider on chain and records those the
  // store does not have. Returns the channels recorded. Errors: invalid_config (no chain), as
  // fetch (the 402 and its offer), ChannelChain's.
  [[nodiscard]] Result<std::vector<persistence::ClientChannel>> recover(const http::ClientRequest& request);

  // Writes the progress of channels no request is using to the store (channel_pool.hpp). Errors: the store's.
  [[nodiscard]] Status flush();

  // Σ over the payer's channels of the ceiling reserved for vouchers (at least the highest signed):
  // what the budget bounds. (Another payer's channels in the same store are its own.)
  [[nodiscard]] Result<Uint128> signed_total();

 private:
  // An open channel to the offer's provider that no other request uses, or a new one; leased in the pool.
  Result<persistence::ClientChannel> channel_for(const ChosenOffer& offer, const http::ClientRequest& request);
  // fetch()'s `body` and `answered`, for every request below.
  struct Delivery;
  // What pay() sent on a channel, for taking up its answer.
  struct Sent {
    Uint128 cumulative = 0;     // the voucher's
    Uint128 chargedBefore = 0;  // the channel's running total as the payment began
    Uint128 ceiling = 0;        // the highest voucher the provider could hold before this one
    bool deposit = false;
    Uint128 amount = 0;         // the deposit's
    Uint128 unconfirmed = 0;    // an earlier deposit whose answer was lost
    bool forceDeposit = false;  // sent because the server said the channel was short of funds
  };
  // Pays on `ch`, leased by `lease`, which the answer's head releases.
  Result<PaidResponse> pay(const http::ClientRequest& request, const ChosenOffer& offer, persistence::ClientChannel& ch,
                           PoolLease& lease, const Delivery& delivery);
  // Takes up the head of a paid request's answer (not a 402): checks its PAYMENT-RESPONSE (none:
  // nothing charged) and records the charge on `ch`; suspends the channel when the server broke
  // the rules. The response itself is left empty.
  Result<PaidResponse> take_up_answer(const http::ClientResponse& head, const http::ClientRequest& request,
                                      const ChosenOffer& offer, persistence::ClientChannel& ch, const Sent& sent);
  // The offer `request`'s route was last paid under, in this process or (from its channel) an earlier one.
  std::shared_ptr<const ChosenOffer> known_offer(const http::ClientRequest& request);
  // The first request of a route: unpaid, answered 402 with the offer (or not priced at all).
  Result<PaidResponse> fetch_unknown(const http::ClientRequest& request, const Delivery& delivery);
  Result<PaidResponse> pay_under(const http::ClientRequest& request, const ChosenOffer& offer, const Delivery& delivery);
  // The latest state of a channel the caller has leased: the pool's, else the store's (then recorded in the pool).
  Result<std::optional<persistence::ClientChannel>> latest(const Bytes32& channelId);
  // The offer `ch` was opened under, chosen again under `policy`.
  static Result<ChosenOffer> stored_offer(const persistence::ClientChannel& ch, const ClientPolicy& policy);
  // Puts `ch` and records in the pool that the store holds it.
  Status save(const persistence::ClientChannel& ch, bool durable = true);
  // The PAYMENT-SIGNATURE of a voucher for `cumulative` on `ch` (headers of the channel last paid on are kept).
  std::string voucher_header(const ChosenOffer& offer, const persistence::ClientChannel& ch, Uint128 cumulative);
  // Adopts a corrective 402's running total on `ch` when its voucher is the agent's own (else
  // suspends the channel) and one the server may hold (else fails). When it also says the channel
  // is short of funds for the next voucher (a balance below the one known), that voucher's
  // cumulative amount: the caller checks the claim before depositing. `refunding`: for a refund,
  // whose charges taken up are not counted as unserved. Errors: cumulative_amount_mismatch without
  // a corrective state, corrective_charges_unserved, the signature check's, the store's.
  Result<std::optional<Uint128>> adopt_corrective(persistence::ClientChannel& ch, const ChosenOffer& offer,
                                                  const protocol::PaymentRequired& refusal, bool refunding = false);
  // A refusal as below the claimed total, or a corrective 402 without a corrective state, comes
  // from a server that lost the channel's record: it starts from the total claimed on chain and
  // has no voucher to show. With a chain the agent takes that total up when it is above its own
  // (the claim was made with its voucher), counted as an unserved charge unless `refunding`.
  // Returns whether it did (not when the chain cannot be read: the refusal stands). Errors:
  // corrective_charges_unserved, the store's.
  Result<bool> take_up_claimed_total(persistence::ClientChannel& ch, bool refunding = false);
  // The server refused a voucher for `cumulative` as short of funds (or its corrective said so):
  // honest when the receiver refunded what was unclaimed, but a server could say it on every
  // request to make the agent deposit each time.
  // With a chain the claim is checked first: a channel the chain shows funded for the voucher gets
  // no deposit, and the request fails (a node that lags a recent refund errs this way: a retry, not
  // a deposit). When the chain cannot be read, the deposit is made. Without a chain, see
  // take_deposit_on_word. Errors: response_balance_mismatch.
  Status check_short_of_funds(persistence::ClientChannel& ch, Uint128 cumulative);
  // Without a chain, the server's word (`claim`) is taken for deposits while fewer than
  // kMaxDepositsOnWord of them were sent with no confirmation (also those it refused: it could
  // have executed the authorization all the same); once one is confirmed, for none more until
  // the provider has charged that deposit's worth (served answers, and at most three charges in a
  // row taken up for answers that never came). With acceptProviderState, a spent allowance comes
  // back once per channel and client. It is kept in the store: paychan pay is one process per
  // request. Errors: response_balance_mismatch.
  Status take_deposit_on_word(persistence::ClientChannel& ch, const std::string& claim);
  // A voucher of the agent's for `amount` that the provider holds (a corrective's, or one claimed
  // on chain): the budget counts it, so a ceiling the store does not cover yet (a store that lost
  // track) is recorded at once. Errors: the store's.
  Status count_signed(persistence::ClientChannel& ch, Uint128 amount);
  // Counts a charge taken up for an answer that never came. Errors: corrective_charges_unserved
  // past kMaxUnservedCharges in a row on the channel.
  Status take_unserved_charge(persistence::ClientChannel& ch);
  // Reserves budget for vouchers up to `cumulative` on `ch` (durably), unless already reserved under this process's budget.
  Status reserve(persistence::ClientChannel& ch, Uint128 cumulative, Uint128 price);
  // Records the channels of `offer`'s provider found on chain that the store lacks.
  Result<std::vector<persistence::ClientChannel>> recover_offer(const ChosenOffer& offer,
                                                                const http::ClientRequest& request);
  // A channel with the first salt the store does not use, leased; with a chain, one that turns out
  // funded on chain is taken over (recovered) rather than opened again.
  Result<persistence::ClientChannel> new_channel(const ChosenOffer& offer, const http::ClientRequest& request);
  // Suspends `ch` for `why` (mark_suspended), then, with a chain, starts the timed withdrawal of
  // what is left (withdraw_suspended).
  Status suspend(persistence::ClientChannel& ch, const Error& why);
  // Records `ch` as suspended for `why`: nothing more is signed on it.
  Status mark_suspended(persistence::ClientChannel& ch, const Error& why);
  // With a chain, starts the timed withdrawal of a suspended `ch` (a withdrawal that cannot start is
  // logged: `paychan withdraw` can start it later); without one, says how to.
  Status withdraw_suspended(persistence::ClientChannel& ch);
  void log(const std::string& line) const;
  // How long a paid request waits for its answer (ClientOptions::maxWait).
  [[nodiscard]] std::chrono::milliseconds answer_wait(const ChosenOffer& offer) const;

  ClientKeys keys_;
  ClientOptions options_;
  persistence::ClientStore& store_;
  http::BlockingHttpClient& http_;
  std::optional<VoucherHeaders> voucher_headers_;
  bool store_offers_read_ = false;  // known_offer() has taken the routes of the store's channels
  std::set<Bytes32> accepted_provider_state_;  // channels whose provider state or word acceptProviderState took
};

}  // namespace paychan::engine::client
