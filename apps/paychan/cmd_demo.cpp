// paychan demo — the README's first command. Until the chain, facilitator and gate land, it runs
// the part of the scheme that exists end to end in-process: an agent opens a channel and signs a
// cumulative voucher per request; the provider checks each one with the scheme's rules and commits
// a dynamic charge; at the end both sides' totals must reconcile.
#include <sys/random.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "channel/client_rules.hpp"
#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/server_rules.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "protocol/price.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kHelp = R"(usage: paychan demo [--requests N]

Runs an agent and a provider in one process on a local chain id (31337): the agent signs one
EIP-712 voucher per request ($0.01 offered, some requests charged less), the provider verifies each
voucher (one keccak digest + one secp256k1 recover) and commits the charge. Prints the figures and
exits 0 only if the agent's running total equals the provider's.

  paychan demo --requests 5000
)";

PrivateKey random_key() {
  for (;;) {
    Bytes32 secret{};
    if (getrandom(secret.data(), secret.size(), 0) == static_cast<ssize_t>(secret.size()))
      if (auto k = PrivateKey::from_bytes(secret)) return *k;
  }
}

std::string usdc(Uint128 atomic) { return protocol::format_price(atomic, 6); }

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"requests"};
  auto args = parse_command(argv, known);
  if (!args) return report("demo", args.error());
  auto requests = parse_uint128(args->option("requests").value_or("2000"));
  if (!requests || *requests == 0 || *requests > 1'000'000)
    return report("demo", Error{ErrorCode::invalid_payload, "--requests must be 1..1000000"});

  const PrivateKey agent = random_key();
  const PrivateKey provider_authorizer = random_key();
  const Address receiver = random_key().address();
  const Address usdc_token = random_key().address();
  const Uint128 price = 10'000;  // $0.01 in 6-decimal USDC
  const Uint128 deposit = price * *requests;

  const Bytes32 domain = batch_settlement_domain_separator(31337);
  const ChannelConfig config{agent.address(), agent.address(), receiver, provider_authorizer.address(),
                             usdc_token, 900, Bytes32{}};
  const OfferTerms offer{usdc_token, receiver, provider_authorizer.address(), 900, price};
  const Bytes32 id = channel_id(domain, config);
  const OnchainChannelState chain{deposit, 0, 0, U256{}};

  ChannelState provider{id, config};
  Uint128 agent_total = 0;
  std::chrono::nanoseconds sign_time{0}, check_time{0};
  for (Uint128 i = 0; i < *requests; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto voucher = next_voucher(id, agent_total, price);
    if (!voucher) return report("demo", voucher.error());
    const SignedVoucher signed_voucher{*voucher, agent.sign(voucher_digest(domain, *voucher))};
    auto t1 = std::chrono::steady_clock::now();

    Status ok = check_offer_terms(offer, config);
    if (ok) {
      auto sig = check_voucher_signature(domain, config, id, signed_voucher);
      ok = sig ? check_cumulative(PayloadType::voucher, provider.chargedCumulativeAmount, price,
                                  signed_voucher.voucher.maxClaimableAmount)
               : Status{sig.failure()};
    }
    if (ok) ok = check_funding(PayloadType::voucher, chain, 0, signed_voucher.voucher.maxClaimableAmount);
    if (!ok) return report("demo", ok.error());
    // Dynamic pricing: every third request costs 40% less than offered.
    const Uint128 actual = i % 3 == 2 ? price * 6 / 10 : price;
    auto next = commit_charge(provider, signed_voucher, price, actual, 0);
    if (!next) return report("demo", next.error());
    provider = *next;
    auto t2 = std::chrono::steady_clock::now();
    sign_time += t1 - t0;
    check_time += t2 - t1;

    auto total = check_charge_report(ClientExpectation{id, agent_total, price, std::nullopt},
                                     ChargeReport{id, actual, provider.chargedCumulativeAmount, deposit});
    if (!total) return report("demo", total.error());
    agent_total = *total;
  }

  const double n = static_cast<double>(*requests);
  std::printf("paychan demo — one channel, %s requests, chain id 31337 (in-process)\n",
              to_decimal(*requests).c_str());
  std::printf("  channelId                 %s\n", to_hex(id).c_str());
  std::printf("  agent signs a voucher     %8.1f µs each\n", std::chrono::duration<double, std::micro>(sign_time).count() / n);
  std::printf("  provider checks + commits %8.1f µs each (digest + recover + rules)\n",
              std::chrono::duration<double, std::micro>(check_time).count() / n);
  std::printf("  deposited                 %s\n", usdc(deposit).c_str());
  std::printf("  agent's running total     %s\n", usdc(agent_total).c_str());
  std::printf("  provider's charged total  %s\n", usdc(provider.chargedCumulativeAmount).c_str());
  std::printf("  last voucher ceiling      %s (the bound the agent signed; the provider claims the charged total)\n",
              usdc(provider.signedMaxClaimable).c_str());
  const bool reconciles = agent_total == provider.chargedCumulativeAmount && agent_total <= deposit;
  std::printf("  reconciles                %s\n", reconciles ? "yes" : "NO");
  return reconciles ? kExitOk : kExitNo;
}

}  // namespace

extern const Command kDemo{"demo", "run an agent and a provider end to end and print the figures", kHelp, run};

}  // namespace paychan::cli
