// Helpers for the gate's tests: a paying agent built from the core library (channel/ + protocol/),
// a facilitator double, and a way to run the gate's coroutines to completion from a test thread.
//
// The facilitator double stands in for the facilitator issue's service, as issue 3 allows until
// that lands: it keeps each channel's on-chain state in memory, applies the facilitator's
// verification rules with the same pure functions (channel id, voucher and ERC-3009 signatures,
// funding), and changes balances the way the contract's deposit and refund would. It can be told
// to be unreachable, and to report a pending withdrawal, the two faults a test cannot easily make
// real without a chain.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "channel/server_rules.hpp"
#include "engine/gate/facilitator.hpp"
#include "engine/gate/gate_config.hpp"
#include "engine/http/beast.hpp"
#include "engine/http/handler.hpp"
#include "engine/http/run_blocking.hpp"
#include "protocol/headers.hpp"

namespace paychan::engine::gate::test {

inline constexpr std::uint64_t kChainId = 31337;

inline PrivateKey test_key(std::uint8_t seed) {
  Bytes32 secret{};
  secret[31] = seed;
  secret[0] = 0x11;
  return *PrivateKey::from_bytes(secret);
}

inline Address test_address(std::uint8_t seed) { return test_key(seed).address(); }

// Routes: POST /v1/infer at $0.01 (the upstream may charge less), GET /v1/stream at 5000,
// anything under /data/ at 1000. Each asks for deposits of one price at least (extra.minDeposit),
// so that an agent's own policy sizes its deposits in these tests.
inline GateConfig test_config() {
  GateConfig c;
  c.network = "eip155:31337";
  c.chainId = kChainId;
  c.asset = test_address(200);
  c.assetName = "USDC";
  c.assetVersion = "2";
  c.payTo = test_address(201);
  c.receiverAuthorizer = test_key(202).address();
  c.withdrawDelay = 3600;
  c.withdrawalSafetyMarginSeconds = 600;
  c.routes = {RouteConfig{"POST", "/v1/infer", 10'000, "inference", "application/json", 10'000},
              RouteConfig{"GET", "/v1/stream", 5'000, std::nullopt, std::nullopt, 5'000},
              RouteConfig{"", "/data/*", 1'000, std::nullopt, std::nullopt, 1'000}};
  return c;
}

// A PAYMENT-SIGNATURE header carrying `payload` under `accepted`.
inline std::string encode_payment(const protocol::PaymentRequirements& accepted, protocol::BatchSettlementPayload payload) {
  protocol::PaymentPayload p;
  p.accepted = accepted;
  p.payload = std::move(payload);
  return protocol::encode_payment_signature(p);
}

// An agent paying into one channel, building its headers with the core library only.
class TestAgent {
 public:
  TestAgent(const PrivateKey& payer, const GateConfig& gate, std::uint8_t salt)
      : TestAgent(payer, gate, [salt] {
          Bytes32 s{};
          s[31] = salt;
          return s;
        }()) {}
  TestAgent(const PrivateKey& payer, const GateConfig& gate, const Bytes32& salt)
      : key_(payer), token_domain_(domain_separator(Eip712Domain{gate.assetName, gate.assetVersion, gate.chainId, gate.asset})) {
    config.payer = payer.address();
    config.payerAuthorizer = payer.address();
    config.receiver = gate.payTo;
    config.receiverAuthorizer = gate.receiverAuthorizer;
    config.token = gate.asset;
    config.withdrawDelay = gate.withdrawDelay;
    config.salt = salt;
    id = channel_id(domain_, config);
  }

  // Makes a smart-contract wallet's signature of a digest.
  using WalletSigner = std::function<WalletSignature(const Bytes32& digest)>;

  // From now on the payer is the smart-contract wallet at `wallet`, whose signatures `sign` makes.
  // It signs the deposit authorizations, and the vouchers when `payerAuthorizer` is zero (EIP-1271);
  // otherwise the agent's key signs them, and must be `payerAuthorizer` (a session key).
  void pay_from_wallet(const Address& wallet, WalletSigner sign, const Address& payerAuthorizer) {
    config.payer = wallet;
    config.payerAuthorizer = payerAuthorizer;
    id = channel_id(domain_, config);
    wallet_ = std::move(sign);
  }

