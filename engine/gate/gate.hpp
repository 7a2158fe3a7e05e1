// The provider gate's payment logic, apart from HTTP: the server side of batch-settlement
// (../shared/PROTOCOL.md §3 "Server rules", scheme_batch_settlement_evm.md "Server").
//
// A paid request is two calls around the provider's handler:
//   authorize(offer, PAYMENT-SIGNATURE) — decode, match the offer, lease the channel (one request
//       per channel at a time; a second one is told `channel_busy` at once), check the cumulative
//       amount, then the signature and funding: locally for an EOA voucher while the channel's
//       mirrored on-chain state is fresh, otherwise through the facilitator's /verify (deposits,
//       refunds, unknown or stale channels). An EIP-1271 payer's payloads, whose signatures only
//       the chain can check, go to /verify before the lease is taken (again under it should the
//       channel's mirror have changed meanwhile). Returns an Authorization holding the lease, or a
//       Refusal (400 / 402 / 503).
//   settle(authorization, actual) — after the handler succeeded: for a deposit, the facilitator
//       executes it on chain first; then charge `actual` (≤ the offer) against the voucher, make
//       the new state durable (group commit) and publish it; returns the PAYMENT-RESPONSE.
// Dropping an Authorization (handler failed) releases the lease and commits nothing. A refund
// payload skips the handler: refund() completes it (claim + refundWithSignature) through the
// facilitator and closes or updates the channel.
//
// Different channels never share a lock beyond a shard mutex held for a few pointer moves, so
// paid requests on different channels proceed in parallel on every I/O thread.
// Thread-safety: every member may be called concurrently from any I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "channel/ecdsa.hpp"
#include "channel/result.hpp"
#include "channel/server_rules.hpp"
#include "engine/channel_table.hpp"
#include "engine/gate/facilitator.hpp"
#include "engine/gate/metrics.hpp"
#include "engine/gate/offers.hpp"
#include "engine/http/asio.hpp"
#include "persistence/channel_store.hpp"
#include "protocol/payment_payload.hpp"
#include "protocol/payment_signature_decoder.hpp"
#include "protocol/settlement_response.hpp"

namespace paychan::engine::gate {

struct GateOptions {
  std::uint64_t chainId = 0;
  std::string network;
  std::uint64_t onchainStateTtlSeconds = 300;
  std::uint64_t withdrawalSafetyMarginSeconds = 900;
  // The receiver authorizer's key, when the provider holds it: the gate then signs refunds and
  // their claims itself. Without it the facilitator (whose authorizer the offer names) signs.
  std::optional<PrivateKey> receiverAuthorizerKey;
  // Unix seconds; tests move it to reach withdrawal deadlines.
  std::function<std::uint64_t()> now;
};

// What the gate answers instead of serving.
struct Refusal {
  int status = 402;  // 400 malformed header, 402 payment refused, 503 facilitator or store unavailable
  Error error;
  // A cumulative mismatch: the state the client should adopt (extra.channelState / voucherState).
  std::optional<ChannelState> corrective;
  // A 503's detail is the operator's (it names what failed inside), unless the client must know it:
  // a transaction executed for it on chain.
  bool detailForClient = false;
  // The facilitator's answer (isValid or success false): where a provider's misconfiguration (a
  // payTo its facilitator will not sign for, a wrong asset name) first shows.
  bool byFacilitator = false;
};

template <typename T>
using Decision = std::variant<T, Refusal>;

// A payment accepted for one request, holding its channel until settled or dropped.
class Authorization {
 public:
  Authorization(Authorization&&) noexcept = default;
  [[nodiscard]] PayloadType type() const noexcept { return held_->type; }
  [[nodiscard]] const Offer& offer() const noexcept { return *held_->offer; }
  [[nodiscard]] const Bytes32& channelId() const noexcept { return held_->base.channelId; }

 private:
  friend class Gate;
  struct Held {
    Lease lease;
    ChannelState base;  // the channel as the charge will apply to it (mirror refreshed if verified)
    protocol::SharedPayload payload;  // never null
    const Offer* offer;
    PayloadType type;
  };
  // On the heap: between authorize() and settle() an authorization is moved through half a dozen
  // coroutine results and frames, and moving the channel state and payload each time cost more
  // than the one allocation (callgrind, gate_load's paid rows).
  explicit Authorization(std::unique_ptr<Held> held) noexcept : held_(std::move(held)) {}

  std::unique_ptr<Held> held_;
};

class Gate {
 public:
  // `facilitator` may be null: deposits and refunds are then refused with facilitator_unavailable.
  // `store`: opened with StoreOptions::voucher_log, as GateRuntime opens it; only that mode holds
  // the store for one process, and two gates on one store would each serve the same vouchers from
  // a table of their own.
  // Shutdown order: stop the server, then destroy `store`, then the server's io_contexts. A stop
  // cut short can leave commits queued, and the store's destructor reports them to those contexts.
  Gate(GateOptions options, persistence::ChannelStore& store, Facilitator* facilitator, GateMetrics& metrics);

  // Loads every channel from the store (start-up). Errors: the store's.
  [[nodiscard]] Status restore();
  // Raises every held channel's mirrored totalClaimed to what the settle job has recorded in the
  // store since (ChannelStore::claimed_totals): the unclaimed amount in the metrics, and the floor
  // under which a voucher is refused, then follow its claims without a request on each channel.
  // Then forgets the held channels whose rows the settle job has deleted since (spent and
  // claimed: ChannelTable::forget_deleted), as a restart would, so a long-running gate does not
  // hold every channel it ever served.
  // Reads SQLite: call it off the I/O threads (GateRuntime does, every few seconds), from one
  // thread at a time.
  [[nodiscard]] Status refresh_claimed();

