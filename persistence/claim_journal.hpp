// The settle job's journal: every claim batch it sends to a facilitator is written here (durably)
// before it is sent, and marked done once the facilitator's answer is recorded in the gate's store.
// A run that crashes or times out in between leaves the batch pending; the next run sends that
// same request again before planning anything new. Resending identical bytes is what makes it safe:
// a facilitator keys on-chain actions by what they settle (paychan's journal does), and claims are
// cumulative, so the same rows never move money twice.
//
// It also remembers the channels whose claim was mined and reverted (held_back): their next claim
// waits, so that a claim that passes simulation but reverts on chain does not spend gas every run;
// and when each refunded channel was last read on chain (refund_checks), so that runs take turns.
//
// One file per gate store (`<store>.settle`), beside it; never shared with the gate's connection.
// Thread-safety: one ClaimJournal per thread; concurrent runs are excluded by the settle command's
// lock, not here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"
#include "persistence/sqlite.hpp"

namespace paychan::persistence {

// A channel whose claims reverted on chain `reverts` times in a row: not claimed before `notBefore`
// (unix seconds).
struct HeldBack {
  std::uint32_t reverts = 0;
  std::uint64_t notBefore = 0;
  friend bool operator==(const HeldBack&, const HeldBack&) = default;
};

// A refunded channel read on chain at `at` (unix seconds), the chain then at `refundNonce` (the
// previous read's when this one failed).
struct RefundCheck {
  std::uint64_t at = 0;
  U256 refundNonce;
  friend bool operator==(const RefundCheck&, const RefundCheck&) = default;
};

struct JournaledBatch {
  std::int64_t id = 0;
  std::string request;  // the facilitator /settle body, exactly as sent
};

class ClaimJournal {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ClaimJournal>> open(const std::string& path);

  // Records `request` as about to be sent; durable when it returns.
  [[nodiscard]] Result<std::int64_t> begin(const std::string& request, std::uint64_t now);
  // Batches begun and not finished, oldest first.
  [[nodiscard]] Result<std::vector<JournaledBatch>> pending();
  // The facilitator answered and the store recorded it: `transaction` ("" when refused, with `error`).
  // `hold_back` records (or replaces) those channels' entries in the same transaction: a batch is
  // finished with its revert counted, or neither, so a crash in between cannot count it twice (the
  // batch, still pending, would be resent and its revert counted again). Errors: store_failed,
  // also for an id that is not a pending batch.
  [[nodiscard]] Status finish(std::int64_t id, const std::string& transaction, const std::string& error,
                              std::uint64_t now, const std::vector<std::pair<Bytes32, HeldBack>>& hold_back = {});

  // Every held-back channel.
  [[nodiscard]] Result<std::map<Bytes32, HeldBack>> held_back();
  // Forgets the channels' entries (their claim landed), all or none; a channel without one is fine.
  [[nodiscard]] Status release(const std::vector<Bytes32>& channels);

  // When each channel was last read on chain (or tried) for the check of the refunds the gate saw
  // land, and the refund nonce the read showed: a run reads a bounded number of them, in turns.
  [[nodiscard]] Result<std::map<Bytes32, RefundCheck>> refund_checks();
  // Records each of `checked` as read at `now`, showing its refund nonce, and forgets `gone`
  // (channels no longer refunded), all or none.
  [[nodiscard]] Status record_refund_checks(const std::vector<std::pair<Bytes32, U256>>& checked,
                                            const std::vector<Bytes32>& gone, std::uint64_t now);

 private:
  explicit ClaimJournal(Database db) : db_(std::move(db)) {}
  Database db_;
};

}  // namespace paychan::persistence
