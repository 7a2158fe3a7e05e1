// The demo's agents: each a thread with its own key, its own SQLite client store and a
// PaymentClient (engine/client) under a budget policy, calling the paid endpoint in a loop. An
// agent never sends a transaction: its deposits are ERC-3009 authorizations that the gate hands
// to the facilitator, and each further call carries one signed voucher.
// Thread-safety: run_agents blocks its caller; `stop` may be set from a signal handler.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "channel/ecdsa.hpp"
#include "engine/client/policy.hpp"

namespace paychan::cli::demo {

struct AgentsPlan {
  std::string url;                // the paid endpoint
  std::vector<PrivateKey> keys;   // one agent each
  std::uint64_t requests = 0;     // in total, shared out evenly
  engine::client::ClientPolicy policy;
  std::filesystem::path dir;      // agent-N.sqlite stores
};

// What one agent saw, from its own side.
struct AgentOutcome {
  Address address;
  std::uint64_t paid = 0;         // requests answered 200 and paid
  Uint128 charged = 0;            // Σ of what the gate charged, as the client accepted it
  std::uint64_t chargedLess = 0;  // requests charged below the offered price
  Uint128 storeCharged = 0;       // Σ over its stored channels (must equal `charged`)
  Uint128 deposited = 0;          // Σ of its confirmed deposits
  std::uint64_t deposits = 0;     // deposits made (a first one and top-ups)
  std::vector<Bytes32> channels;  // its channels' ids
  std::string error;              // why it stopped early; empty when it did all its requests
};

// Progress: called about every second from the calling thread with the paid requests so far.
using AgentsProgress = std::function<void(std::uint64_t paid)>;

// Runs every agent concurrently until each has made its share of requests, failed, or `stop` is set.
[[nodiscard]] std::vector<AgentOutcome> run_agents(const AgentsPlan& plan, const std::atomic<bool>& stop,
                                                   const AgentsProgress& progress);

}  // namespace paychan::cli::demo
