// The hot path of a paid request and its parts, measured in one run so the ratios are honest:
//   BM_Secp256k1RecoverBare   libsecp256k1's own parse + recover: the floor everything is compared to
//   BM_PaidVoucherPath        decode a PAYMENT-SIGNATURE voucher header + check it against channel
//                             state + commit the charge (what the gate does per paid request)
// Inputs vary every iteration (a ring of pre-signed vouchers on distinct channels) and every
// result is checked once before timing and kept alive while timing.
#include <benchmark/benchmark.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <cstring>
#include <unordered_map>
#include <vector>

#include "channel/ecdsa.hpp"
#include "channel/eip712.hpp"
#include "channel/keccak.hpp"
#include "channel/server_rules.hpp"
#include "protocol/headers.hpp"
#include "protocol/offer_match.hpp"
#include "protocol/payment_signature_decoder.hpp"

namespace paychan {
namespace {

constexpr std::size_t kRing = 256;
constexpr Uint128 kPrice = 10'000;

Address address(std::uint8_t tag) {
  Address a;
  a.bytes.fill(tag);
  return a;
}

// One provider, kRing agents, each with one open channel and a signed voucher for its next request.
struct Fixture {
  Bytes32 domain = batch_settlement_domain_separator(84532);
  protocol::PaymentRequirements offer;
  OfferTerms terms{address(0xcc), address(0xaa), address(0xbb), 900, kPrice};
  std::vector<std::string> headers;               // PAYMENT-SIGNATURE values, one per channel
  std::vector<std::string> successive;            // the first channel's next vouchers, in order
  std::vector<Bytes32> digests;                   // the voucher digests, for the crypto-only rows
  std::vector<Signature> signatures;
  std::unordered_map<Bytes32, ChannelState, decltype([](const Bytes32& b) {
                       std::size_t h;
                       std::memcpy(&h, b.data(), sizeof h);
                       return h;
                     })>
      channels;

