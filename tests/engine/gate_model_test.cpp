// Model-based test of the gate's payment logic: random sequences of deposits, vouchers (valid,
// stale, ahead of the server, forged, beyond the balance), dynamic charges, handler failures,
// refunds (in part, or of everything left, which closes the channel), refunds whose reply is lost
// (executed on chain, their outcome unknown to the gate), clock jumps (stale on-chain mirror →
// facilitator path), the settle job claiming beside the gate (and deleting the rows of channels it
// leaves spent and claimed), the gate's refresh of what the settle job did (which forgets those
// channels) and restarts, run against the real Gate with a SQLite store on disk and
// paychan's facilitator on anvil (deposits execute on chain, stale mirrors are refreshed from it),
// and compared after every step with a few lines of bookkeeping.
#include <algorithm>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "engine/gate/gate.hpp"
#include "engine/settlement/settle_job.hpp"
#include "persistence/claim_journal.hpp"
#include "gate_chain_support.hpp"
#include "gate_support.hpp"
#include "temp_dir.hpp"
#include "unreliable_link.hpp"

namespace paychan::engine::gate::test {
namespace {

using facilitator::test::key_from;

constexpr Uint128 kPrice = 10'000;
constexpr Uint128 kDeposit = 2 * kPrice;  // small, so that channels are spent to their last unit often
constexpr int kAgents = 3;

enum Kind {
  deposit,
  paid,
  handler_fails,
  stale,
  ahead,
  forged,
  refund,
  refund_reply_lost,
  restart,
  time_passes,
  settle_job,
  claimed_refresh,
  kKinds
};

struct Op {
  int kind = 0;
  int agent = 0;
  std::uint32_t actual = 0;  // the charge the handler reports, ≤ the price; odd: a refund of half what is left
};

// How rapidcheck prints a failing sequence.
void showValue(const Op& op, std::ostream& os) {
  static constexpr const char* kNames[] = {"deposit", "paid",   "handler_fails",     "stale",   "ahead",      "forged",
                                           "refund",  "refund_reply_lost", "restart", "time_passes", "settle_job",
                                           "claimed_refresh"};
  static_assert(std::size(kNames) == kKinds);
  os << kNames[op.kind] << "(agent " << op.agent << ", actual " << op.actual << ")";
}

struct ModelChannel {
  bool open = false;  // the gate holds the channel in its table
  // Its row is in the store: as `open`, but for a channel the settle job found spent and claimed,
  // whose row it deleted while the gate still holds it (until a restart, the gate's refresh of the
  // settle job's records, or a top-up's write).
  bool stored = false;
  Uint128 balance = 0;  // on chain
  Uint128 charged = 0;
  // A refund whose reply was lost, of this amount, since the gate last wrote the channel after
  // reading the chain: its store holds it back until then (anvil mines at once, so the gate's
  // next read of the chain forgets it).
  std::optional<Uint128> refund_unknown;
};

class World {
 public:
  // Payers 1..kAgents hold tokens on the chain; `series` makes this world's channels new ones.
  World(GateConfig config, Facilitator& facilitator, std::uint32_t series)
      : config_(std::move(config)), link_(facilitator), offers_(OfferTable::build(config_)) {
    Bytes32 salt{};
    salt[0] = 0x6d;
    for (int b = 0; b < 4; ++b) salt[static_cast<std::size_t>(28 + b)] = static_cast<std::uint8_t>(series >> (24 - 8 * b));
    for (int i = 0; i < kAgents; ++i) agents_.emplace_back(key_from(static_cast<std::uint8_t>(1 + i)), config_, salt);
    open();
  }

