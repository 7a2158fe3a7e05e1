// The demo's figures — gathered from the agents, the gate, the settle job and the chain — the
// table printed from them, and the reconciliation that decides the exit status. Every amount is
// an exact integer of the token's atomic units; floating point appears only in rates (µs, gas
// per request) printed for people.
// Thread-safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "channel/amount.hpp"

namespace paychan::cli::demo {

// Test USDC held by each party.
struct Holdings {
  Uint128 agents = 0;    // Σ over the agents
  Uint128 payTo = 0;     // the provider's receiving address
  Uint128 contract = 0;  // the batch-settlement contract (the channels' escrow)
};

struct OnchainAction {
  std::uint64_t transactions = 0;
  std::uint64_t gas = 0;
};

struct Figures {
  std::string network;
  std::size_t agents = 0;
  std::uint64_t requested = 0;
  Uint128 offeredPrice = 0;
  std::chrono::milliseconds agentsTime{0};
  std::chrono::milliseconds settleTime{0};
  std::chrono::milliseconds totalTime{0};

  // The agents' side (their PaymentClients and stores).
  std::uint64_t paid = 0;
  std::uint64_t chargedLess = 0;     // requests charged below the offer
  Uint128 agentsCharged = 0;         // Σ of each response's charge the clients accepted
  Uint128 agentsStoreCharged = 0;    // Σ of their stores' per-channel charged totals
  Uint128 agentsDeposited = 0;       // Σ of their stores' confirmed deposits
  std::size_t channels = 0;
  std::vector<std::string> agentErrors;

  // The gate (its metrics and its store).
  std::uint64_t gatePaid = 0;
  std::uint64_t localChecks = 0;
  std::chrono::nanoseconds localCheckTime{0};  // Σ over localChecks (the gate's histogram)
  std::uint64_t facilitatorChecks = 0;
  Uint128 gateCharged = 0;                     // Σ chargedCumulativeAmount in the gate's store

  // The settle job and the chain.
  OnchainAction deposits;
  OnchainAction claims;
  std::size_t claimedChannels = 0;
  OnchainAction sweep;
  std::vector<std::string> settleErrors;
  bool interrupted = false;  // Ctrl-C: the agents stopped early and nothing was claimed
  std::uint64_t transferGas = 0;  // one plain ERC-20 transfer
  Uint128 claimedOnchain = 0;     // Σ channels(id).totalClaimed
  Uint128 channelBalances = 0;    // Σ channels(id).balance: deposited, including what was claimed
  Uint128 leftInChannels = 0;     // Σ balance − totalClaimed: still the agents'
  Holdings before;
  Holdings after;
};

// One equality the demo checks, with both sides.
struct Check {
  std::string what;
  Uint128 left = 0;
  Uint128 right = 0;
  [[nodiscard]] bool ok() const noexcept { return left == right; }
};

// The reconciliation: agents' spend = provider income (gate store = claimed on chain = payTo's
// gain) = on-chain movement (agents' loss − what remains in channels), and the escrow adds up.
[[nodiscard]] std::vector<Check> reconcile(const Figures& f);
// True when every check holds, every request was paid, and the settle job had no refusal.
[[nodiscard]] bool all_reconciled(const Figures& f, const std::vector<Check>& checks);

void print_report(std::FILE* out, const Figures& f, const std::vector<Check>& checks);

}  // namespace paychan::cli::demo
