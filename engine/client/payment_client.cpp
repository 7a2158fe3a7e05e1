#include "engine/client/payment_client.hpp"

#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "channel/client_rules.hpp"
#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/unix_time.hpp"
#include "engine/client/recovery.hpp"
#include "engine/client/withdrawal.hpp"
#include "protocol/headers.hpp"

namespace paychan::engine::client {
namespace {

// A Permit2 deposit the payer's allowance to Permit2 does not cover: what to do about it.
Error permit2_approval_missing(const Address& payer, const ChosenOffer& offer, const std::string& what) {
  return Error{ErrorCode::invalid_batch_settlement_evm_permit2_allowance_required,
               what + ": the payer " + to_checksum_hex(payer) + " must first approve Permit2 (" +
                   to_checksum_hex(kPermit2Address) + ") for the token " + to_checksum_hex(offer.asset) +
                   ", for at least the deposits (ERC-20 approve; the maximum covers every later one:"
                   " paychan approve TOKEN --rpc URL)"};
}

Bytes32 random32() {
  Bytes32 b{};
  std::size_t got = 0;
  while (got < b.size()) {
    const auto n = getrandom(b.data() + got, b.size() - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  return b;
}

Result<protocol::PaymentRequired> payment_required(const http::ClientResponse& res) {
  const auto header = res.header(protocol::kPaymentRequiredHeader);
  if (!header) return fail(ErrorCode::invalid_payment_requirements, "a 402 without PAYMENT-REQUIRED");
  return protocol::decode_payment_required_header(*header);
}

// Why a 402 that carries no offer says its settlement failed: the reference server's answer when
// settling fails after its handler ran (a PAYMENT-RESPONSE with success false, its errorReason).
// nullopt for any other 402.
std::optional<std::string> settlement_failure(const http::ClientResponse& res) {
  if (res.header(protocol::kPaymentRequiredHeader)) return std::nullopt;
  const auto header = res.header(protocol::kPaymentResponseHeader);
  if (!header) return std::nullopt;
  auto settled = protocol::decode_payment_response(*header);
  if (!settled || settled->success) return std::nullopt;
  return settled->errorReason.value_or("settlement_failed");
}

// The channel terms an offer fixes, compared with a stored channel's config.
bool same_terms(const persistence::ClientChannel& ch, const ChosenOffer& offer, const ClientKeys& keys) {
  const ChannelConfig& c = ch.config;
  return ch.network == offer.requirements.network && c.token == offer.asset && c.receiver == offer.payTo &&
         c.receiverAuthorizer == offer.extra.receiverAuthorizer && c.withdrawDelay == offer.extra.withdrawDelay &&
         c.payer == keys.payer.address() && c.payerAuthorizer == keys.voucher_signer().address();
}

// A server's refusal reason as our code; a reason we do not know stays in the detail.
ErrorCode code_of(std::string_view reason) {
  ErrorCode code = ErrorCode::invalid_payload;
  return error_code_from_string(reason, code) ? code : ErrorCode::invalid_payload;
}

// Whether a refusal's 402 offers something else than the offer paid under: the route changed its
// price or terms since the client learnt them.
bool offer_changed(const protocol::PaymentRequired& refusal, const ChosenOffer& paid_under, const ClientPolicy& policy) {
  const auto now = choose_offer(refusal, policy);
  return !now || now->requirements != paid_under.requirements;
}

// Vouchers signed per durable write, at most. A reservation also never takes more than half the
// budget still free, so parallel channels each keep room, and the last requests before the budget
// runs out reserve in smaller steps.
constexpr Uint128 kReservePrices = 256;
// Charges taken up in a row from correctives, for answers that never came, before the agent stops
// paying a channel's provider for more (see ClientOptions::acceptProviderState).
constexpr unsigned kMaxUnservedCharges = 3;
// Deposits sent on a server's word alone (no chain to check it) per channel while none is
// confirmed: a second covers one the server never executed (its facilitator was down).
constexpr unsigned kMaxDepositsOnWord = 2;

std::string short_id(const Bytes32& id) { return to_hex(id).substr(0, 10) + "…"; }

}  // namespace

PaymentClient::PaymentClient(ClientKeys keys, ClientOptions options, persistence::ClientStore& store,
                             http::BlockingHttpClient& http)
    : keys_(std::move(keys)), options_(std::move(options)), store_(store), http_(http) {
  if (!options_.now) {
    options_.now = unix_now;
  }
  if (options_.attempts == 0) options_.attempts = 1;
  if (!options_.pool) options_.pool = std::make_shared<ChannelPool>();
  if (!options_.offers) options_.offers = std::make_shared<KnownOffers>();
}

PaymentClient::~PaymentClient() {
  if (auto flushed = flush(); !flushed) log("the channels' last progress was not written: " + flushed.error().to_string());
}

Status PaymentClient::flush() { return options_.pool->flush(store_); }

Result<ChosenOffer> PaymentClient::stored_offer(const persistence::ClientChannel& ch, const ClientPolicy& policy) {
  PAYCHAN_ASSIGN(auto requirements, protocol::decode_payment_requirements(ch.offer));
  protocol::PaymentRequired offered;
  offered.accepts.push_back(std::move(requirements));
  return choose_offer(offered, policy);
}

Status PaymentClient::save(const persistence::ClientChannel& ch, bool durable) {
  PAYCHAN_TRY(store_.put(ch, durable));
  options_.pool->saved(ch);
  return {};
}

void PaymentClient::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

Result<Uint128> PaymentClient::signed_total() {
  PAYCHAN_ASSIGN(auto channels, store_.list());
  const Address payer = keys_.payer.address();
  Uint128 total = 0;
  for (const auto& c : channels)
    if (c.config.payer == payer) total += std::max(c.signedMax, c.reserved);
  return total;
}

Status PaymentClient::suspend(persistence::ClientChannel& ch, const Error& why) {
  PAYCHAN_TRY(mark_suspended(ch, why));
  return withdraw_suspended(ch);
}

Status PaymentClient::mark_suspended(persistence::ClientChannel& ch, const Error& why) {
  persistence::ClientChannel marked = ch;
  marked.suspended = why.to_string();
  PAYCHAN_TRY(save(marked));  // `ch` shows the suspension only once the store does
  ch = std::move(marked);
  log("channel " + short_id(ch.channelId) + " suspended: " + ch.suspended);
  return {};
}

Status PaymentClient::withdraw_suspended(persistence::ClientChannel& ch) {
  if (!options_.chain) {
    log("no chain configured: withdraw its deposit with `paychan withdraw`");
    return {};
  }
  // The violation is what the caller reports; a withdrawal that cannot start now (node down, no
  // gas) is only logged: the channel stays suspended and `paychan withdraw` can start it later.
  if (auto started = initiate_withdrawal(store_, *options_.chain, ch.channelId, options_.log); !started)
    log("the withdrawal did not start: " + started.error().to_string());
  // The withdrawal is recorded in the store: the channel's latest state is the store's again.
  PAYCHAN_ASSIGN(auto recorded, store_.get(ch.channelId));
  if (recorded) {
    ch = std::move(*recorded);
    options_.pool->saved(ch);
  }
  return {};
}

Result<std::vector<persistence::ClientChannel>> PaymentClient::recover_offer(const ChosenOffer& offer,
                                                                             const http::ClientRequest& request) {
  // One recovery at a time: two could otherwise both find a channel missing and the second
  // overwrite what the first's request has since paid on it.
  std::lock_guard lock(options_.pool->recovery_mutex());
  PAYCHAN_ASSIGN(auto found, channels_from_chain(*options_.chain, offer, keys_, request.method(), request.url()));
  std::vector<persistence::ClientChannel> recorded;
  for (auto& ch : found) {
    PAYCHAN_ASSIGN(const auto stored, store_.get(ch.channelId));
    if (stored) continue;
    PAYCHAN_TRY(store_.put(ch));
    log("recovered channel " + short_id(ch.channelId) + " from chain: balance " + to_decimal(ch.balance) +
        ", claimed " + to_decimal(ch.charged) + (ch.withdrawAmount != 0 ? ", a withdrawal pending" : ""));
    recorded.push_back(std::move(ch));
  }
  return recorded;
}

Result<std::vector<persistence::ClientChannel>> PaymentClient::recover(const http::ClientRequest& request) {
  if (!options_.chain)
    return fail(ErrorCode::invalid_config, "recovery reads the chain: configure one (ClientOptions::chain, --rpc URL)");
  PAYCHAN_ASSIGN(auto first, http_.request(request));
  if (first.status != 402)
    return fail(ErrorCode::invalid_payment_requirements,
                "the server answered HTTP " + std::to_string(first.status) + ", not 402: no offer to recover channels for");
  PAYCHAN_ASSIGN(auto required, payment_required(first));
  PAYCHAN_ASSIGN(auto offer, choose_offer(required, options_.policy));
  return recover_offer(offer, request);
}

Result<persistence::ClientChannel> PaymentClient::channel_for(const ChosenOffer& offer, const http::ClientRequest& request) {
  const auto to_provider = [&](const persistence::ClientChannel& ch) { return same_terms(ch, offer, keys_); };
  // A provider that broke the rules on one channel is paid on none until that one is withdrawn.
  const auto suspended = [&](const persistence::ClientChannel& ch) -> std::optional<Failure> {
    if (ch.closed || ch.suspended.empty() || !to_provider(ch)) return std::nullopt;
    return fail(ErrorCode::channel_suspended, "channel " + to_hex(ch.channelId) + " to this provider was suspended (" +
                                                  ch.suspended + "); withdraw it before paying this provider again");
  };
  // Usually a channel this process already pays on, without reading the store.
  PAYCHAN_ASSIGN(auto held, options_.pool->lease_held(
                                [&](const persistence::ClientChannel& ch) {
                                  return !ch.closed && ch.suspended.empty() && ch.withdrawAmount == 0 && to_provider(ch);
                                },
                                suspended));
  if (held) return std::move(*held);
  PAYCHAN_ASSIGN(auto channels, store_.list());
  if (options_.chain && std::none_of(channels.begin(), channels.end(), to_provider)) {
    PAYCHAN_ASSIGN(const auto recovered, recover_offer(offer, request));
    if (!recovered.empty()) {
      PAYCHAN_ASSIGN(channels, store_.list());
    }
  }
  for (const auto& ch : channels)
    if (auto refusal = suspended(ch)) return std::move(*refusal);
  for (auto& ch : channels) {
    if (ch.closed || !to_provider(ch)) continue;
    if (ch.withdrawAmount != 0) continue;  // being withdrawn: nothing more is signed on it
    if (!options_.pool->try_lease(ch.channelId)) continue;
    // Re-read under the lease: the list may predate another request's last update of it.
    auto fresh = latest(ch.channelId);
    if (!fresh || !*fresh || (*fresh)->closed || (*fresh)->withdrawAmount != 0 || !(*fresh)->suspended.empty()) {
      options_.pool->release(ch.channelId);
      if (!fresh) return fresh.failure();
      continue;
    }
    return std::move(**fresh);
  }
  return new_channel(offer, request);
}

Result<persistence::ClientChannel> PaymentClient::new_channel(const ChosenOffer& offer, const http::ClientRequest& request) {
  const Bytes32 domain = batch_settlement_domain_separator(offer.chainId);
  for (std::uint64_t index = 0;; ++index) {
    const ChannelConfig config = channel_config_for(offer, keys_, channel_salt(index));
    const Bytes32 id = channel_id(domain, config);
    // Leased before other requests can see it; a salt the store knows (in any state) stays its.
    if (!options_.pool->try_lease(id)) continue;
    auto result = [&]() -> Result<std::optional<persistence::ClientChannel>> {
      PAYCHAN_ASSIGN(const auto stored, store_.get(id));
      if (stored) return std::optional<persistence::ClientChannel>{};
      persistence::ClientChannel ch;
      if (options_.chain) {
        PAYCHAN_ASSIGN(auto onchain, channel_from_chain(*options_.chain, offer, keys_, index, request.method(), request.url()));
        if (onchain) {
          // Funded on chain though the store lacks it: take it over instead of opening it again.
          PAYCHAN_TRY(save(*onchain));
          log("recovered channel " + short_id(id) + " from chain: balance " + to_decimal(onchain->balance) +
              ", claimed " + to_decimal(onchain->charged));
          if (onchain->withdrawAmount != 0) return std::optional<persistence::ClientChannel>{};
          return onchain;
        }
      }
      ch.config = config;
      ch.channelId = id;
      ch.network = offer.requirements.network;
      ch.method = request.method();
      ch.url = request.url();
      ch.offer = offer.encoded;
      // Recorded before anything is signed for it: a crash cannot leave a channel the agent forgot.
      PAYCHAN_TRY(save(ch));
      log("new channel " + short_id(id) + " to " + offer.requirements.payTo + " on " + ch.network);
      return std::optional{std::move(ch)};
    }();
    if (!result || !*result) options_.pool->release(id);
    if (!result) return result.failure();
    if (*result) return std::move(**result);
  }
}

Result<std::optional<persistence::ClientChannel>> PaymentClient::latest(const Bytes32& channelId) {
  if (auto held = options_.pool->held(channelId)) return held;
  PAYCHAN_ASSIGN(auto stored, store_.get(channelId));
  if (stored) options_.pool->saved(*stored);
  return stored;
}

std::shared_ptr<const ChosenOffer> PaymentClient::known_offer(const http::ClientRequest& request) {
  if (auto known = options_.offers->find(request)) return known;
  if (store_offers_read_) return nullptr;
  // The routes earlier runs opened channels on (`paychan pay` is a new process each time): the
  // offers they paid under, chosen again under this run's policy. Read once, at the first miss.
  store_offers_read_ = true;
  auto channels = store_.list();
  if (!channels) return nullptr;  // the 402 path reads the store again and reports it
  const Address payer = keys_.payer.address();
  for (const auto& ch : *channels) {
    const http::ClientRequest route{ch.method, ch.url};
    if (ch.config.payer != payer || ch.closed || !ch.suspended.empty() || options_.offers->find(route)) continue;
    if (auto chosen = stored_offer(ch, options_.policy)) options_.offers->remember(route, *chosen);
  }
  return options_.offers->find(request);
}

std::chrono::milliseconds PaymentClient::answer_wait(const ChosenOffer& offer) const {
  if (options_.maxWait) return *options_.maxWait;
  // The gate may settle a deposit on chain after its upstream answered (a receipt waited for up to
  // a minute), and the answer must still find the agent waiting.
  constexpr std::chrono::seconds kAfterTheOffersTimeout{90};
  return std::chrono::seconds(std::min(offer.requirements.maxTimeoutSeconds, kMaxAuthorizationSeconds)) +
         kAfterTheOffersTimeout;
}

// Where fetch()'s final answer goes.
struct PaymentClient::Delivery {
  http::BodySink body;
  Answered answered;
  mutable bool announced = false;  // `answered` is called at most once

  // Takes a payment's answer from its head; false when the request still has work after its body
  // (a channel suspended at the head: its withdrawal follows), which `answered` must not precede.
  using TakeUp = std::function<bool(const http::ClientResponse& head)>;
  // For a request whose answer may be the final one: a 402 is read whole (and parsed here); any
  // other head is first given to `take_up`, then announced, and its body goes to the caller's sink.
  // This Delivery must outlive the request.
  [[nodiscard]] http::SinkFor sink(TakeUp take_up) const {
    return [this, take_up = std::move(take_up)](const http::ClientResponse& head) -> http::BodySink {
      if (head.status == 402) return {};
      const bool done = !take_up || take_up(head);
      if (done && answered && !std::exchange(announced, true)) answered();
      return body;
    };
  }
};

Result<PaidResponse> PaymentClient::fetch(const http::ClientRequest& request, http::BodySink body, Answered answered) {
  const Delivery delivery{std::move(body), std::move(answered)};
  const auto known = known_offer(request);
  if (!known) return fetch_unknown(request, delivery);
  auto paid = pay_under(request, *known, delivery);
  if (paid && paid->response.header(protocol::kPaymentResponseHeader)) return paid;
  if (!paid && paid.error().code != ErrorCode::invalid_payment_requirements) return paid;
  // Refused as an offer the route no longer makes, or answered without a settlement (the route
  // may be free now, or its upstream failed): ask the route again next time.
  options_.offers->forget(request);
  if (paid) return paid;
  log("the route's offer changed: asking for it again");
  return fetch_unknown(request, delivery);
}

Result<PaidResponse> PaymentClient::fetch_unknown(const http::ClientRequest& request, const Delivery& delivery) {
  PAYCHAN_ASSIGN(auto first, http_.request(request, delivery.sink(nullptr)));
  if (first.status != 402) return PaidResponse{std::move(first), std::nullopt, 0, 0};
  PAYCHAN_ASSIGN(auto required, payment_required(first));
  PAYCHAN_ASSIGN(auto offer, choose_offer(required, options_.policy));
  log("402: " + offer.requirements.amount + " per request on " + offer.requirements.network + ", asset " +
      offer.requirements.asset);
  auto paid = pay_under(request, offer, delivery);
  if (paid && paid->response.header(protocol::kPaymentResponseHeader)) options_.offers->remember(request, offer);
  return paid;
}

Result<PaidResponse> PaymentClient::pay_under(const http::ClientRequest& request, const ChosenOffer& offer,
                                             const Delivery& delivery) {
  PAYCHAN_ASSIGN(auto channel, channel_for(offer, request));
  PoolLease lease(*options_.pool, channel.channelId);
  auto paid = pay(request, offer, channel, lease, delivery);
  lease.release(std::move(channel));  // unless the answer's head released it
  return paid;
}

std::string PaymentClient::voucher_header(const ChosenOffer& offer, const persistence::ClientChannel& ch,
                                          Uint128 cumulative) {
  if (!voucher_headers_ || !voucher_headers_->serve(offer, ch.channelId))
    voucher_headers_.emplace(offer, ch.config, ch.channelId);
  return voucher_headers_->encode(sign_voucher(offer.chainId, ch.channelId, cumulative, keys_));
}

Result<std::optional<Uint128>> PaymentClient::adopt_corrective(persistence::ClientChannel& ch, const ChosenOffer& offer,
                                             const protocol::PaymentRequired& refusal, bool refunding) {
  // Adopt the server's running total only if the voucher it holds is our own signature.
  std::optional<protocol::BatchSettlementExtra> corrective;
  for (const auto& r : refusal.accepts)
    if (auto e = protocol::batch_settlement_extra(r); e && e->channelState && e->voucherState) corrective = *e;
  if (!corrective || !corrective->channelState->chargedCumulativeAmount ||
      !corrective->voucherState->signedMaxClaimable || !corrective->voucherState->signature) {
    PAYCHAN_ASSIGN(const bool taken, take_up_claimed_total(ch, refunding));
    if (taken) return std::optional<Uint128>{};
    return fail(ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch, "without a corrective state");
  }
  const SignedVoucher held{Voucher{ch.channelId, *corrective->voucherState->signedMaxClaimable},
                           *corrective->voucherState->signature};
  // The provider's state is accepted once per channel: left on, the option would let a server
  // refuse each voucher and present it as charged.
  const bool accepting = options_.acceptProviderState && !accepted_provider_state_.contains(ch.channelId);
  const Uint128 ceiling = accepting ? kUint128Max : options_.pool->held_ceiling(ch.channelId);
  auto adopted = adopt_corrective_state(batch_settlement_domain_separator(offer.chainId), keys_.voucher_signer().address(),
                                        ceiling, ch.channelId, *corrective->channelState->chargedCumulativeAmount, held);
  if (!adopted && adopted.error().code == ErrorCode::corrective_state_not_held) {
    // Not signing above what the server may hold is protection enough. Suspending would start a
    // withdrawal on chain, also for an honest server whose agent restored an old store.
    return fail(ErrorCode::corrective_state_not_held,
                adopted.error().detail + "; if this state file was restored from a backup or copied, pay once "
                                         "accepting the provider's state (--accept-provider-state)");
  }
  if (!adopted) {
    PAYCHAN_TRY(suspend(ch, adopted.error()));
    return adopted.failure();
  }
  // A server may read each voucher, charge it, and cut the answer off (or have its proxy answer
  // 504): every call then fails, and costs a price its corrective takes up. A caller that retries
  // would be drained to its budget, so only a few such charges are taken up in a row.
  // A refund signs nothing above what the server holds: it is not counted, and not held back.
  if (accepting) {
    ch.unservedCharges = 0;  // the agent vouches for what the provider says it served
  } else if (*adopted > ch.charged && !refunding) {
    PAYCHAN_TRY(take_unserved_charge(ch));
  }
  log("adopting the server's running total " + to_decimal(*adopted));
  if (accepting) accepted_provider_state_.insert(ch.channelId);
  options_.pool->set_held_ceiling(ch.channelId, held.voucher.maxClaimableAmount);
  ch.charged = *adopted;
  // A corrective never lowers the known balance: that would make the agent deposit on the server's
  // word unchecked. A lower one that leaves no room for the next voucher, where the known balance
  // did, is a claim that the channel is short of funds: the caller checks it (check_short_of_funds)
  // before depositing, as for a refusal saying so. (A receiver's refund shows in the next answer.)
  const Uint128 reported = corrective->channelState->balance;
  const auto next = checked_add(*adopted, offer.price);
  const bool short_of_funds = next && reported < *next && ch.balance >= *next;
  ch.balance = std::max(ch.balance, reported);
  PAYCHAN_TRY(count_signed(ch, held.voucher.maxClaimableAmount));
  return short_of_funds ? next : std::nullopt;
}

Status PaymentClient::take_unserved_charge(persistence::ClientChannel& ch) {
  if (ch.unservedCharges < kMaxUnservedCharges) {
    ++ch.unservedCharges;
    return save(ch);  // at once: a run killed while it waits must not forget it
  }
  return fail(ErrorCode::corrective_charges_unserved,
              "the server claims another charge although its last " + std::to_string(kMaxUnservedCharges) +
                  " charged answers never arrived (lost, or a gateway's 502-504); if they were served, pay once "
                  "accepting the provider's state (--accept-provider-state)");
}

Status PaymentClient::count_signed(persistence::ClientChannel& ch, Uint128 amount) {
  ch.signedMax = std::max(ch.signedMax, amount);
  if (ch.signedMax <= ch.reserved) return {};
  ch.reserved = ch.signedMax;
  return save(ch);
}

Result<bool> PaymentClient::take_up_claimed_total(persistence::ClientChannel& ch, bool refunding) {
  if (!options_.chain) return false;
  const auto onchain = options_.chain->read(ch.channelId);
  if (!onchain) {
    log("the total claimed could not be read on chain: " + onchain.error().to_string());
    return false;  // the server's refusal stands
  }
  if (onchain->totalClaimed <= ch.charged) return false;
  if (!refunding) PAYCHAN_TRY(take_unserved_charge(ch));  // a claim made after an answer was cut off counts as one
  log("taking up the total claimed on chain " + to_decimal(onchain->totalClaimed));
  ch.charged = onchain->totalClaimed;
  // Claimed with a voucher of the agent's: the budget counts it, and the server may hold it.
  options_.pool->set_held_ceiling(ch.channelId,
                                  std::max(options_.pool->held_ceiling(ch.channelId), onchain->totalClaimed));
  PAYCHAN_TRY(count_signed(ch, onchain->totalClaimed));
  return true;
}

Status PaymentClient::check_short_of_funds(persistence::ClientChannel& ch, Uint128 cumulative) {
  const std::string claim = "the server says the channel is short of funds for " + to_decimal(cumulative);
  if (!options_.chain) return take_deposit_on_word(ch, claim + " after reporting a balance of " + to_decimal(ch.balance));
  auto onchain = options_.chain->read(ch.channelId);
  if (!onchain) {
    log("the server's word that the channel is short of funds could not be checked on chain: " +
        onchain.error().to_string());
    return {};
  }
  if (onchain->balance < cumulative) return {};
  return fail(ErrorCode::response_balance_mismatch,
              claim + ", the chain holds " + to_decimal(onchain->balance) + ": no deposit made");
}

Status PaymentClient::take_deposit_on_word(persistence::ClientChannel& ch, const std::string& claim) {
  // Spent: a confirmed one whose worth the provider has not charged yet, or too many unconfirmed.
  // (A confirmation zeroes the count, so a renewal threshold stands alone.)
  const bool spent = ch.onWordRenewsAt != 0 ? ch.charged < ch.onWordRenewsAt : ch.depositsOnWord >= kMaxDepositsOnWord;
  // The agent's operator may take the provider's word once more (as for its running total).
  const bool given_back = spent && options_.acceptProviderState && accepted_provider_state_.insert(ch.channelId).second;
  if (spent && !given_back)
    return fail(ErrorCode::response_balance_mismatch,
                claim + ": no deposit made on its word, " +
                    (ch.onWordRenewsAt != 0
                         ? "until it has charged the last one's worth (a running total of " + to_decimal(ch.onWordRenewsAt) + ")"
                         : std::to_string(kMaxDepositsOnWord) + " were sent and none confirmed") +
                    "; with --rpc the agent checks the chain, or pay once accepting the provider's state "
                    "(--accept-provider-state) to deposit on its word");
  if (ch.onWordRenewsAt != 0 || given_back) {  // its word holds again
    ch.depositsOnWord = 0;
    ch.onWordRenewsAt = 0;
  }
  log(claim + ": depositing on its word (--rpc would check the chain)");
  return {};
}

Status PaymentClient::reserve(persistence::ClientChannel& ch, Uint128 cumulative, Uint128 price) {
  // The budget bounds what providers could claim. Each channel durably reserves a ceiling ahead of
  // its vouchers (up to kReservePrices at a time, within the budget), so most vouchers need no write and
  // a crash can never leave more signed than reserved. A reservation from an earlier run is used
  // only as far as this run's budget allows.
  if (const auto ceiling = options_.pool->admitted(ch.channelId); ceiling && cumulative <= *ceiling) return {};
  std::lock_guard budget_lock(options_.pool->budget_mutex());
  // What the other channels have committed; the store holds every reservation durably.
  const auto others = [&]() -> Result<Uint128> {
    PAYCHAN_ASSIGN(const Uint128 committed, signed_total());
    return committed - std::max(ch.signedMax, ch.reserved);
  };
  PAYCHAN_ASSIGN(Uint128 taken, others());
  if (taken > options_.policy.budget || cumulative > options_.policy.budget - taken) {
    // Idle channels may hold reservations they will not use: give those back, then look again.
    PAYCHAN_TRY(options_.pool->flush(store_));
    PAYCHAN_ASSIGN(taken, others());
  }
  if (taken > options_.policy.budget || cumulative > options_.policy.budget - taken)
    return fail(ErrorCode::policy_budget_exceeded, "paying " + to_decimal(price) + " would commit " +
                                                       to_decimal(taken + cumulative) + " in all, above the budget of " +
                                                       to_decimal(options_.policy.budget));
  const Uint128 free = options_.policy.budget - taken;
  // The store's heldCeiling must cover every voucher sent too (a crash must not leave the next
  // run refusing its provider's honest corrective): it moves ahead with the reservation.
  if (cumulative > ch.reserved || cumulative > ch.heldCeiling) {
    const Uint128 stride = price > kUint128Max / kReservePrices ? kUint128Max : price * kReservePrices;
    const Uint128 ahead = cumulative + std::min(stride, (free - cumulative) / 2);
    persistence::ClientChannel reserved = ch;
    reserved.reserved = std::max(ch.reserved, ahead);
    reserved.heldCeiling = std::max(options_.pool->held_ceiling(ch.channelId), ahead);
    PAYCHAN_TRY(save(reserved));  // the channel changes only once the reservation is on disk
    ch = std::move(reserved);
  }
  options_.pool->admit(ch.channelId, std::min({ch.reserved, ch.heldCeiling, free}));
  return {};
}

Result<PaidResponse> PaymentClient::take_up_answer(const http::ClientResponse& head, const http::ClientRequest& request,
                                                   const ChosenOffer& offer, persistence::ClientChannel& ch,
                                                   const Sent& sent) {
  const auto header = head.header(protocol::kPaymentResponseHeader);
  if (!header) {
    // No settlement: the upstream failed (nothing charged) or the gate could not finish (503).
    // A deposit's outcome is then unknown; it stays pending and the next request learns it.
    // Nothing charged: the server may not present the voucher as charged later. But a gateway's
    // 502/503/504 may come from a proxy in front of the server, which went on and charged: like
    // an answer lost in transit, it leaves the ceiling raised.
    const bool gateway = head.status >= 502 && head.status <= 504;
    if (!gateway) options_.pool->set_held_ceiling(ch.channelId, sent.ceiling);
    log("HTTP " + std::to_string(head.status) + " without PAYMENT-RESPONSE: nothing charged" +
        (gateway ? " (unless a proxy answered after the server charged)" : ""));
    if (sent.deposit) PAYCHAN_TRY(save(ch));
    return PaidResponse{{}, ch.channelId, 0, 0, ch.charged > sent.chargedBefore ? ch.charged - sent.chargedBefore : 0};
  }
  auto extra = protocol::decode_payment_response_extra(*header);
  if (!extra || !extra->chargedAmount || !extra->channelState || !extra->channelState->chargedCumulativeAmount) {
    const Error why{ErrorCode::response_cumulative_mismatch, "PAYMENT-RESPONSE lacks chargedAmount/channelState"};
    PAYCHAN_TRY(mark_suspended(ch, why));  // its withdrawal follows the request (pay())
    return Failure{why};
  }
  ClientExpectation expected{ch.channelId, ch.charged, offer.price, std::nullopt};
  if (ch.deposited != 0 && ch.pendingDeposit == sent.amount) expected.balance = ch.balance + sent.amount;
  expected.balanceIsCeiling = sent.forceDeposit;
  if (sent.deposit && sent.unconfirmed != 0) {
    // Either outcome of the lost one is honest: the balance is at most both deposits on top.
    const auto both = checked_add(ch.balance, sent.amount);
    expected.balance = both ? checked_add(*both, sent.unconfirmed) : std::nullopt;
    expected.balanceIsCeiling = true;
  }
  const ChargeReport report{extra->channelState->channelId, *extra->chargedAmount,
                            *extra->channelState->chargedCumulativeAmount, extra->channelState->balance};
  auto total = check_charge_report(expected, report);
  if (!total) {
    PAYCHAN_TRY(mark_suspended(ch, total.error()));  // its withdrawal follows the request (pay())
    return total.failure();
  }
  options_.pool->set_held_ceiling(ch.channelId, sent.cumulative);  // the provider holds this voucher, none above
  const Uint128 charge = *total - ch.charged;
  // A charged answer ends a run of unserved charges; a free one does not (else a server could
  // take three up behind 504s, serve one answer free, and go on).
  if (charge != 0) ch.unservedCharges = 0;
  const Uint128 taken_up = ch.charged > sent.chargedBefore ? ch.charged - sent.chargedBefore : 0;
  ch.charged = *total;
  ch.balance = report.balance;
  const bool deposit_settled = sent.deposit || ch.pendingDeposit != 0;
  const Uint128 lost = sent.deposit ? sent.unconfirmed : ch.pendingDeposit;  // a deposit whose answer was lost...
  if (!options_.chain && ((sent.deposit && sent.forceDeposit) || ch.depositsOnWord != 0)) {
    // A deposit on the server's word, confirmed: answered, or (its answer lost) the server served
    // a voucher on the channel it had said was short. Its word holds again once it has charged
    // that deposit's worth.
    ch.depositsOnWord = 0;
    ch.onWordRenewsAt = saturating_add(*total, std::max(sent.amount, lost));
  }
  if (sent.deposit) ch.deposited += sent.amount;
  if (lost != 0 && report.balance >= ch.deposited + lost) ch.deposited += lost;  // ...did land
  // The offer of the channel's own route as the provider makes it now, should it have changed since
  // the channel was recorded (a minDeposit announced after an upgrade, say): refunds and later runs
  // ask under it, and a server that compares `accepted` whole refuses the old one. (The provider's
  // other routes pay on the same channel under offers of their own, which are not the route's.)
  if (request.method() == ch.method && request.url() == ch.url && offer.encoded != ch.offer) ch.offer = offer.encoded;
  ch.pendingDeposit = 0;
  // A deposit's outcome is written at once; a voucher's progress waits in the pool (flush()).
  if (deposit_settled) PAYCHAN_TRY(save(ch, sent.deposit));
  if (options_.log)
    log("paid " + to_decimal(charge) + " (running total " + to_decimal(ch.charged) + ", balance " +
        to_decimal(ch.balance) + ")");
  return PaidResponse{{}, ch.channelId, charge, sent.deposit ? sent.amount : 0, taken_up};
}

Result<PaidResponse> PaymentClient::pay(const http::ClientRequest& request, const ChosenOffer& offer,
                                        persistence::ClientChannel& ch, PoolLease& lease, const Delivery& delivery) {
  const Uint128 price = offer.price;
  const Uint128 charged_before = ch.charged;
  bool force_deposit = false;  // the server found the channel short of funds: what we believed is stale
  bool adopted = false;        // a corrective 402 was taken up in this payment
  // A deposit the server turned away as busy (never executed): the next attempt sends the same
  // authorization again rather than sign a second one that could also be executed within its hour.
  std::optional<std::string> busy_deposit;
  for (unsigned attempt = 0; attempt < options_.attempts; ++attempt) {
    const auto headroom = checked_sub(ch.balance, ch.charged);
    const bool deposit = force_deposit || !headroom || *headroom < price;
    const bool on_word = force_deposit && !options_.chain;  // a deposit on the server's word alone
    const auto cumulative = checked_add(ch.charged, price);
    if (!cumulative) return fail(ErrorCode::amount_overflow, "running total overflows");

    // A permit signed before the payer approved Permit2 could be executed after the approval,
    // beside the one signed then: with the chain at hand, none is signed until it would land.
    if (deposit && !busy_deposit && offer.extra.assetTransferMethod == "permit2" && options_.chain &&
        options_.chain->network() == offer.requirements.network) {
      PAYCHAN_ASSIGN(const Uint128 wanted, deposit_amount(options_.policy, price, offer.extra.minDeposit));
      PAYCHAN_ASSIGN(const U256 allowed, options_.chain->permit2_allowance(offer.asset, ch.config.payer));
      if (allowed < U256{wanted})
        return Failure{permit2_approval_missing(ch.config.payer, offer,
                                                "a Permit2 deposit of " + to_decimal(wanted) + " needs an allowance the payer has not given (" +
                                                    allowed.to_decimal() + "), nothing signed")};
    }
    PAYCHAN_TRY(reserve(ch, *cumulative, price));
    // An earlier deposit whose answer was lost: it may have landed, and a new one does not undo it.
    const Uint128 unconfirmed = ch.pendingDeposit;
    Uint128 amount = 0;
    if (deposit) {
      PAYCHAN_ASSIGN(amount, deposit_amount(options_.policy, price, offer.extra.minDeposit));
      // A deposit in flight is on disk before it leaves (the channel changes only once it is).
      persistence::ClientChannel sending = ch;
      sending.pendingDeposit = amount;
      // Counted as it leaves (see take_deposit_on_word); one turned away as busy goes again as is.
      sending.depositsOnWord += on_word && !busy_deposit ? 1 : 0;
      sending.signedMax = std::max(sending.signedMax, *cumulative);
      PAYCHAN_TRY(save(sending));
      ch = std::move(sending);
    }
    ch.signedMax = std::max(ch.signedMax, *cumulative);  // a voucher is covered by the reservation

    std::string signature;
    if (!deposit) signature = voucher_header(offer, ch, *cumulative);
    else if (busy_deposit) signature = std::move(*busy_deposit);
    else
      signature = protocol::encode_payment_signature(
          deposit_payload(offer, ch.config, ch.channelId, *cumulative, amount, keys_, options_.now(), random32()));
    busy_deposit.reset();
    if (options_.log)  // every request: the line is only built for a logger
      log(std::string(deposit ? "deposit " + to_decimal(amount) + " + voucher" : "voucher") + " for " +
          to_decimal(*cumulative) + " on channel " + short_id(ch.channelId));
    http::ClientRequest paid = request;
    paid.header(protocol::kPaymentSignatureHeader, signature);
    paid.wait(answer_wait(offer));
    // Unless it refuses the voucher, the provider may hold it from now on (even if no answer comes).
    const Uint128 ceiling = options_.pool->held_ceiling(ch.channelId);
    options_.pool->set_held_ceiling(ch.channelId, std::max(ceiling, *cumulative));
    const Sent sent{*cumulative, charged_before, ceiling, deposit, amount, unconfirmed, force_deposit};
    // Taken up from the answer's head, before its body: the channel then serves other requests
    // while a long body (a stream) comes. A channel the answer suspends stays leased: its
    // withdrawal (chain I/O, which has no place inside the HTTP read) follows the request.
    std::optional<Result<PaidResponse>> answer;
    bool suspended_by_answer = false;
    auto sent_response = http_.request(std::move(paid), delivery.sink([&](const http::ClientResponse& head) {
      answer.emplace(take_up_answer(head, request, offer, ch, sent));
      suspended_by_answer = !ch.suspended.empty();
      if (!suspended_by_answer) lease.release(ch);
      return !suspended_by_answer;
    }));
    // The violation is what the caller hears of; a withdrawal that fails to start is only logged.
    if (suspended_by_answer)
      if (Status withdrawn = withdraw_suspended(ch); !withdrawn)
        log("the withdrawal did not start: " + withdrawn.error().to_string());
    if (!sent_response) return sent_response.failure();
    http::ClientResponse& res = *sent_response;
    if (res.status != 402) {  // its head went through take_up
      if (*answer) (*answer)->response = std::move(res);
      return std::move(*answer);
    }

    options_.pool->set_held_ceiling(ch.channelId, ceiling);
    if (auto failed = settlement_failure(res)) {
      // Refused at settlement, after the server's handler ran: nothing was charged, but a
      // deposit may have reached the chain (the reference server reports channel_busy after its
      // deposit landed, and a transaction may fail to confirm yet land). It stays pending, its
      // outcome learned from the next answer, as for an answer lost; nothing is tried again
      // here. The reason is the server's word, so its code is not ours to act on (an
      // invalid_payment_requirements would have fetch() pay once more).
      log("402 at settlement: " + *failed);
      if (deposit) PAYCHAN_TRY(save(ch));
      return fail(ErrorCode::response_settlement_failed, "the server failed to settle the payment: " + *failed);
    }
    PAYCHAN_ASSIGN(auto required, payment_required(res));
    const std::string reason = required.error.value_or("payment_required");
    // Refused unsettled: not executed by an honest server. (A deposit on the server's word stays
    // counted: a hostile one could execute the authorization and still answer 402.)
    if (deposit) ch.pendingDeposit = unconfirmed;
    log("402: " + reason);
    if (reason == to_string(ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch)) {
      // One corrective brings an honest server and us back in step (say after a lost answer). A
      // second in the same payment means the server keeps raising its total without serving:
      // each adoption would make us sign one more price for nothing.
      if (adopted) {
        const Error why{ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch,
                        "a second corrective 402 right after the first: the server does not serve the total it set"};
        PAYCHAN_TRY(suspend(ch, why));
        return Failure{why};
      }
      PAYCHAN_ASSIGN(const auto short_for, adopt_corrective(ch, offer, required));
      adopted = true;
      if (short_for) {
        PAYCHAN_TRY(check_short_of_funds(ch, *short_for));
        force_deposit = true;
      }
      continue;
    }
    if (reason == to_string(ErrorCode::invalid_batch_settlement_evm_cumulative_below_claimed)) {
      PAYCHAN_ASSIGN(const bool taken, take_up_claimed_total(ch));  // the store lags the chain
      if (taken) continue;
    }
    if (reason == to_string(ErrorCode::invalid_batch_settlement_evm_channel_busy)) {
      if (deposit) {
        PAYCHAN_TRY(save(ch));
        busy_deposit = std::move(signature);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
      continue;
    }
    if (!deposit && (reason == to_string(ErrorCode::invalid_batch_settlement_evm_channel_not_found) ||
                     reason == to_string(ErrorCode::invalid_batch_settlement_evm_cumulative_exceeds_balance))) {
      PAYCHAN_TRY(check_short_of_funds(ch, *cumulative));
      force_deposit = true;  // the channel needs (more) funds than we believed
      continue;
    }
    if (deposit) PAYCHAN_TRY(save(ch));
    if (offer_changed(required, offer, options_.policy))
      return fail(ErrorCode::invalid_payment_requirements, "the server no longer makes the offer paid under (" + reason + ")");
    if (reason == to_string(ErrorCode::invalid_batch_settlement_evm_permit2_allowance_required))
      return Failure{permit2_approval_missing(ch.config.payer, offer, "the server refused the payment: " + reason)};
    return fail(code_of(reason), "the server refused the payment: " + reason);
  }
  return fail(ErrorCode::invalid_batch_settlement_evm_channel_busy, "gave up after " +
                                                                     std::to_string(options_.attempts) + " attempts");
}

Result<protocol::SettlementResponse> PaymentClient::refund(const Bytes32& channelId, std::optional<Uint128> amount) {
  if (!options_.pool->try_lease(channelId))
    return fail(ErrorCode::invalid_batch_settlement_evm_channel_busy, "channel " + to_hex(channelId) + " is paying a request");
  PoolLease lease(*options_.pool, channelId);
  PAYCHAN_ASSIGN(auto found, latest(channelId));
  if (found) PAYCHAN_TRY(persistence::check_payer(*found, keys_.payer.address()));
  if (!found || found->closed) return fail(ErrorCode::invalid_payload, "no open channel " + to_hex(channelId));
  persistence::ClientChannel ch = std::move(*found);
  ClientPolicy any = options_.policy;
  any.networks.clear();
  any.assets.clear();
  any.maxPrice = kUint128Max;
  PAYCHAN_ASSIGN(auto offer, stored_offer(ch, any));

  http::ClientResponse res;
  // The store may lag the provider's running total (an agent that crashed): a corrective 402 is
  // adopted, over the agent's own signature, and the refund asked again.
  for (int attempt = 0;; ++attempt) {
    http::ClientRequest request{ch.method, ch.url};
    request.header(protocol::kPaymentSignatureHeader, protocol::encode_payment_signature(refund_payload(
                                                          offer, ch.config, ch.channelId, ch.charged, amount, keys_)));
    log("refund of " + (amount ? to_decimal(*amount) : std::string("everything left")) + " on channel " +
        short_id(channelId));
    PAYCHAN_ASSIGN(res, http_.request(std::move(request)));
    if (res.status != 402) break;
    if (auto failed = settlement_failure(res))  // the reference reports a refund it executed as busy, too
      return fail(ErrorCode::response_settlement_failed, "the refund's outcome is unknown, its settlement failed: " + *failed);
    PAYCHAN_ASSIGN(auto refused, payment_required(res));
    const std::string reason = refused.error.value_or("payment_required");
    if (attempt == 0 && reason == to_string(ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch)) {
      PAYCHAN_TRY(adopt_corrective(ch, offer, refused, true));  // a refund deposits nothing: a lower balance is moot
      continue;
    }
    if (attempt == 0 && reason == to_string(ErrorCode::invalid_batch_settlement_evm_cumulative_below_claimed)) {
      PAYCHAN_ASSIGN(const bool taken, take_up_claimed_total(ch, true));  // a server that lost its record
      if (taken) continue;
    }
    return fail(code_of(reason), "the server refused the refund: " + reason);
  }
  const auto header = res.header(protocol::kPaymentResponseHeader);
  // The provider could not carry the refund out (its facilitator down, say): nothing is wrong with
  // what the agent sent, and asking again later may do.
  if (res.status != 200 || !header)
    return fail(ErrorCode::response_settlement_failed,
                "refund answered HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 200));
  PAYCHAN_ASSIGN(auto settlement, protocol::decode_payment_response(*header));
  if (!settlement.success)
    return fail(ErrorCode::response_settlement_failed, "the refund was not executed: " + settlement.errorReason.value_or("no reason"));
  PAYCHAN_ASSIGN(auto extra, protocol::batch_response_extra(settlement));
  if (extra.channelState && extra.channelState->channelId != channelId)
    return fail(ErrorCode::invalid_payload, "the refund's answer describes another channel");
  if (extra.channelState) {
    ch.balance = extra.channelState->balance;
    ch.closed = ch.balance <= ch.charged;
  }
  PAYCHAN_TRY(save(ch));
  lease.release(ch);
  return settlement;
}

}  // namespace paychan::engine::client