  void apply(const Op& op) {
    ModelChannel& m = model_[op.agent];
    const TestAgent& agent = agents_[op.agent];
    const auto& offer = offers_.offers()[0];
    switch (op.kind) {
      case restart:
        gate_.reset();
        store_.reset();
        open();
        for (ModelChannel& c : model_) c.open = c.stored;
        return;
      case settle_job:
        run_settle_job();
        return;
      case claimed_refresh:
        // As a restart, for the channels whose rows were deleted; the others are held as they were.
        RC_ASSERT(gate_->refresh_claimed().ok());
        for (ModelChannel& c : model_) {
          RC_CLASSIFY(c.open && !c.stored, "the refresh forgets a channel the settle job deleted");
          c.open = c.open && c.stored;
        }
        return;
      case time_passes:
        now_ += config_.onchainStateTtlSeconds + 1;
        return;
      case deposit: {
        // Its store kept what the deleted row had (its refund nonce, claimed total): read, and met.
        RC_CLASSIFY(!m.open && m.balance != 0, "a deposit on a channel the gate forgot");
        const bool ok = pay(offer, agent.deposit_header(offer.requirements, m.charged + kPrice, kDeposit), op.actual, true);
        RC_ASSERT(ok);
        m.open = true;
        m.stored = true;
        m.balance += kDeposit;
        m.charged += op.actual;
        m.refund_unknown.reset();
        return;
      }
      case paid:
      case handler_fails: {
        const bool fundable = m.open && m.charged + kPrice <= m.balance;
        const bool ok = pay(offer, agent.voucher_header(offer.requirements, m.charged + kPrice), op.actual,
                            op.kind == paid);
        RC_ASSERT(ok == fundable);
        if (ok && op.kind == paid) {
          m.charged += op.actual;
          m.refund_unknown.reset();
        }
        return;
      }
      case stale:
      case ahead: {
        const Uint128 cumulative = op.kind == stale ? m.charged : m.charged + 2 * kPrice;
        RC_ASSERT(!pay(offer, agent.voucher_header(offer.requirements, cumulative), op.actual, true));
        return;
      }
      case refund:
      case refund_reply_lost: {
        // Half of what is left, or (the amount omitted) all of it: the facilitator claims what was
        // charged in the same transaction, so a channel refunded in full has nothing left to
        // serve or claim and is forgotten. A refund whose reply is lost is executed all the same,
        // but the gate, not knowing, keeps the channel and holds the refund back.
        const Uint128 left = m.open ? m.balance - m.charged : 0;
        const std::optional<Uint128> amount = op.actual % 2 == 1 ? std::optional<Uint128>{left / 2} : std::nullopt;
        const Uint128 taken = amount.value_or(left);
        const bool executes = m.open && taken > 0;
        link_.lose_next_settle_reply = op.kind == refund_reply_lost;
        const bool ok = refund_channel(offer, agent.refund_header(offer.requirements, m.charged, amount));
        link_.lose_next_settle_reply = false;
        RC_ASSERT(ok == (executes && op.kind == refund));
        if (!executes) return;
        m.balance -= taken;
        m.refund_unknown = op.kind == refund_reply_lost ? std::optional<Uint128>{taken} : std::nullopt;
        if (op.kind == refund) m.open = m.stored = m.balance > m.charged;
        return;
      }
      case forged: {
        TestAgent thief(test_key(99), config_, agents_[op.agent].config.salt);
        auto payload = *protocol::decode_payment_signature(thief.voucher_header(offer.requirements, m.charged + kPrice));
        auto& v = std::get<protocol::VoucherPayload>(std::get<protocol::BatchSettlementPayload>(payload.payload));
        v.channelConfig = agent.config;
        v.voucher.voucher.channelId = agent.id;
        RC_ASSERT(!pay(offer, protocol::encode_payment_signature(payload), op.actual, true));
        return;
      }
    }
  }

  // The gate's table and its store agree with the model for every channel. A refund is held
  // back in the store exactly while its lost reply is the last word the gate had from the chain.
  void check() {
    const auto pending = store_->pending_refunds();
    RC_ASSERT(pending.ok());
    RC_ASSERT(std::all_of(pending->begin(), pending->end(), [&](const auto& p) {
      return std::any_of(agents_.begin(), agents_.end(), [&](const TestAgent& a) { return a.id == p.first; });
    }));
    for (int i = 0; i < kAgents; ++i) {
      const auto held = std::find_if(pending->begin(), pending->end(), [&](const auto& p) { return p.first == agents_[i].id; });
      const std::optional<Uint128> amount =
          held == pending->end() ? std::nullopt : std::optional<Uint128>{held->second.amount};
      RC_ASSERT(amount == model_[i].refund_unknown);
    }
    for (int i = 0; i < kAgents; ++i) {
      const auto in_table = gate_->channels().find(agents_[i].id);
      auto in_store = store_->get(agents_[i].id);
      RC_ASSERT(in_store.ok());
      RC_ASSERT(in_table.has_value() == model_[i].open);
      RC_ASSERT(in_store->has_value() == model_[i].stored);
      if (!model_[i].open) continue;
      RC_ASSERT(in_table->chargedCumulativeAmount == model_[i].charged);
      if (!model_[i].stored) continue;
      RC_ASSERT((*in_store)->chargedCumulativeAmount == model_[i].charged);
      RC_ASSERT((*in_store)->chargedCumulativeAmount <= (*in_store)->signedMaxClaimable);
      // Nothing is charged beyond the money (the voucher kept may be for more than a refund left:
      // one signed before it, of which only the charged total is claimed).
      RC_ASSERT((*in_store)->chargedCumulativeAmount <= (*in_store)->onchain.balance);
    }
  }

 private:
  void open() {
    persistence::StoreOptions store_options;
    store_options.voucher_log = true;  // as the gate runtime's: restarts replay the log
    auto store = persistence::ChannelStore::open(dir_.file(), store_options);
    RC_ASSERT(store.ok());
    store_ = std::move(*store);
    GateOptions options{kChainId, config_.network, config_.onchainStateTtlSeconds,
                        config_.withdrawalSafetyMarginSeconds, std::nullopt, [this] { return now_; }};
    gate_ = std::make_unique<Gate>(options, *store_, &link_, metrics_);
    RC_ASSERT(gate_->restore().ok());
  }