  [[nodiscard]] SignedVoucher voucher(Uint128 cumulative) const {
    const Voucher v{id, cumulative};
    const Bytes32 digest = voucher_digest(domain_, v);
    if (wallet_ && config.payerAuthorizer.is_zero()) return SignedVoucher{v, wallet_(digest)};
    return SignedVoucher{v, key_.sign(digest)};
  }

  [[nodiscard]] std::string voucher_header(const protocol::PaymentRequirements& accepted, Uint128 cumulative) const {
    return encode_payment(accepted, protocol::VoucherPayload{config, voucher(cumulative)});
  }

  // The same voucher with the other of v = 27/28: r‖s still verify against the payer's key, but
  // the chain's ecrecover would give another address.
  [[nodiscard]] std::string voucher_header_with_the_other_v(const protocol::PaymentRequirements& accepted,
                                                            Uint128 cumulative) const {
    SignedVoucher v = voucher(cumulative);
    Signature flipped = *v.signature.ecdsa();
    flipped[64] = flipped[64] == 27 ? 28 : 27;
    v.signature = flipped;
    return encode_payment(accepted, protocol::VoucherPayload{config, v});
  }

  [[nodiscard]] std::string deposit_header(const protocol::PaymentRequirements& accepted, Uint128 cumulative,
                                           Uint128 amount) const {
    protocol::Erc3009DepositAuthorization auth;
    auth.validAfter = U256{0};
    auth.validBefore = U256{Uint128{4'000'000'000}};
    auth.salt[0] = 0x5a;
    auth.salt[31] = static_cast<std::uint8_t>(deposits_++);
    const Erc3009Authorization message{config.payer, kErc3009CollectorAddress, U256{amount}, auth.validAfter,
                                       auth.validBefore, deposit_nonce(id, auth.salt)};
    const Bytes32 digest = receive_with_authorization_digest(token_domain_, message);
    auth.signature = wallet_ ? wallet_(digest) : WalletSignature{key_.sign(digest)};
    protocol::Deposit deposit{amount, auth, std::nullopt};
    return encode_payment(accepted, protocol::DepositPayload{config, voucher(cumulative), deposit});
  }

  // With `authorizer_signatures`, the payload also carries both receiverAuthorizer signatures, as
  // the payer made them (a server must not forward them).
  [[nodiscard]] std::string refund_header(const protocol::PaymentRequirements& accepted, Uint128 charged,
                                          std::optional<Uint128> amount = std::nullopt,
                                          std::optional<Signature> authorizer_signatures = std::nullopt) const {
    protocol::RefundPayload r;
    r.channelConfig = config;
    r.voucher = voucher(charged);
    r.amount = amount;
    r.refundAuthorizerSignature = authorizer_signatures;
    r.claimAuthorizerSignature = authorizer_signatures;
    return encode_payment(accepted, r);
  }

  ChannelConfig config;
  Bytes32 id{};

 private:
  PrivateKey key_;
  Bytes32 domain_ = batch_settlement_domain_separator(kChainId);
  Bytes32 token_domain_;
  mutable unsigned deposits_ = 0;
  WalletSigner wallet_;  // set when the payer is a smart-contract wallet
};

class FacilitatorDouble final : public Facilitator {
 public:
  std::atomic<bool> down{false};
  std::atomic<int> verifies{0};
  std::atomic<int> settles{0};

  void set_withdrawal(const Bytes32& id, std::uint64_t at) {
    std::lock_guard lock(mutex_);
    chain_[id].withdrawRequestedAt = at;
  }
  // A claim landed on chain (by the settle job, or before the gate lost its store).
  void set_claimed(const Bytes32& id, Uint128 totalClaimed) {
    std::lock_guard lock(mutex_);
    chain_[id].totalClaimed = totalClaimed;
  }
  [[nodiscard]] OnchainChannelState onchain(const Bytes32& id) {
    std::lock_guard lock(mutex_);
    return chain_[id];
  }

  http::Awaitable<Result<protocol::VerifyResponse>> verify(const protocol::FacilitatorRequest& request) override {
    co_return verify_now(request);
  }
  http::Awaitable<Result<protocol::SettlementResponse>> settle(const protocol::FacilitatorRequest& request) override {
    co_return settle_now(request);
  }

  Result<protocol::VerifyResponse> verify_now(const protocol::FacilitatorRequest& request) {
    if (down) return fail(ErrorCode::facilitator_unavailable, "double is down");
    ++verifies;
    std::lock_guard lock(mutex_);
    protocol::VerifyResponse r;
    const auto* batch = protocol::batch_payload(request.paymentPayload);
    const ChannelConfig* config = nullptr;
    const SignedVoucher* voucher = nullptr;
    PayloadType type = PayloadType::voucher;
    Uint128 deposit = 0;
    if (const auto* d = std::get_if<protocol::DepositPayload>(batch)) {
      config = &d->channelConfig, voucher = &d->voucher, type = PayloadType::deposit, deposit = d->deposit.amount;
      if (Status s = check_deposit(*d, request.paymentRequirements); !s) return invalid(r, s.error());
    } else if (const auto* v = std::get_if<protocol::VoucherPayload>(batch)) {
      config = &v->channelConfig, voucher = &v->voucher;
    } else if (const auto* f = std::get_if<protocol::RefundPayload>(batch)) {
      config = &f->channelConfig, voucher = &f->voucher, type = PayloadType::refund;
    } else {
      return invalid(r, Error{ErrorCode::invalid_batch_settlement_evm_payload_type, ""});
    }
    auto sig = check_voucher_signature(domain_, *config, voucher->voucher.channelId, *voucher);
    if (!sig) return invalid(r, sig.error());
    const OnchainChannelState& state = chain_[voucher->voucher.channelId];
    if (Status s = check_funding(type, state, deposit, voucher->voucher.maxClaimableAmount); !s) return invalid(r, s.error());
    r.isValid = true;
    r.payer = to_hex(config->payer.bytes);
    r.extra = protocol::make_verify_extra(snapshot(voucher->voucher.channelId));
    return r;
  }

  Result<protocol::SettlementResponse> settle_now(const protocol::FacilitatorRequest& request) {
    if (down) return fail(ErrorCode::facilitator_unavailable, "double is down");
    ++settles;
    std::lock_guard lock(mutex_);
    protocol::SettlementResponse r;
    r.network = request.paymentRequirements.network;
    const auto* batch = protocol::batch_payload(request.paymentPayload);
    Bytes32 id{};
    if (const auto* d = std::get_if<protocol::DepositPayload>(batch)) {
      if (Status s = check_deposit(*d, request.paymentRequirements); !s) return refused(r, s.error());
      id = d->voucher.voucher.channelId;
      used_nonces_.insert(deposit_nonce(id, d->deposit.erc3009Authorization->salt));
      chain_[id].balance += d->deposit.amount;
      r.amount = to_decimal(d->deposit.amount);
      if (lose_next_settle_reply.exchange(false)) return fail(ErrorCode::facilitator_unavailable, "reply lost");
    } else if (const auto* f = std::get_if<protocol::RefundPayload>(batch)) {
      id = f->voucher.voucher.channelId;
      OnchainChannelState& s = chain_[id];
      if (!f->amount || !f->refundNonce || *f->refundNonce != s.refundNonce || f->claims.size() != 1)
        return refused(r, Error{ErrorCode::invalid_batch_settlement_evm_refund_payload, "incomplete"});
      const Uint128 claimed = f->claims[0].totalClaimed;
      if (claimed < s.totalClaimed || claimed > s.balance || *f->amount > s.balance - claimed)
        return refused(r, Error{ErrorCode::invalid_batch_settlement_evm_refund_amount_invalid, ""});
      s.totalClaimed = claimed;
      s.balance -= *f->amount;
      s.refundNonce = *s.refundNonce.next();
      r.amount = to_decimal(*f->amount);
    } else if (const auto* c = std::get_if<protocol::ClaimPayload>(batch)) {
      return claim(r, *c, protocol::encode_facilitator_request(request));
    } else if (std::get_if<protocol::SettlePayload>(batch)) {
      if (unsettled_ == 0) return refused(r, Error{ErrorCode::invalid_batch_settlement_evm_nothing_to_settle, ""});
      r.amount = to_decimal(unsettled_);
      settled_ += unsettled_;
      unsettled_ = 0;
      r.success = true;
      r.transaction = next_tx();
      return r;
    } else {
      return refused(r, Error{ErrorCode::invalid_batch_settlement_evm_unknown_settle_action, ""});
    }
    r.success = true;
    r.transaction = next_tx();
    r.extra = protocol::make_response_extra(protocol::BatchSettlementResponseExtra{std::nullopt, snapshot(id), std::nullopt});
    return r;
  }

  // Claims executed on "chain" (each distinct request once), and funds claimed / swept to the receiver.
  int claims_executed = 0;
  // The next claim executes but its answer is lost (a facilitator timing out after submitting).
  std::atomic<bool> lose_next_claim_reply{false};
  // The same for the next deposit: it lands "on chain", and the gate hears nothing.
  std::atomic<bool> lose_next_settle_reply{false};
  // A claim with one of these channels passes every check, is "mined" and reverts, as a claim
  // that passes simulation can (an EIP-1271 payer wallet answering differently in a real block):
  // a transaction and claim_transaction_failed, nothing claimed. That is what our facilitator
  // answers to a real mined revert (FacilitatorChainTest.AClaimMinedAndRevertedIsAnsweredWith…,
  // staged on anvil with a front-running withdrawal). The settle job's tests keep the double: they
  // need reverts on demand, run after run, which each take such staging on a chain.
  void revert_claims_of(const Bytes32& id, bool revert) {
    std::lock_guard lock(mutex_);
    if (revert) reverting_.insert(id); else reverting_.erase(id);
  }
  int claims_reverted = 0;
  // Refuses every claim before the chain, as our facilitator does while its node is down.
  std::atomic<bool> node_down{false};
  int claims_refused_node_down = 0;
  [[nodiscard]] Uint128 settled() {
    std::lock_guard lock(mutex_);
    return settled_;
  }
  [[nodiscard]] Uint128 unsettled() {
    std::lock_guard lock(mutex_);
    return unsettled_;
  }

 private:
  // As the contract's claim: every row's voucher must be signed and cover its totalClaimed, which
  // never goes backwards; a request already executed returns its recorded outcome (as a
  // facilitator's journal does) instead of executing twice.
  Result<protocol::SettlementResponse> claim(protocol::SettlementResponse& r, const protocol::ClaimPayload& c,
                                             const std::string& key) {
    if (auto done = executed_.find(key); done != executed_.end()) return done->second;
    if (node_down) {
      ++claims_refused_node_down;
      return refused(r, Error{ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "eth_estimateGas: connection refused"});
    }
    for (const auto& row : c.claims) {
      const Bytes32 id = channel_id(domain_, row.channel);
      const SignedVoucher voucher{Voucher{id, row.maxClaimableAmount}, row.signature};
      if (!check_voucher_signature(domain_, row.channel, id, voucher))
        return refused(r, Error{ErrorCode::invalid_batch_settlement_evm_voucher_signature, ""});
      const OnchainChannelState& s = chain_[id];
      if (row.totalClaimed > row.maxClaimableAmount || row.totalClaimed > s.balance || row.totalClaimed < s.totalClaimed)
        return refused(r, Error{ErrorCode::invalid_batch_settlement_evm_claim_payload, "row out of range"});
    }
    for (const auto& row : c.claims) {
      if (!reverting_.contains(channel_id(domain_, row.channel))) continue;
      ++claims_reverted;
      r.transaction = next_tx();  // mined, reverted: not recorded, so a retry executes afresh
      return refused(r, Error{ErrorCode::invalid_batch_settlement_evm_claim_transaction_failed, "execution reverted"});
    }
    for (const auto& row : c.claims) {
      OnchainChannelState& s = chain_[channel_id(domain_, row.channel)];
      unsettled_ += row.totalClaimed - s.totalClaimed;
      s.totalClaimed = row.totalClaimed;
    }
    ++claims_executed;
    r.success = true;
    r.transaction = next_tx();
    executed_.emplace(key, r);
    if (lose_next_claim_reply.exchange(false)) return fail(ErrorCode::facilitator_unavailable, "reply lost");
    return r;
  }

  std::string next_tx() {
    Bytes32 tx{};
    tx[31] = static_cast<std::uint8_t>(settles);
    tx[30] = static_cast<std::uint8_t>(settles >> 8);
    return to_hex(tx);
  }

  Status check_deposit(const protocol::DepositPayload& d, const protocol::PaymentRequirements& req) {
    if (!d.deposit.erc3009Authorization) return fail(ErrorCode::invalid_batch_settlement_evm_erc3009_authorization_required, "");
    const auto& auth = *d.deposit.erc3009Authorization;
    auto extra = protocol::batch_settlement_extra(req);
    if (!extra) return extra.failure();
    const Bytes32 token_domain =
        domain_separator(Eip712Domain{extra->name, extra->version, kChainId, d.channelConfig.token});
    const Bytes32 nonce = deposit_nonce(d.voucher.voucher.channelId, auth.salt);
    const Erc3009Authorization message{d.channelConfig.payer, kErc3009CollectorAddress, U256{d.deposit.amount},
                                       auth.validAfter, auth.validBefore, nonce};
    if (!signed_by(receive_with_authorization_digest(token_domain, message), auth.signature, d.channelConfig.payer))
      return fail(ErrorCode::invalid_batch_settlement_evm_receive_authorization_signature, "");
    if (used_nonces_.contains(nonce))
      return fail(ErrorCode::invalid_batch_settlement_evm_receive_authorization_signature, "nonce used");
    return {};
  }

  protocol::ChannelSnapshot snapshot(const Bytes32& id) {
    const OnchainChannelState& s = chain_[id];
    return protocol::ChannelSnapshot{id, s.balance, s.totalClaimed, s.withdrawRequestedAt, s.refundNonce, std::nullopt};
  }

  static Result<protocol::VerifyResponse> invalid(protocol::VerifyResponse& r, const Error& e) {
    r.isValid = false;
    r.invalidReason = std::string(to_string(e.code));
    r.invalidMessage = e.detail;
    return r;
  }
  static Result<protocol::SettlementResponse> refused(protocol::SettlementResponse& r, const Error& e) {
    r.success = false;
    r.errorReason = std::string(to_string(e.code));
    return r;
  }

  std::mutex mutex_;
  std::map<Bytes32, OnchainChannelState> chain_;
  std::set<Bytes32> used_nonces_;
  std::set<Bytes32> reverting_;
  std::map<std::string, protocol::SettlementResponse> executed_;
  Uint128 unsettled_ = 0;
  Uint128 settled_ = 0;
  Bytes32 domain_ = batch_settlement_domain_separator(kChainId);
};

// The double behind an engine/http server, as a facilitator's /verify and /settle.
inline http::Handled serve_facilitator(FacilitatorDouble& facilitator, http::Exchange& ex) {
  auto request = protocol::decode_facilitator_request(ex.request().body());
  if (!request) {
    ex.response().set(400, "application/json", "{}");
    return std::nullopt;
  }
  if (ex.request().path() == "/verify") {
    auto r = facilitator.verify_now(*request);
    if (r) ex.response().set(200, "application/json", protocol::encode_verify_response(*r));
    else ex.response().set(503, "application/json", "{}");
  } else if (ex.request().path() == "/settle") {
    auto r = facilitator.settle_now(*request);
    if (r) ex.response().set(200, "application/json", protocol::encode_settlement_response(*r));
    else ex.response().set(503, "application/json", "{}");
  } else {
    ex.response().set(404, "application/json", "{}");
  }
  return std::nullopt;
}

}  // namespace paychan::engine::gate::test
