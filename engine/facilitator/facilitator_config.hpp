// What an operator configures for `paychan facilitator`: the networks it serves (CAIP-2 id → the
// node's RPC URL, optionally with non-canonical contract addresses), the key files of its signer
// (sends transactions, pays gas) and of its receiverAuthorizer (signs claims and refunds for
// servers that delegate to it), the servers allowed to call it, the journal file and the listen
// address. The format is in
// `paychan facilitator --help`.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channel/address.hpp"
#include "channel/result.hpp"
#include "engine/facilitator/network_options.hpp"

namespace paychan::engine::facilitator {

inline constexpr std::size_t kMaxNetworks = 64;
inline constexpr std::size_t kMaxClients = 256;
inline constexpr std::size_t kMaxReceiversPerClient = 1024;
inline constexpr std::size_t kMaxFactories = 64;  // eip6492AllowedFactories of one network

// A server allowed to call /verify and /settle: it proves it with the bearer token in `tokenFile`,
// and may have the facilitator's receiverAuthorizer key sign claims and refunds for `receivers`.
struct ClientConfig {
  std::string name;  // for logs
  std::string tokenFile;
  std::vector<Address> receivers;
  friend bool operator==(const ClientConfig&, const ClientConfig&) = default;
};

// A member added here is named in members_needing_restart() unless FacilitatorRuntime::reload
// applies it (else that function names it "another member").
struct FacilitatorConfig {
  std::vector<NetworkOptions> networks;  // at least one
  std::string signerKeyFile;
  std::optional<std::string> receiverAuthorizerKeyFile;
  std::string journal = "paychan-facilitator.sqlite";
  std::string listen = "127.0.0.1:4021";
  // Empty: GET /metrics on `listen`, wanting a client's token when there are clients. Set: /metrics
  // (and /healthz) on this address of its own, for anyone who can connect (bind it to a private
  // address), and none on `listen`.
  std::string metricsListen;
  std::uint64_t receiptTimeoutSeconds = 60;
  std::uint64_t repriceAfterSeconds = 60;  // see JournaledSender: a transaction left behind by the fees
  std::optional<std::uint64_t> maxFeePerGasGwei;  // the ceiling on any transaction's fee cap
  // Empty: /verify and /settle are open to anyone who can connect, and no receiverAuthorizer key
  // may be configured (it would sign refunds for whoever asks).
  std::vector<ClientConfig> clients;
  friend bool operator==(const FacilitatorConfig&, const FacilitatorConfig&) = default;
};

// Parses and checks a configuration. Errors: invalid_config naming the member and the reason
// (input_too_large for an oversized text).
[[nodiscard]] Result<FacilitatorConfig> parse_facilitator_config(std::string_view json);
// The same from a file (at most 1 MiB).
[[nodiscard]] Result<FacilitatorConfig> load_facilitator_config(const std::string& path);
// The members of `next` that differ from the `running` facilitator's and that only a restart
// changes: all but the clients (names, token files re-read, receivers), which
// FacilitatorRuntime::reload applies while it serves — unless `next` has none where `running` has
// some, or some where it has none ("clients": the API would open or close). By their names in the
// file; empty when none. Key files are compared by name: one rewritten in place is read at the next start.
[[nodiscard]] std::vector<std::string_view> members_needing_restart(const FacilitatorConfig& running,
                                                                    const FacilitatorConfig& next);

}  // namespace paychan::engine::facilitator