  // One run of the settle job (through the same facilitator, no chain reader): every row charged
  // beyond its claimed total is claimed, and a row left with nothing to serve or claim, whose
  // refund is not of unknown outcome, is deleted; the gate still holds it.
  void run_settle_job() {
    const auto pending = store_->pending_refunds();
    RC_ASSERT(pending.ok());
    for (int i = 0; i < kAgents; ++i) {
      const auto row = store_->get(agents_[i].id);
      RC_ASSERT(row.ok());
      const bool held_back = std::any_of(pending->begin(), pending->end(), [&](const auto& p) { return p.first == agents_[i].id; });
      if (*row && (*row)->chargedCumulativeAmount > (*row)->onchain.totalClaimed &&
          (*row)->onchain.balance <= (*row)->chargedCumulativeAmount && !held_back) {
        model_[i].stored = false;
        RC_CLASSIFY(model_[i].open, "the settle job deleted the row of a channel the gate holds");
      }
    }
    auto options = settlement::settle_job_options(config_);
    options.sweep = false;
    options.now = [this] { return now_; };
    auto journal = persistence::ClaimJournal::open(dir_.file("settle.sqlite"));
    RC_ASSERT(journal.ok());
    settlement::SettleJob job(std::move(options), link_, *store_, **journal);
    const auto summary = http::run_blocking(job.run_once([](const std::string&) {}));
    RC_ASSERT(summary.ok());
    RC_ASSERT(summary->ok());
  }

  // authorize → (handler) → settle; true when the request was charged (or, with a failing
  // handler, when the payment was accepted before the handler failed).
  bool pay(const Offer& offer, const std::string& header, Uint128 actual, bool handler_succeeds) {
    auto decision = http::run_blocking(gate_->authorize(offer, header));
    if (std::holds_alternative<Refusal>(decision)) return false;
    if (!handler_succeeds) return true;  // the Authorization is dropped: nothing is committed
    auto settled = http::run_blocking(gate_->settle(std::move(std::get<Authorization>(decision)), actual));
    return std::holds_alternative<protocol::SettlementResponse>(settled);
  }

  bool refund_channel(const Offer& offer, const std::string& header) {
    auto decision = http::run_blocking(gate_->authorize(offer, header));
    if (std::holds_alternative<Refusal>(decision)) return false;
    auto refunded = http::run_blocking(gate_->refund(std::move(std::get<Authorization>(decision))));
    return std::holds_alternative<protocol::SettlementResponse>(refunded);
  }

  GateConfig config_;
  paychan::test::TempDir dir_;
  UnreliableLink link_;  // the real facilitator, whose reply to a refund can be lost
  GateMetrics metrics_;
  std::uint64_t now_ = 1'800'000'000;
  OfferTable offers_;
  std::vector<TestAgent> agents_;
  ModelChannel model_[kAgents];
  std::unique_ptr<persistence::ChannelStore> store_;
  std::unique_ptr<Gate> gate_;
};

class GateModel : public facilitator::test::GateChainTest {};

TEST_F(GateModel, AgreesWithTheModelOverRandomSequences) {
  GateConfig config = chain_config();
  config.receiverAuthorizer = authorizer().address();  // delegated: the facilitator signs refunds and their claims
  // anvil mines each transaction at once: a short receipt poll keeps hundreds of deposits quick.
  facilitator::FacilitatorOptions options;
  options.receiptPoll = std::chrono::milliseconds(2);
  const auto facilitator = make_facilitator(options);
  std::uint32_t series = 0;
  const bool held = rc::check("the gate agrees with the model", [&] {
    const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
        // Paid requests and the settle job weigh more: together they leave channels spent and
        // claimed, which the settle job deletes while the gate holds them.
        rc::gen::set(&Op::kind, rc::gen::weightedElement<int>({{2, deposit},
                                                                {4, paid},
                                                                {1, handler_fails},
                                                                {1, stale},
                                                                {1, ahead},
                                                                {1, forged},
                                                                {1, refund},
                                                                {1, refund_reply_lost},
                                                                {1, restart},
                                                                {1, time_passes},
                                                                {2, settle_job},
                                                                {1, claimed_refresh}})),
        rc::gen::set(&Op::agent, rc::gen::inRange(0, kAgents)),
        // The full price half the time: a channel is then spent to its last unit in a few requests.
        rc::gen::set(&Op::actual, rc::gen::oneOf(rc::gen::just(static_cast<std::uint32_t>(kPrice)),
                                                 rc::gen::inRange<std::uint32_t>(0, static_cast<std::uint32_t>(kPrice) + 1)))));
    World world(config, *facilitator, ++series);
    for (const Op& op : ops) {
      world.apply(op);
      world.check();
    }
  });
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace paychan::engine::gate::test
