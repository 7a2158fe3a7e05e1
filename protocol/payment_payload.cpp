#include "protocol/payment_payload.hpp"

#include <cstddef>
#include <functional>

#include "protocol/codec_parts.hpp"

namespace paychan::protocol {
namespace {

constexpr std::size_t kMaxClaims = 1000;

Result<Deposit> read_deposit(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  Deposit d;
  PAYCHAN_ASSIGN(d.amount, f.uint128("amount"));
  const Fields auth = f.object("authorization");
  PAYCHAN_TRY(auth.is_object());
  const bool erc3009 = auth.has("erc3009Authorization");
  if (erc3009 == auth.has("permit2Authorization"))
    return auth.error("", "needs exactly one of erc3009Authorization and permit2Authorization");
  if (erc3009) {
    const Fields e = auth.object("erc3009Authorization");
    PAYCHAN_TRY(e.is_object());
    Erc3009DepositAuthorization a;
    PAYCHAN_ASSIGN(a.validAfter, e.u256("validAfter"));
    PAYCHAN_ASSIGN(a.validBefore, e.u256("validBefore"));
    PAYCHAN_ASSIGN(a.salt, e.bytes32("salt"));
    PAYCHAN_ASSIGN(a.signature, e.wallet_signature("signature"));
    d.erc3009Authorization = a;
  } else {
    const Fields p = auth.object("permit2Authorization");
    PAYCHAN_TRY(p.is_object());
    const Fields permitted = p.object("permitted");
    const Fields witness = p.object("witness");
    Permit2DepositAuthorization a;
    PAYCHAN_ASSIGN(a.from, p.address("from"));
    PAYCHAN_ASSIGN(a.token, permitted.address("token"));
    PAYCHAN_ASSIGN(a.amount, permitted.u256("amount"));
    PAYCHAN_ASSIGN(a.spender, p.address("spender"));
    PAYCHAN_ASSIGN(a.nonce, p.u256("nonce"));
    PAYCHAN_ASSIGN(a.deadline, p.u256("deadline"));
    PAYCHAN_ASSIGN(a.channelId, witness.bytes32("channelId"));
    PAYCHAN_ASSIGN(a.signature, p.wallet_signature("signature"));
    d.permit2Authorization = a;
  }
  return d;
}

void write_deposit(JsonWriter& w, const Deposit& d) {
  w.object("deposit").amount("amount", d.amount).object("authorization");
  if (d.erc3009Authorization) {
    const auto& a = *d.erc3009Authorization;
    w.object("erc3009Authorization").amount("validAfter", a.validAfter).amount("validBefore", a.validBefore);
    w.hex("salt", a.salt).hex("signature", a.signature).end();
  } else if (d.permit2Authorization) {
    const auto& a = *d.permit2Authorization;
    w.object("permit2Authorization").address("from", a.from);
    w.object("permitted").address("token", a.token).amount("amount", a.amount).end();
    w.address("spender", a.spender).amount("nonce", a.nonce).amount("deadline", a.deadline);
    w.object("witness").hex("channelId", a.channelId).end();
    w.hex("signature", a.signature).end();
  }
  w.end().end();
}

Result<std::vector<VoucherClaimRow>> read_claims(const Fields& f) {
  const rapidjson::Value* claims = nullptr;
  PAYCHAN_ASSIGN(claims, f.value("claims"));
  if (!claims->IsArray()) return f.error("claims", "must be an array");
  if (claims->Size() > kMaxClaims) return f.error("claims", "has more than 1000 rows");
  std::vector<VoucherClaimRow> rows;
  for (rapidjson::SizeType i = 0; i < claims->Size(); ++i) {
    const Fields row((*claims)[i], f.path() + ".claims[" + std::to_string(i) + "]", ErrorCode::invalid_batch_settlement_evm_claim_payload);
    PAYCHAN_TRY(row.is_object());
    const Fields voucher = row.object("voucher");
    VoucherClaimRow r;
    PAYCHAN_ASSIGN(r.channel, read_channel_config(voucher.object("channel")));
    PAYCHAN_ASSIGN(r.maxClaimableAmount, voucher.uint128("maxClaimableAmount"));
    PAYCHAN_ASSIGN(r.signature, row.wallet_signature("signature"));
    PAYCHAN_ASSIGN(r.totalClaimed, row.uint128("totalClaimed"));
    rows.push_back(r);
  }
  return rows;
}

void write_claims(JsonWriter& w, const std::vector<VoucherClaimRow>& rows) {
  w.begin_array("claims");
  for (const auto& r : rows) {
    w.begin().object("voucher");
    write_channel_config(w, "channel", r.channel);
    w.amount("maxClaimableAmount", r.maxClaimableAmount).end();
    w.hex("signature", r.signature).amount("totalClaimed", r.totalClaimed).end();
  }
  w.end_array();
}

template <typename T>
Result<std::optional<T>> optional_field(const Fields& f, const char* name, Result<T> (Fields::*read)(const char*) const) {
  if (!f.has(name)) return std::optional<T>{};
  auto v = (f.*read)(name);
  if (!v) return v.failure();
  return std::optional<T>{*v};
}

Result<BatchSettlementPayload> read_batch(const rapidjson::Value& v, const std::string& path) {
  const Fields untyped(v, path, ErrorCode::invalid_batch_settlement_evm_payload_type);
  PAYCHAN_TRY(untyped.is_object());
  std::string type;
  PAYCHAN_ASSIGN(type, untyped.string("type"));
  auto fields = [&](ErrorCode code) { return Fields(v, path, code); };
  if (type == "voucher") {
    const Fields f = fields(ErrorCode::invalid_batch_settlement_evm_voucher_payload);
    VoucherPayload p;
    PAYCHAN_ASSIGN(p.channelConfig, read_channel_config(f.object("channelConfig")));
    PAYCHAN_ASSIGN(p.voucher, read_voucher(f.object("voucher")));
    return BatchSettlementPayload{p};
  }
  if (type == "deposit") {
    const Fields f = fields(ErrorCode::invalid_batch_settlement_evm_deposit_payload);
    DepositPayload p;
    PAYCHAN_ASSIGN(p.channelConfig, read_channel_config(f.object("channelConfig")));
    PAYCHAN_ASSIGN(p.voucher, read_voucher(f.object("voucher")));
    PAYCHAN_ASSIGN(p.deposit, read_deposit(f.object("deposit")));
    return BatchSettlementPayload{p};
  }
  if (type == "refund") {
    const Fields f = fields(ErrorCode::invalid_batch_settlement_evm_refund_payload);
    RefundPayload p;
    PAYCHAN_ASSIGN(p.channelConfig, read_channel_config(f.object("channelConfig")));
    PAYCHAN_ASSIGN(p.voucher, read_voucher(f.object("voucher")));
    PAYCHAN_ASSIGN(p.amount, optional_field(f, "amount", &Fields::uint128));
    PAYCHAN_ASSIGN(p.refundNonce, optional_field(f, "refundNonce", &Fields::u256));
    if (f.has("claims")) {
      PAYCHAN_ASSIGN(p.claims, read_claims(f));
    }
    PAYCHAN_ASSIGN(p.refundAuthorizerSignature, optional_field(f, "refundAuthorizerSignature", &Fields::signature));
    PAYCHAN_ASSIGN(p.claimAuthorizerSignature, optional_field(f, "claimAuthorizerSignature", &Fields::signature));
    return BatchSettlementPayload{p};
  }
  if (type == "claim") {
    const Fields f = fields(ErrorCode::invalid_batch_settlement_evm_claim_payload);
    ClaimPayload p;
    PAYCHAN_ASSIGN(p.claims, read_claims(f));
    PAYCHAN_ASSIGN(p.claimAuthorizerSignature, optional_field(f, "claimAuthorizerSignature", &Fields::signature));
    return BatchSettlementPayload{p};
  }
  if (type == "settle") {
    const Fields f = fields(ErrorCode::invalid_batch_settlement_evm_settle_payload);
    SettlePayload p;
    PAYCHAN_ASSIGN(p.receiver, f.address("receiver"));
    PAYCHAN_ASSIGN(p.token, f.address("token"));
    return BatchSettlementPayload{p};
  }
  return untyped.error("type", "is not deposit, voucher, refund, claim or settle");
}

struct BatchWriter {
  JsonWriter& w;
  void operator()(const VoucherPayload& p) const {
    w.begin().str("type", "voucher");
    write_channel_config(w, "channelConfig", p.channelConfig);
    write_voucher(w, "voucher", p.voucher);
    w.end();
  }
  void operator()(const DepositPayload& p) const {
    w.begin().str("type", "deposit");
    write_channel_config(w, "channelConfig", p.channelConfig);
    write_voucher(w, "voucher", p.voucher);
    write_deposit(w, p.deposit);
    w.end();
  }
  void operator()(const RefundPayload& p) const {
    w.begin().str("type", "refund");
    write_channel_config(w, "channelConfig", p.channelConfig);
    write_voucher(w, "voucher", p.voucher);
    if (p.amount) w.amount("amount", *p.amount);
    if (p.refundNonce) w.amount("refundNonce", *p.refundNonce);
    if (!p.claims.empty() || p.refundNonce) write_claims(w, p.claims);
    if (p.refundAuthorizerSignature) w.hex("refundAuthorizerSignature", *p.refundAuthorizerSignature);
    if (p.claimAuthorizerSignature) w.hex("claimAuthorizerSignature", *p.claimAuthorizerSignature);
    w.end();
  }
  void operator()(const ClaimPayload& p) const {
    w.begin().str("type", "claim");
    write_claims(w, p.claims);
    if (p.claimAuthorizerSignature) w.hex("claimAuthorizerSignature", *p.claimAuthorizerSignature);
    w.end();
  }
  void operator()(const SettlePayload& p) const {
    w.begin().str("type", "settle").address("receiver", p.receiver).address("token", p.token).end();
  }
};

// The spans of a voucher payload's two per-request strings in the text parsed in place (`text`);
// nullopt for another payload, or strings parsed into the arena (non-ASCII text is not parsed in
// place). The members exist: the payload was read from this tree.
std::optional<VoucherValueSpans> voucher_value_spans(const rapidjson::Value& root, const PaymentPayload& p,
                                                     const std::string& text) {
  const auto* batch = batch_payload(p);
  if (batch == nullptr || !std::holds_alternative<VoucherPayload>(*batch)) return std::nullopt;
  const auto member = [](const rapidjson::Value& v, const char* name) -> const rapidjson::Value* {
    if (!v.IsObject()) return nullptr;
    const auto it = v.FindMember(name);
    return it == v.MemberEnd() ? nullptr : &it->value;
  };
  const rapidjson::Value* payload = member(root, "payload");
  const rapidjson::Value* voucher = payload ? member(*payload, "voucher") : nullptr;
  const rapidjson::Value* amount = voucher ? member(*voucher, "maxClaimableAmount") : nullptr;
  const rapidjson::Value* signature = voucher ? member(*voucher, "signature") : nullptr;
  if (!amount || !signature || !amount->IsString() || !signature->IsString()) return std::nullopt;
  const std::less<const char*> before;
  const auto in_text = [&](const rapidjson::Value& s) {
    return !before(s.GetString(), text.data()) && !before(text.data() + text.size(), s.GetString() + s.GetStringLength());
  };
  if (!in_text(*amount) || !in_text(*signature)) return std::nullopt;
  const auto span = [&](const rapidjson::Value& s) {
    return TextSpan{static_cast<std::size_t>(s.GetString() - text.data()), s.GetStringLength()};
  };
  return VoucherValueSpans{span(*amount), span(*signature)};
}

}  // namespace

Result<PaymentPayload> read_payment_payload(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  PAYCHAN_TRY(check_version(f));
  PaymentPayload p;
  if (f.has("resource")) {
    PAYCHAN_ASSIGN(p.resource, read_resource(f.object("resource")));
  }
  PAYCHAN_ASSIGN(p.accepted, read_requirements(f.object("accepted")));
  const rapidjson::Value* payload = nullptr;
  PAYCHAN_ASSIGN(payload, f.value("payload"));
  const std::string path = f.path().empty() ? "payload" : f.path() + ".payload";
  if (p.accepted.scheme == kBatchSettlementScheme) {
    PAYCHAN_ASSIGN(p.payload, read_batch(*payload, path));
  } else {
    if (!payload->IsObject()) return f.error("payload", "must be a JSON object");
    p.payload = JsonAccess::from_value(*payload);
  }
  if (f.has("extensions")) {
    PAYCHAN_ASSIGN(p.extensions, f.json("extensions"));
  }
  return p;
}

void write_payment_payload(JsonWriter& w, const PaymentPayload& p) {
  w.begin().number("x402Version", p.x402Version);
  if (p.resource) write_resource(w, "resource", *p.resource);
  w.key("accepted");
  write_requirements(w, p.accepted);
  w.key("payload");
  if (const auto* batch = std::get_if<BatchSettlementPayload>(&p.payload)) {
    std::visit(BatchWriter{w}, *batch);
  } else {
    w.raw(std::get<Json>(p.payload));
  }
  if (p.extensions.present()) w.raw("extensions", p.extensions);
  w.end();
}

Result<PaymentPayload> decode_payment_payload(std::string_view json) {
  return decode_with(json, ErrorCode::invalid_payload, "", read_payment_payload);
}

Result<PaymentPayload> decode_payment_payload_in_place(std::string& json, std::optional<VoucherValueSpans>* spans) {
  if (spans != nullptr) spans->reset();
  // A PAYMENT-SIGNATURE's tree and parse stacks take about 2.5 KiB (a deposit's): they fit here,
  // so decoding one takes nothing from the heap for them (a bigger payload goes on in heap chunks).
  constexpr std::size_t kArenaBytes = 8 * 1024;
  alignas(std::max_align_t) char buffer[kArenaBytes];
  rapidjson::MemoryPoolAllocator<> arena(buffer, sizeof buffer);
  auto doc = parse_untrusted_in_place(json, arena, ErrorCode::invalid_payload);
  if (!doc) return doc.failure();
  auto payload = read_payment_payload(Fields(*doc, "", ErrorCode::invalid_payload));
  if (payload && spans != nullptr) *spans = voucher_value_spans(*doc, *payload, json);
  return payload;
}

std::string encode_payment_payload(const PaymentPayload& p) {
  JsonWriter w;
  write_payment_payload(w, p);
  return w.take();
}

const BatchSettlementPayload* batch_payload(const PaymentPayload& p) noexcept {
  return std::get_if<BatchSettlementPayload>(&p.payload);
}

}  // namespace paychan::protocol