  Fixture() {
    offer = {"batch-settlement", "eip155:84532", "10000", to_checksum_hex(terms.asset), to_checksum_hex(terms.payTo), 300,
             protocol::make_extra({terms.receiverAuthorizer, 900, "USDC", "2", {}, {}, {}})};
    for (std::size_t i = 0; i < kRing; ++i) {
      Bytes32 secret{};
      secret[0] = 1;
      secret[31] = static_cast<std::uint8_t>(i);
      secret[30] = static_cast<std::uint8_t>(i >> 8);
      const PrivateKey agent = *PrivateKey::from_bytes(secret);
      const ChannelConfig config{agent.address(), agent.address(), terms.payTo, terms.receiverAuthorizer,
                                 terms.asset, 900, secret};
      ChannelState state;
      state.channelId = channel_id(domain, config);
      state.config = config;
      state.chargedCumulativeAmount = 70'000 + i;
      state.onchain.balance = 10'000'000;
      channels.emplace(state.channelId, state);

      const Voucher v{state.channelId, state.chargedCumulativeAmount + kPrice};
      const SignedVoucher sv{v, agent.sign(voucher_digest(domain, v))};
      protocol::PaymentPayload p;
      p.resource = protocol::ResourceInfo{"http://127.0.0.1:8402/v1/chat/completions", "chat completion",
                                          "application/json"};
      p.accepted = offer;
      p.payload = protocol::BatchSettlementPayload{protocol::VoucherPayload{config, sv}};
      headers.push_back(protocol::encode_payment_signature(p));
      if (i == 0) {
        for (std::size_t k = 0; k < kRing; ++k) {
          const Voucher next{state.channelId, v.maxClaimableAmount + k * kPrice};
          p.payload = protocol::BatchSettlementPayload{
              protocol::VoucherPayload{config, SignedVoucher{next, agent.sign(voucher_digest(domain, next))}}};
          successive.push_back(protocol::encode_payment_signature(p));
        }
      }
      digests.push_back(voucher_digest(domain, v));
      signatures.push_back(*sv.signature.ecdsa());
    }
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

// The gate's per-request work on an EOA voucher with a fresh on-chain mirror.
Result<ChannelState> paid_voucher_path(const Fixture& f, std::string_view header) {
  auto payment = protocol::decode_payment_signature(header);
  if (!payment) return payment.failure();
  if (auto i = protocol::match_offer(payment->accepted, {&f.offer, 1}); !i) return i.failure();
  const auto* batch = protocol::batch_payload(*payment);
  const auto* voucher = batch ? std::get_if<protocol::VoucherPayload>(batch) : nullptr;
  if (voucher == nullptr) return fail(ErrorCode::invalid_batch_settlement_evm_payload_type);
  const auto it = f.channels.find(voucher->voucher.voucher.channelId);
  if (it == f.channels.end()) return fail(ErrorCode::invalid_batch_settlement_evm_missing_channel);
  const ChannelState& state = it->second;
  PAYCHAN_TRY(check_offer_terms(f.terms, voucher->channelConfig));
  // A known channel's config was hashed when it was first seen: equality replaces re-hashing.
  if (voucher->channelConfig != state.config) return fail(ErrorCode::invalid_batch_settlement_evm_channel_id_mismatch);
  auto sig = check_voucher_signature(f.domain, state.config, state.channelId, voucher->voucher);
  if (!sig) return sig.failure();
  const Uint128 max = voucher->voucher.voucher.maxClaimableAmount;
  PAYCHAN_TRY(check_cumulative(PayloadType::voucher, state.chargedCumulativeAmount, kPrice, max));
  PAYCHAN_TRY(check_funding(PayloadType::voucher, state.onchain, 0, max));
  return commit_charge(state, voucher->voucher, kPrice, kPrice * 7 / 10, 1);
}

void BM_Keccak256_64B(benchmark::State& s) {
  std::uint8_t data[64] = {};
  for (auto _ : s) {
    ++data[0];
    benchmark::DoNotOptimize(keccak256(ByteView{data, sizeof data}));
  }
}

void BM_VoucherDigest(benchmark::State& s) {
  const Bytes32 domain = fixture().domain;
  Voucher v{};
  for (auto _ : s) {
    ++v.maxClaimableAmount;
    benchmark::DoNotOptimize(voucher_digest(domain, v));
  }
}

void BM_ChannelId(benchmark::State& s) {
  const Bytes32 domain = fixture().domain;
  ChannelConfig c{};
  for (auto _ : s) {
    ++c.salt[0];
    benchmark::DoNotOptimize(channel_id(domain, c));
  }
}

void BM_Secp256k1RecoverBare(benchmark::State& s) {
  const Fixture& f = fixture();
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  std::size_t i = 0;
  for (auto _ : s) {
    const Signature& sig = f.signatures[i % kRing];
    secp256k1_ecdsa_recoverable_signature parsed;
    secp256k1_pubkey pubkey;
    const int ok = secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &parsed, sig.data(), sig[64] - 27) &&
                   secp256k1_ecdsa_recover(ctx, &pubkey, &parsed, f.digests[i % kRing].data());
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(pubkey);
    ++i;
  }
  secp256k1_context_destroy(ctx);
}

void BM_RecoverSigner(benchmark::State& s) {
  const Fixture& f = fixture();
  std::size_t i = 0;
  for (auto _ : s) {
    benchmark::DoNotOptimize(recover_signer(f.digests[i % kRing], f.signatures[i % kRing]));
    ++i;
  }
}

// What the gate does for a channel's later vouchers, once the first revealed the payer's key.
void BM_VerifySignatureKnownKey(benchmark::State& s) {
  const Fixture& f = fixture();
  std::vector<PublicKey> keys;
  for (std::size_t i = 0; i < kRing; ++i) keys.push_back(recover_signer_key(f.digests[i], f.signatures[i])->key);
  std::size_t i = 0;
  for (auto _ : s) {
    benchmark::DoNotOptimize(verify_signature(f.digests[i % kRing], f.signatures[i % kRing], keys[i % kRing]));
    ++i;
  }
}

void BM_Sign(benchmark::State& s) {
  Bytes32 secret{};
  secret[31] = 7;
  const PrivateKey key = *PrivateKey::from_bytes(secret);
  Bytes32 digest{};
  for (auto _ : s) {
    ++digest[0];
    benchmark::DoNotOptimize(key.sign(digest));
  }
}

void BM_DecodePaymentSignature(benchmark::State& s) {
  const Fixture& f = fixture();
  std::size_t i = 0;
  for (auto _ : s) benchmark::DoNotOptimize(protocol::decode_payment_signature(f.headers[i++ % kRing]));
}

// An agent's vouchers in turn on one connection, through the gate's decoder for it: each is read
// from the one before (PaymentSignatureDecoder), against BM_DecodePaymentSignature's full decode.
void BM_DecodeNextVoucherOnAConnection(benchmark::State& s) {
  const Fixture& f = fixture();
  protocol::PaymentSignatureDecoder decoder;
  std::size_t i = 0;
  for (auto _ : s) benchmark::DoNotOptimize(decoder.decode(f.successive[i++ % kRing]));
  if (decoder.repeats() + 1 < i) s.SkipWithError("a voucher was not read from the one before");
}

void BM_PaidVoucherPath(benchmark::State& s) {
  const Fixture& f = fixture();
  for (const auto& h : f.headers)
    if (!paid_voucher_path(f, h)) s.SkipWithError("a fixture voucher was refused");
  std::size_t i = 0;
  for (auto _ : s) benchmark::DoNotOptimize(paid_voucher_path(f, f.headers[i++ % kRing]));
}

void BM_EncodePaymentResponse(benchmark::State& s) {
  protocol::SettlementResponse r;
  r.success = true;
  r.network = "eip155:84532";
  r.payer = to_checksum_hex(address(0x11));
  r.amount = "";
  protocol::ChannelSnapshot snap{Bytes32{}, 10'000'000, 0, 0, U256{}, Uint128{77'000}};
  for (auto _ : s) {
    ++snap.chargedCumulativeAmount.value();
    r.extra = protocol::make_response_extra({Uint128{7000}, snap, {}});
    benchmark::DoNotOptimize(protocol::encode_payment_response(r));
  }
}

BENCHMARK(BM_Keccak256_64B);
BENCHMARK(BM_VoucherDigest);
BENCHMARK(BM_ChannelId);
BENCHMARK(BM_Secp256k1RecoverBare);
BENCHMARK(BM_RecoverSigner);
BENCHMARK(BM_VerifySignatureKnownKey);
BENCHMARK(BM_Sign);
BENCHMARK(BM_DecodePaymentSignature);
BENCHMARK(BM_DecodeNextVoucherOnAConnection);
BENCHMARK(BM_PaidVoucherPath);
BENCHMARK(BM_EncodePaymentResponse);

}  // namespace
}  // namespace paychan

BENCHMARK_MAIN();
