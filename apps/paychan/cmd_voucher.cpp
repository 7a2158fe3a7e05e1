// paychan voucher sign / voucher verify — the per-request EIP-712 voucher.
#include <iostream>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/server_rules.hpp"
#include "chain_options.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "key_options.hpp"
#include "protocol/channel_json.hpp"
#include "protocol/headers.hpp"
#include "protocol/voucher_inputs.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kSignHelp = R"(usage: paychan voucher sign --chain-id N [--contract ADDR]
                            (--key-file FILE | --key-env VAR) [FILE|-]

Signs Voucher(bytes32 channelId, uint128 maxClaimableAmount) with the payer authorizer's key and
prints the voucher object of a batch-settlement payload. Input: {"channelId", "maxClaimableAmount"},
or {"channelConfig", "maxClaimableAmount"} to derive the channelId. maxClaimableAmount is the
cumulative ceiling (charged so far + this request's price), in atomic units.

  echo '{"channelId":"0x…","maxClaimableAmount":"20000"}' |
    paychan voucher sign --chain-id 84532 --key-file agent.key
  → {"channelId":"0x…","maxClaimableAmount":"20000","signature":"0x…"}
)";

constexpr std::string_view kVerifyHelp = R"(usage: paychan voucher verify --chain-id N [--contract ADDR] [--signer ADDR] [INPUT|FILE|-]

Checks a voucher signature the way a server does (low-s, v ∈ {27,28}, recovered signer). INPUT is
either JSON {"voucher": {...}, "channelConfig"?: {...}} or a PAYMENT-SIGNATURE header value, given
on the command line, in a file, or on stdin (- or nothing). With a
channelConfig, it also checks that the config hashes to the voucher's channelId and that the signer
is the config's payerAuthorizer; otherwise --signer names the expected signer. It works offline:
with a payerAuthorizer of zero it takes the payer's own ECDSA signature, which the chain refuses
if the payer has code (a smart wallet, an EIP-7702 account), and it cannot check a smart wallet's
signature (any length but 65 bytes) at all; the facilitator asks the chain.
Exit 0 when valid, 1 when not, 2 on bad input.

  paychan voucher verify --chain-id 84532 "$PAYMENT_SIGNATURE"
  → {"valid":true,"signer":"0x…","digest":"0x…","channelId":"0x…"}
  paychan voucher verify --chain-id 84532 --signer 0x… check.json   # {"voucher": {...}} in a file
)";

int run_sign(std::span<char* const> argv) {
  const std::string_view known[] = {"chain-id", "contract", "key-file", "key-env"};
  auto args = parse_command(argv, known, {}, 1);
  if (!args) return report("voucher sign", args.error());
  auto domain = scheme_domain(*args);
  if (!domain) return report("voucher sign", domain.error());
  auto key = load_key(*args);
  if (!key) return report("voucher sign", key.error());
  auto text = read_input(args->positional().empty() ? std::nullopt : std::optional{args->positional()[0]});
  if (!text) return report("voucher sign", text.error());
  auto request = protocol::decode_voucher_request(*text);
  if (!request) return report("voucher sign", request.error());
  Voucher v{request->channelId.value_or(Bytes32{}), request->maxClaimableAmount};
  if (const auto& config = request->channelConfig) {
    v.channelId = channel_id(*domain, *config);
    if (request->channelId && *request->channelId != v.channelId)
      return report("voucher sign", Error{ErrorCode::invalid_batch_settlement_evm_channel_id_mismatch,
                                          "channelId " + to_hex(*request->channelId) + " is not the channelConfig's " +
                                              to_hex(v.channelId) + " (under the --chain-id and --contract given)"});
    // The key must be the one the channel checks vouchers against, or a voucher nobody accepts is signed.
    if (config->payerAuthorizer != Address{} && config->payerAuthorizer != key->address())
      return report("voucher sign", Error{ErrorCode::invalid_batch_settlement_evm_voucher_signature,
                                          "this key is " + to_checksum_hex(key->address()) + ", the channel's payerAuthorizer " +
                                              to_checksum_hex(config->payerAuthorizer) + ": its vouchers would not verify"});
    if (config->payerAuthorizer == Address{} && config->payer != key->address())
      std::cerr << "paychan voucher sign: warning: this key is " << to_checksum_hex(key->address()) << ", not the payer "
                << to_checksum_hex(config->payer) << " (payerAuthorizer zero): the voucher verifies only if the payer is a "
                << "wallet that accepts this key's signatures (EIP-1271)\n";
  }
  const SignedVoucher signed_voucher{v, key->sign(voucher_digest(*domain, v))};
  std::cout << protocol::encode_signed_voucher(signed_voucher) << '\n';
  return kExitOk;
}

