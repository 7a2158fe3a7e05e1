// paychan channel-id — the channelId of a ChannelConfig (its EIP-712 hash under the scheme's domain).
#include <iostream>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "chain_options.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "protocol/channel_json.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kHelp = R"(usage: paychan channel-id --chain-id N [--contract ADDR] [FILE|-]

Reads a channelConfig object (JSON, as inside a batch-settlement payload) and prints its channelId:
the EIP-712 hash of ChannelConfig under the domain {name "x402 Batch Settlement", version "1",
chainId, verifyingContract}. The same config has another id on another chain or contract.

  --chain-id N      the EVM chain id (8453 Base, 84532 Base Sepolia, 31337 local)
  --contract ADDR   the batch-settlement contract (default: the canonical
                    0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003)

  echo '{"payer":"0x…","payerAuthorizer":"0x…","receiver":"0x…","receiverAuthorizer":"0x…",
         "token":"0x…","withdrawDelay":900,"salt":"0x00…00"}' | paychan channel-id --chain-id 8453
  → {"channelId":"0x…"}
)";

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"chain-id", "contract"};
  auto args = parse_command(argv, known, {}, 1);
  if (!args) return report("channel-id", args.error());
  auto domain = scheme_domain(*args);
  if (!domain) return report("channel-id", domain.error());
  auto text = read_input(args->positional().empty() ? std::nullopt : std::optional{args->positional()[0]});
  if (!text) return report("channel-id", text.error());
  auto config = protocol::decode_channel_config(*text);
  if (!config) return report("channel-id", config.error());
  std::cout << R"({"channelId":")" << to_hex(channel_id(*domain, *config)) << "\"}\n";
  return kExitOk;
}

}  // namespace

extern const Command kChannelId{"channel-id", "compute the channelId of a channel config", kHelp, run};

}  // namespace paychan::cli
