#include "engine/facilitator/facilitator.hpp"

#include "channel/hex.hpp"
#include "engine/facilitator/settlement_actions.hpp"
#include "engine/facilitator/verification.hpp"
#include "engine/http/beast.hpp"
#include "engine/http/sleep.hpp"
#include "engine/log_text.hpp"

namespace paychan::engine::facilitator {
namespace {

using protocol::FacilitatorRequest;
using protocol::SettlementResponse;
using protocol::VerifyResponse;

// How often a request polls for another request that is preparing the same action.
constexpr std::chrono::milliseconds kInFlightPoll{50};

VerifyResponse invalid(const Error& e) {
  VerifyResponse r;
  r.invalidReason = std::string(to_string(e.code));
  if (!e.detail.empty()) r.invalidMessage = e.detail;
  return r;
}

SettlementResponse refused(const std::string& network, const Error& e, std::string transaction = {}) {
  SettlementResponse r;
  r.errorReason = std::string(to_string(e.code));
  if (!e.detail.empty()) r.errorMessage = e.detail;
  r.transaction = std::move(transaction);
  r.network = network;
  return r;
}

// No trustworthy answer: the chain could not be read.
bool unreadable(const std::optional<std::string>& reason) {
  return reason && (*reason == to_string(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed) ||
                    *reason == to_string(ErrorCode::invalid_batch_settlement_evm_channel_state_read_failed));
}

Status check_envelope(const FacilitatorRequest& r) {
  if (r.paymentPayload.accepted.scheme != protocol::kBatchSettlementScheme ||
      r.paymentRequirements.scheme != protocol::kBatchSettlementScheme)
    return fail(ErrorCode::invalid_batch_settlement_evm_scheme, "scheme is not batch-settlement");
  if (r.paymentPayload.accepted.network != r.paymentRequirements.network)
    return fail(ErrorCode::invalid_batch_settlement_evm_network_mismatch,
                "paymentPayload.accepted.network is not paymentRequirements.network");
  if (protocol::batch_payload(r.paymentPayload) == nullptr)
    return fail(ErrorCode::invalid_batch_settlement_evm_scheme, "payload is not a batch-settlement payload");
  return {};
}

VerifyResponse verdict_response(const Verdict& v) {
  VerifyResponse r = v.refusal ? invalid(*v.refusal) : VerifyResponse{};
  r.isValid = !v.refusal;
  r.payer = to_checksum_hex(v.payer);
  if (v.snapshot) r.extra = protocol::make_verify_extra(*v.snapshot);
  return r;
}

std::string payload_name(const protocol::BatchSettlementPayload& p) {
  constexpr const char* kNames[] = {"deposit", "voucher", "refund", "claim", "settle"};
  return kNames[p.index()];
}

// What a request asked, for a log line: "claim on eip155:8453".
std::string asked(const FacilitatorRequest& request) {
  const auto* payload = protocol::batch_payload(request.paymentPayload);
  return (payload ? payload_name(*payload) : std::string{"request"}) + " on " + request.paymentRequirements.network;
}

}  // namespace

Facilitator::Facilitator(std::vector<NetworkOptions> networks, PrivateKey signer,
                         std::optional<PrivateKey> receiverAuthorizer, persistence::TxJournal& journal,
                         FacilitatorOptions options)
    : authorizer_(std::move(receiverAuthorizer)),
      journal_(journal),
      options_(std::move(options)),
      sender_(journal, std::move(signer), SenderOptions{options_.fault, options_.repriceAfter, options_.maxFeePerGas}) {
  for (auto& n : networks) {
    // The caller checked the network names (facilitator_config); a bad one serves nothing.
    auto id = protocol::evm_chain_id(n.network);
    networks_.push_back(std::make_unique<ChainView>(std::move(n), id ? *id : 0));
  }
}

ChainView* Facilitator::network(const std::string& name) noexcept {
  for (auto& n : networks_)
    if (n->network() == name) return n.get();
  return nullptr;
}

void Facilitator::log(const std::string& line) const {
  // Lines carry callers' fields (a network, a reason): one line each, of bounded length.
  if (options_.log) options_.log(one_line(line, 2000));
}

void Facilitator::log_caused_by_caller(LogThrottle& throttle, std::string line) const {
  // The count LogThrottle appends is ours: only the caller's part is cut to the line's bound.
  if (auto admitted = throttle.admit(one_line(line, 2000)); admitted && options_.log) options_.log(*admitted);
}

std::string Facilitator::forget(const persistence::JournalEntry& latest) {
  auto removed = journal_.forget(latest);
  if (!removed) return "; journal: " + removed.error().to_string();
  // Another request replaced the transaction since `latest` was read (it is waiting on the newer
  // version) or forgot it first.
  return *removed ? "; forgotten" : "; nothing forgotten: the journal no longer holds this version";
}

http::Awaitable<Status> Facilitator::check_nodes() {
  for (auto& n : networks_) {
    if (Status s = co_await n->check_node(); !s) co_return s;
    const std::vector<std::string> warnings = co_await n->check_setup(signer());
    for (const std::string& warning : warnings) log("warning: " + warning);
  }
  co_return Status{};
}

http::Awaitable<std::vector<std::string>> Facilitator::unready() {
  constexpr std::chrono::seconds kReadinessReuse{1};
  constexpr std::chrono::seconds kReadinessTimeout{2};
  {
    std::lock_guard lock(readiness_mutex_);
    if (std::chrono::steady_clock::now() - readiness_at_ < kReadinessReuse) co_return readiness_;
  }
  std::vector<std::string> unready;
  for (auto& n : networks_)
    if (Status s = co_await n->check_node(kReadinessTimeout); !s) unready.push_back(s.error().detail);
  std::lock_guard lock(readiness_mutex_);
  readiness_at_ = std::chrono::steady_clock::now();
  readiness_ = unready;
  co_return unready;
}

protocol::SupportedResponse Facilitator::supported() const {
  protocol::SupportedResponse r;
  for (const auto& n : networks_) {
    protocol::SupportedKind kind;
    kind.scheme = std::string(protocol::kBatchSettlementScheme);
    kind.network = n->network();
    if (authorizer_)
      kind.extra = protocol::Json::trusted("{\"receiverAuthorizer\":\"" + to_checksum_hex(authorizer_->address()) + "\"}");
    r.kinds.push_back(std::move(kind));
  }
  r.signers["eip155:*"] = {to_checksum_hex(sender_.address())};
  return r;
}

http::Awaitable<VerifyResponse> Facilitator::verify_request(const FacilitatorRequest& request, ReceiverScope scope) {
  VerifyResponse answer = co_await verdict(request, scope);
  if (!answer.isValid)
    log_caused_by_caller(verify_refusals_, "verify of a " + asked(request) + " refused: " +
                                               answer.invalidReason.value_or("") +
                                               (answer.invalidMessage ? ": " + *answer.invalidMessage : ""));
  co_return answer;
}

http::Awaitable<SettlementResponse> Facilitator::settle_request(const FacilitatorRequest& request, ReceiverScope scope) {
  SettlementResponse answer = co_await settlement(request, scope);
  const std::string reason = answer.errorReason.value_or("");
  if (!answer.success && reason != to_string(ErrorCode::invalid_batch_settlement_evm_nothing_to_settle))
    log_caused_by_caller(settle_refusals_, "settle of a " + asked(request) + " refused: " + reason +
                                               (answer.errorMessage ? ": " + *answer.errorMessage : "") +
                                               (answer.transaction.empty() ? "" : " (transaction " + answer.transaction + ")"));
  co_return answer;
}

http::Awaitable<VerifyResponse> Facilitator::verdict(const FacilitatorRequest& request, ReceiverScope scope) {
  if (Status s = check_envelope(request); !s) co_return invalid(s.error());
  ChainView* chain = network(request.paymentRequirements.network);
  if (chain == nullptr)
    co_return invalid(Error{ErrorCode::invalid_network, request.paymentRequirements.network + " is not served here"});
  const auto& payload = *protocol::batch_payload(request.paymentPayload);
  if (auto out_of_scope = scope_refusal(payload, signers(scope))) co_return invalid(*out_of_scope);
  const auto& requirements = request.paymentRequirements;
  // Each verdict is named before use: g++ 12 mishandles aggregate temporaries around co_await.
  if (const auto* d = std::get_if<protocol::DepositPayload>(&payload)) {
    const Verdict verdict = co_await verify_deposit(*chain, requirements, *d, sender_.address());
    co_return verdict_response(verdict);
  }
  if (const auto* v = std::get_if<protocol::VoucherPayload>(&payload)) {
    const Verdict verdict = co_await verify_voucher(*chain, requirements, v->channelConfig, v->voucher, PayloadType::voucher);
    co_return verdict_response(verdict);
  }
  if (const auto* f = std::get_if<protocol::RefundPayload>(&payload)) {
    if (f->amount && *f->amount == 0)
      co_return invalid(Error{ErrorCode::invalid_batch_settlement_evm_refund_amount_invalid, "refund amount is zero"});
    const Verdict verdict = co_await verify_voucher(*chain, requirements, f->channelConfig, f->voucher, PayloadType::refund);
    co_return verdict_response(verdict);
  }
  co_return invalid(Error{ErrorCode::invalid_batch_settlement_evm_payload_type, "/verify takes deposit, voucher or refund"});
}

http::Awaitable<SettlementResponse> Facilitator::settlement(const FacilitatorRequest& request, ReceiverScope scope) {
  const std::string& name = request.paymentRequirements.network;
  if (Status s = check_envelope(request); !s) co_return refused(name, s.error());
  ChainView* chain = network(name);
  if (chain == nullptr) co_return refused(name, Error{ErrorCode::invalid_network, name + " is not served here"});
  const auto& payload = *protocol::batch_payload(request.paymentPayload);
  if (auto out_of_scope = scope_refusal(payload, signers(scope))) co_return refused(name, *out_of_scope);
  if (std::holds_alternative<protocol::VoucherPayload>(payload))
    co_return refused(name, Error{ErrorCode::invalid_batch_settlement_evm_unknown_settle_action,
                                  "a voucher is settled by a claim, not on its own"});
  auto key = co_await action_key(*chain, payload);
  if (!key) co_return refused(name, key.error());
  co_return co_await execute(*chain, request, std::move(*key), scope);
}

Signers Facilitator::signers(ReceiverScope scope) const noexcept {
  return Signers{sender_.address(), authorizer_ ? &*authorizer_ : nullptr, scope};
}

bool Facilitator::claim_in_flight(const std::string& key) {
  std::lock_guard lock(inFlightMutex_);
  return inFlight_.insert(key).second;
}

void Facilitator::release_in_flight(const std::string& key) {
  std::lock_guard lock(inFlightMutex_);
  inFlight_.erase(key);
}

http::Awaitable<SettlementResponse> Facilitator::execute(ChainView& chain, const FacilitatorRequest& request,
                                                         std::string key, ReceiverScope scope) {
  const std::string& name = chain.network();
  const Error journal_failed{ErrorCode::store_failed, "the transaction journal cannot be read"};
  // A journaled transaction for the key is the action: answer with it. Otherwise become the one
  // request preparing it, or wait while another is.
  const auto give_up = std::chrono::steady_clock::now() + options_.receiptTimeout;
  for (;;) {
    if (claim_in_flight(key)) break;
    auto found = journal_.find(key);
    if (!found) co_return refused(name, journal_failed);
    if (*found) co_return co_await finish(chain, request, **found, options_.receiptTimeout);
    if (std::chrono::steady_clock::now() >= give_up)
      co_return refused(name, Error{ErrorCode::invalid_batch_settlement_evm_channel_busy,
                                    "another request is settling the same action"});
    co_await http::sleep_for(kInFlightPoll);
  }
  struct Release {
    Facilitator* self;
    const std::string& key;
    ~Release() { self->release_in_flight(key); }
  } release{this, key};
  // Ours to prepare, unless it was journaled already (by a request before ours, or an earlier run).
  auto found = journal_.find(key);
  if (!found) co_return refused(name, journal_failed);
  if (*found) co_return co_await finish(chain, request, **found, options_.receiptTimeout);

  const auto& payload = *protocol::batch_payload(request.paymentPayload);
  const ActionCodes codes = action_codes(payload);
  auto prepared = co_await prepare_action(chain, request, signers(scope));
  if (auto* e = std::get_if<Error>(&prepared)) co_return refused(name, *e);
  Action& action = std::get<Action>(prepared);

  // The simulation: estimating the gas executes the transaction against the latest state (done
  // already for a deposit that deploys its wallet, whose estimate is held to a limit).
  Result<std::uint64_t> gas = action.gas.value_or(0);
  if (!action.gas) gas = co_await chain.rpc().estimate_gas(sender_.address(), action.to, action.data);
  if (!gas) {
    Error e = gas.error();
    if (e.code == ErrorCode::invalid_batch_settlement_evm_transaction_reverted) e.code = codes.simulation_failed;
    co_return refused(name, e);
  }
  TxPlan plan;
  plan.key = key;
  plan.request = protocol::encode_facilitator_request(request);
  plan.to = action.to;
  plan.data = std::move(action.data);
  plan.gas = *gas + *gas / 5;  // headroom: state may move between estimate and inclusion
  auto sent = co_await sender_.send(chain, plan);
  if (!sent) co_return refused(name, Error{codes.transaction_failed, sent.error().detail});
  log(payload_name(payload) + " " + name + " sent " + to_hex(sent->transactionHash) + " nonce " +
      std::to_string(sent->nonce) + " key " + key);
  co_return co_await finish(chain, request, *sent, options_.receiptTimeout);
}

http::Awaitable<SettlementResponse> Facilitator::finish(ChainView& chain, const FacilitatorRequest& caller,
                                                        const persistence::JournalEntry& entry,
                                                        std::chrono::milliseconds timeout) {
  const std::string& name = chain.network();
  // The outcome is described from the request that made the transaction, not from the caller's: a
  // request joining the action shares only its key, and its amount or payer may differ (a deposit
  // key does not cover the amount). Its answer, recorded first, would be every request's; but not
  // the answer of another channel's deposit under the same key (a Permit2 nonce signed twice).
  const auto journaled = protocol::decode_facilitator_request(entry.request);
  const auto* made = journaled ? protocol::batch_payload(journaled->paymentPayload) : nullptr;
  if (made != nullptr)
    if (auto other = deposit_of_another_channel(*made, *protocol::batch_payload(caller.paymentPayload)))
      co_return refused(name, *other);
  if (entry.outcome) {
    if (auto recorded = protocol::decode_settlement_response(*entry.outcome)) co_return std::move(*recorded);
  }
  if (made == nullptr) log(entry.key + ": journaled request unreadable; described from the caller's");
  const FacilitatorRequest& request = made != nullptr ? *journaled : caller;
  const ActionCodes codes = action_codes(*protocol::batch_payload(request.paymentPayload));
  auto fate = co_await sender_.resolve(chain, entry, timeout, options_.receiptPoll);
  if (!fate) co_return refused(name, fate.error(), to_hex(entry.transactionHash));
  // The entry's latest version: another request may have replaced its transaction meanwhile.
  const persistence::JournalEntry& latest = fate->latest;
  if (fate->dropped) {
    // Nothing happened on chain under this key: a retry may attempt the action afresh. The answer's
    // transaction field stays empty (the hash is in the message): none was mined, no gas was spent,
    // and a caller may split or resend.
    const std::string forgotten = forget(latest);
    log(entry.key + " dropped: " + fate->detail + forgotten);
    co_return refused(name, Error{codes.transaction_failed, "transaction " + to_hex(latest.transactionHash) +
                                                                " was dropped (" + fate->detail + "); retry"});
  }
  if (!fate->receipt)
    co_return refused(name, Error{ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed, fate->detail},
                      to_hex(latest.transactionHash));

  const std::string tx = to_hex(fate->receipt->transactionHash);  // the version mined
  auto outcome = co_await describe_outcome(chain, request, *fate->receipt);
  if (!outcome) co_return refused(name, outcome.error(), tx);
  if (!outcome->success) {
    // Reverted: nothing under this key happened on chain (a revert undoes the whole transaction,
    // and no deposit, claim or refund nonce was used). The key is forgotten, so a retry is
    // simulated afresh instead of being answered with a revert whose cause may be gone.
    const std::string forgotten = forget(latest);
    log(entry.key + " mined " + tx + " reverted" + forgotten);
    co_return std::move(*outcome);
  }
  if (Status s = journal_.record_outcome(latest, protocol::encode_settlement_response(*outcome)); !s)
    log("journal: " + s.error().to_string());
  log(entry.key + " mined " + tx + " ok");
  // The first recorded outcome is the action's: answer with it, so every request agrees.
  auto recorded = journal_.find(entry.key);
  if (recorded && *recorded && (*recorded)->outcome) {
    if (auto first = protocol::decode_settlement_response(*(*recorded)->outcome)) co_return std::move(*first);
  }
  co_return std::move(*outcome);
}

Result<std::size_t> Facilitator::pending_transactions() {
  return journal_.pending_count();
}

http::Awaitable<Result<RecoveryReport>> Facilitator::recover() {
  auto pending = journal_.pending();
  if (!pending) co_return pending.failure();
  RecoveryReport report;
  for (const auto& entry : *pending) {
    auto request = protocol::decode_facilitator_request(entry.request);
    ChainView* chain = network(entry.network);
    if (!request || chain == nullptr || protocol::batch_payload(request->paymentPayload) == nullptr) {
      log(entry.key + ": cannot be resolved here (network not configured or request unreadable)");
      ++report.unresolved;
      continue;
    }
    // A short look, not a wait per entry: the node has its receipt, or takes the same bytes
    // again; what stays pending is resolved by the next request for its action.
    (void)co_await finish(*chain, *request, entry, options_.receiptPoll * 5);
    auto after = journal_.find(entry.key);
    if (!after) co_return after.failure();
    if (!*after) ++report.dropped;
    else if ((*after)->outcome) ++report.resolved;
    else ++report.unresolved;
  }
  co_return report;
}

http::Awaitable<Result<VerifyResponse>> Facilitator::verify(const FacilitatorRequest& request) {
  VerifyResponse r = co_await verify_request(request, ReceiverScope::everyone());
  if (!r.isValid && unreadable(r.invalidReason))
    co_return fail(ErrorCode::facilitator_unavailable, r.invalidMessage.value_or("the chain could not be read"));
  co_return r;
}

http::Awaitable<Result<SettlementResponse>> Facilitator::settle(const FacilitatorRequest& request) {
  SettlementResponse r = co_await settle_request(request, ReceiverScope::everyone());
  // Nothing was sent and the chain could not be read: no answer to act on.
  if (!r.success && r.transaction.empty() && unreadable(r.errorReason))
    co_return fail(ErrorCode::facilitator_unavailable, r.errorMessage.value_or("the chain could not be read"));
  co_return r;
}

}  // namespace paychan::engine::facilitator