  // `decoder`, if given, decodes the header: the connection's, which remembers its last voucher
  // (protocol/payment_signature_decoder.hpp). It is used before the first suspension only.
  [[nodiscard]] http::Awaitable<Decision<Authorization>> authorize(const Offer& offer, std::string_view paymentSignature,
                                                                   protocol::PaymentSignatureDecoder* decoder = nullptr);
  [[nodiscard]] http::Awaitable<Decision<protocol::SettlementResponse>> settle(Authorization authorization,
                                                                               Uint128 actual);
  [[nodiscard]] http::Awaitable<Decision<protocol::SettlementResponse>> refund(Authorization authorization);

  [[nodiscard]] const ChannelTable& channels() const noexcept { return table_; }
  [[nodiscard]] ChannelTotals totals() const;
  [[nodiscard]] persistence::LogBacklog log_backlog() const { return store_.log_backlog(); }
  [[nodiscard]] const GateOptions& options() const noexcept { return options_; }
  // How long known channels are served on their mirrors without asking a facilitator that gave a
  // brief /verify no answer: while it rests, each request it would hold pays no timeout.
  static constexpr std::uint64_t kFacilitatorRestSeconds = 10;

 private:
  // The facilitator's /verify of a client payload, and when it was asked (what its snapshot of
  // the chain is as fresh as). Without a facilitator: facilitator_unavailable. `briefly`: for a
  // payload the gate can serve without the answer (Facilitator::verify_briefly), and not asked at
  // all within kFacilitatorRestSeconds of such a call that got no usable answer (none in time, or
  // an error), unless a call since got one; after the rest, one such request at a time asks.
  struct FacilitatorVerdict {
    Result<protocol::VerifyResponse> response;
    std::uint64_t asked_at = 0;
  };
  http::Awaitable<FacilitatorVerdict> ask_facilitator(const Offer& offer, const protocol::PaymentPayload& payload,
                                                      bool briefly = false);
  // Signature, funding and withdrawal checks, locally or through the facilitator (`asked`: its
  // verdict, when it was asked before the lease); refreshes `base`'s on-chain mirror when the
  // facilitator answered. `lease` is the channel's.
  http::Awaitable<std::optional<Refusal>> verify(const Offer& offer, const protocol::PaymentPayload& payload,
                                                 PayloadType type, const SignedVoucher& voucher, Lease& lease,
                                                 ChannelState& base, std::optional<FacilitatorVerdict> asked);
  std::optional<Refusal> verify_locally(PayloadType type, const SignedVoucher& voucher, const ChannelState& base,
                                        std::optional<PublicKey>& payerKey);
  // A deposit or refund executed on chain by the facilitator: its transaction, the channel after
  // it, and the amount the facilitator reports it moved (nullopt if it reports none it can be
  // taken at: absent, or not a uint128).
  struct OnchainSettlement {
    std::string transaction;
    OnchainChannelState onchain;
    std::optional<Uint128> amount;
  };
  http::Awaitable<Decision<OnchainSettlement>> settle_onchain(const protocol::PaymentPayload& payload,
                                                              const Offer& offer, const Bytes32& channelId);
  // Writes `next` with the lease's pending refund (the store keeps what the table holds).
  http::Awaitable<Status> make_durable(Lease& lease, const ChannelState& next,
                                       persistence::ChannelStore::Write write = persistence::ChannelStore::Write::keep);
  // Before the facilitator is asked to execute a deposit or a refund on a known channel: the chain
  // may move under the mirror, and a crash (or a lost reply, or a store that refuses the outcome)
  // could leave the old balance trusted. The channel's mirror is marked stale, in the store (its
  // row, if the settle job has not deleted it) and in the table (when the lease ends, unless an
  // outcome replaces it), so no voucher is checked on it locally until the outcome is recorded.
  // The lease's pending refund is recorded with it (none clears the row's). Whenever the lease
  // holds one, that record must reach the disk even if the settle job deleted the row: the row is
  // then written back from `base` (the chain's view read for this request), so a gate restarted
  // while the refund may still land does not count on its money. A mirror already stale is
  // written again only `for_refund` (a refund about to be asked, or one refused for good whose
  // record changes), since the record it carries changes.
  // Errors: the store's.
  http::Awaitable<Status> distrust_mirror(Lease& lease, const ChannelState& base, bool for_refund);
  protocol::SettlementResponse response(const ChannelState& state, std::string transaction,
                                        std::string amount, std::optional<Uint128> chargedAmount) const;
  std::uint64_t now() const { return options_.now(); }
  // refresh_claimed()'s second half.
  Status forget_deleted_channels();

  GateOptions options_;
  Bytes32 domain_;
  persistence::ChannelStore& store_;
  Facilitator* facilitator_;
  GateMetrics& metrics_;
  ChannelTable table_;
  // forget_deleted_channels()': the store's closed-channel records dated this or later are read next.
  std::int64_t closedSince_ = 0;
  // When a brief /verify last got no usable answer, or a probe after a rest was claimed (now()'s
  // seconds), until an answer came; 0: none.
  std::atomic<std::uint64_t> facilitatorSilentAt_{0};
};

}  // namespace paychan::engine::gate
