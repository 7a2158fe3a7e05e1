// paychan approve — the payer's one-time approval of Permit2 for a token (Permit2 deposits).
#include <iostream>

#include "chain_options.hpp"
#include "channel/hex.hpp"
#include "commands.hpp"
#include "engine/client/permit2_approval.hpp"
#include "key_options.hpp"
#include "protocol/price.hpp"

namespace paychan::cli {
namespace {

namespace client = engine::client;

constexpr std::string_view kHelp = R"(usage: paychan approve TOKEN --rpc URL [--amount N|$D|max] [--key-file FILE | --key-env VAR]

Lets Permit2 (0x000000000022D473030F116dDEE9F6B43aC78BA3) move the payer's TOKEN: what a
provider's Permit2 offers need before the agent can deposit. A provider offers deposits by Permit2
(extra.assetTransferMethod "permit2") for a token without ERC-3009; `paychan pay` refuses such an
offer with invalid_batch_settlement_evm_permit2_allowance_required until the payer has approved.

One ERC-20 approve transaction from the payer's account, which pays its gas. Permit2 still moves
nothing without a permit the agent signs for each deposit, so the usual approval is the maximum,
once per token and chain. The allowance is read first: when it already covers N, nothing is sent,
so running the command again is safe (a token that caps allowances, as UNI does at 2^96 - 1,
counts as approved for the maximum). An allowance left short of N is first set to zero (tokens
such as USDT refuse to change one non-zero allowance into another): two transactions, and
Permit2 deposits in flight between them fail. The allowance is read again at the end.

Prints {"token", "owner", "spender", "before", "allowance", "transactions": [hashes]} on stdout,
progress and each transaction's hash once mined on stderr. Exit status: 0 done (or nothing to
do); 1 a transaction reverted, or the token holds less than N after its approve; 2 bad options, an
unreachable node, no gas money, or a receipt that did not come in time (the transaction may still
be mined: run the command again to see).

  --rpc URL        the chain's JSON-RPC endpoint (default $PAYCHAN_RPC)
  --amount N       the allowance, in the token's base units (default max: 2^256 - 1), or in
                   whole tokens written as dollars ("$50": 50 USDC), scaled by the token's
                   decimals() as read on chain
  --key-file FILE  the payer's key (mode 0600); or --key-env VAR; default $PAYCHAN_KEY

  paychan approve 0xdAC17F958D2ee523a2206206994597C13D831ec7 --rpc https://eth.example --key-file agent.key

)";

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"rpc", "amount", "key-file", "key-env"};
  auto args = parse_command(argv, known, {}, 1);
  if (!args) return report("approve", args.error());
  if (args->positional().size() != 1)
    return report("approve", Error{ErrorCode::invalid_payload, "TOKEN expected: the token's contract address"});
  auto token = parse_address(args->positional()[0]);
  if (!token) return report("approve", Error{ErrorCode::invalid_payload, "TOKEN: " + token.error().detail});
  const std::string text = args->option("amount").value_or("max");
  const bool dollars = text.starts_with('$');
  const Error bad_amount{ErrorCode::invalid_payload,
                         "--amount " + text + ": a positive whole number of base units, $D (whole tokens, e.g. $50), or max"};
  U256 amount = client::max_allowance();
  if (dollars) {
    if (!protocol::parse_price(text, 0)) return report("approve", bad_amount);  // its value needs the token's decimals
  } else if (text != "max") {
    auto parsed = U256::parse(text);
    if (!parsed || *parsed == U256{}) return report("approve", bad_amount);
    amount = *parsed;
  }
  const auto rpc = rpc_url(*args);
  if (!rpc || rpc->empty())
    return report("approve", Error{ErrorCode::invalid_config, "--rpc URL is required: an approval is a transaction on chain"});
  auto key = load_key(*args);
  if (!key) return report("approve", key.error());
  auto chain = client::ChannelChain::connect(*rpc, std::move(*key));
  if (!chain) return report("approve", Error{ErrorCode::invalid_config, rpc_named(*args, *rpc) + ": " + chain.error().detail});

  if (dollars) {
    auto decimals = (*chain)->token_decimals(*token);
    if (!decimals)
      return report("approve", Error{ErrorCode::invalid_payload, "--amount " + text + ": the token's decimals() cannot be read (" +
                                                                     decimals.error().detail + "); give base units"});
    auto parsed = protocol::parse_exact_price(text, *decimals);
    if (!parsed) return report("approve", Error{ErrorCode::invalid_payload, "--amount " + text + ": " + parsed.error().detail});
    if (*parsed == 0) return report("approve", bad_amount);
    amount = U256{*parsed};
  }
  const auto progress = [](std::string_view line) { std::cerr << "* " << line << '\n'; };
  auto done = client::approve_permit2(**chain, *token, amount, progress);
  if (!done) {
    std::cerr << "paychan approve: " << done.error().to_string() << '\n';
    const bool refused = done.error().code == ErrorCode::invalid_batch_settlement_evm_transaction_reverted ||
                         done.error().code == ErrorCode::invalid_batch_settlement_evm_permit2_allowance_required;
    return refused ? kExitNo : kExitUsage;
  }
  std::cout << "{\"token\":\"" << to_checksum_hex(*token) << "\",\"owner\":\"" << to_checksum_hex((*chain)->sender())
            << "\",\"spender\":\"" << to_checksum_hex(kPermit2Address) << "\",\"before\":\"" << done->before.to_decimal()
            << "\",\"allowance\":\"" << done->after.to_decimal() << "\",\"transactions\":[";
  for (std::size_t i = 0; i < done->transactions.size(); ++i)
    std::cout << (i == 0 ? "" : ",") << '"' << to_hex(done->transactions[i]) << '"';
  std::cout << "]}\n";
  if (done->transactions.empty()) std::cerr << "* the allowance already covers it: nothing sent\n";
  return kExitOk;
}

}  // namespace

extern const Command kApprove{"approve", "approve Permit2 for a token, once (deposits by Permit2)", kHelp, run};

}  // namespace paychan::cli