// The voucher's ECDSA signer; a signature of another length is a smart wallet's (EIP-1271).
Result<Address> ecdsa_signer(const Bytes32& digest, const WalletSignature& signature) {
  if (const Signature* ecdsa = signature.ecdsa()) return recover_signer(digest, *ecdsa);
  return fail(ErrorCode::malformed_signature, "a signature of " + std::to_string(signature.bytes().size()) +
                                                  " bytes is a smart wallet's (EIP-1271): only the chain can check it");
}

int run_verify(std::span<char* const> argv) {
  const std::string_view known[] = {"chain-id", "contract", "signer"};
  auto args = parse_command(argv, known, {}, 1);
  if (!args) return report("voucher verify", args.error());
  auto domain = scheme_domain(*args);
  if (!domain) return report("voucher verify", domain.error());
  auto text = read_value(args->positional());
  if (!text) return report("voucher verify", text.error());
  auto input = protocol::decode_voucher_check(*text);
  if (!input) return report("voucher verify", input.error());

  const Bytes32 digest = voucher_digest(*domain, input->voucher.voucher);
  auto signer = ecdsa_signer(digest, input->voucher.signature);
  std::optional<Error> problem;
  if (!signer) {
    problem = signer.error();
  } else if (input->channelConfig) {
    if (auto id = check_channel_id(*domain, *input->channelConfig, input->voucher.voucher.channelId); !id)
      problem = id.error();
    else if (auto sig = check_voucher_signature(*domain, *input->channelConfig, input->voucher.voucher.channelId,
                                                input->voucher);
             !sig)
      problem = sig.error();
    // payerAuthorizer zero: the contract asks SignatureChecker, which accepts an EOA payer's own
    // signature; a smart-wallet payer (EIP-1271) cannot be checked without the chain.
    else if (*sig == SignatureCheck::requires_facilitator && *signer != input->channelConfig->payer)
      problem = Error{ErrorCode::invalid_batch_settlement_evm_voucher_signature,
                      "payerAuthorizer is zero and the signer is not the payer (EIP-1271 wallets need the chain)"};
  } else if (auto expected = args->option("signer")) {
    auto want = parse_address(*expected);
    if (!want) return report("voucher verify", want.error());
    if (*want != *signer)
      problem = Error{ErrorCode::invalid_batch_settlement_evm_voucher_signature, "signed by another address"};
  } else {
    return report("voucher verify",
                  Error{ErrorCode::invalid_payload, "give a channelConfig in the input or --signer ADDR"});
  }
  std::cout << R"({"valid":)" << (problem ? "false" : "true");
  if (signer) std::cout << R"(,"signer":")" << to_checksum_hex(*signer) << '"';
  std::cout << R"(,"digest":")" << to_hex(digest) << R"(","channelId":")" << to_hex(input->voucher.voucher.channelId)
            << '"';
  if (problem) std::cout << R"(,"reason":")" << to_string(problem->code) << '"';
  std::cout << "}\n";
  if (problem) std::cerr << "paychan voucher verify: " << problem->to_string() << '\n';
  return problem ? kExitNo : kExitOk;
}

}  // namespace

extern const Command kVoucherSign{"voucher sign", "sign a cumulative voucher with a payer authorizer key", kSignHelp,
                                  run_sign};
extern const Command kVoucherVerify{"voucher verify", "check a voucher signature as a server would", kVerifyHelp,
                                    run_verify};

}  // namespace paychan::cli
