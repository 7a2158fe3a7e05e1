#include "protocol/requirements.hpp"

#include "protocol/codec_parts.hpp"

namespace paychan::protocol {
namespace {

constexpr std::size_t kMaxOffers = 32;
constexpr ErrorCode kCode = ErrorCode::invalid_payment_requirements;

}  // namespace

Result<PaymentRequirements> decode_payment_requirements(std::string_view json) {
  return decode_with(json, kCode, "", read_requirements);
}

std::string encode_payment_requirements(const PaymentRequirements& r) {
  JsonWriter w;
  write_requirements(w, r);
  return w.take();
}

Result<PaymentRequired> decode_payment_required(std::string_view json) {
  return decode_with(json, kCode, "", [&](const Fields& f) -> Result<PaymentRequired> {
    PAYCHAN_TRY(f.is_object());
    PAYCHAN_TRY(check_version(f));
    PaymentRequired p;
    PAYCHAN_ASSIGN(p.error, f.optional_string("error"));
    PAYCHAN_ASSIGN(p.resource, read_resource(f.object("resource")));
    const rapidjson::Value* accepts = nullptr;
    PAYCHAN_ASSIGN(accepts, f.value("accepts"));
    if (!accepts->IsArray()) return f.error("accepts", "must be an array");
    if (accepts->Size() > kMaxOffers) return f.error("accepts", "has more than 32 offers");
    for (rapidjson::SizeType i = 0; i < accepts->Size(); ++i) {
      PAYCHAN_ASSIGN(auto offer, read_requirements(Fields((*accepts)[i], "accepts[" + std::to_string(i) + "]", kCode)));
      p.accepts.push_back(std::move(offer));
    }
    if (f.has("extensions")) {
      PAYCHAN_ASSIGN(p.extensions, f.json("extensions"));
    }
    return p;
  });
}

std::string encode_payment_required(const PaymentRequired& p) {
  JsonWriter w;
  w.begin().number("x402Version", p.x402Version);
  if (p.error) w.str("error", *p.error);
  write_resource(w, "resource", p.resource);
  w.begin_array("accepts");
  for (const auto& r : p.accepts) write_requirements(w, r);
  w.end_array();
  if (p.extensions.present()) w.raw("extensions", p.extensions);
  return w.end().take();
}

Result<BatchSettlementExtra> batch_settlement_extra(const PaymentRequirements& r) {
  if (r.scheme != kBatchSettlementScheme)
    return fail(ErrorCode::invalid_batch_settlement_evm_scheme, "scheme is " + r.scheme);
  if (!r.extra.present()) return fail(kCode, "a batch-settlement offer needs extra");
  return decode_with(r.extra.text(), kCode, "extra", [&](const Fields& f) -> Result<BatchSettlementExtra> {
    PAYCHAN_TRY(f.is_object());
    BatchSettlementExtra e;
    PAYCHAN_ASSIGN(e.assetTransferMethod, f.optional_string("assetTransferMethod"));
    // The token's domain signs ERC-3009 deposits only: a Permit2 offer for a token without one
    // (the reference server's, for a token without EIP-2612 either) leaves it out.
    if (e.assetTransferMethod != "permit2" && (!f.has("name") || !f.has("version")))
      return fail(ErrorCode::invalid_batch_settlement_evm_missing_eip712_domain, "extra needs the token's name and version");
    PAYCHAN_ASSIGN(e.receiverAuthorizer, f.address("receiverAuthorizer"));
    PAYCHAN_ASSIGN(e.withdrawDelay, f.uint64("withdrawDelay"));
    if (f.has("name")) {
      PAYCHAN_ASSIGN(e.name, f.string("name"));
    }
    if (f.has("version")) {
      PAYCHAN_ASSIGN(e.version, f.string("version"));
    }
    if (f.has("minDeposit"))
      if (auto hint = f.uint128("minDeposit"); hint && *hint != 0) e.minDeposit = *hint;
    if (f.has("channelState")) {
      PAYCHAN_ASSIGN(e.channelState, read_channel_snapshot(f.object("channelState")));
    }
    if (f.has("voucherState")) {
      PAYCHAN_ASSIGN(e.voucherState, read_voucher_state(f.object("voucherState")));
    }
    return e;
  });
}

Json make_extra(const BatchSettlementExtra& e) {
  JsonWriter w;
  w.begin().address("receiverAuthorizer", e.receiverAuthorizer).number("withdrawDelay", e.withdrawDelay);
  if (!e.name.empty() || !e.version.empty() || e.assetTransferMethod != "permit2") w.str("name", e.name).str("version", e.version);
  if (e.assetTransferMethod) w.str("assetTransferMethod", *e.assetTransferMethod);
  if (e.minDeposit) w.amount("minDeposit", *e.minDeposit);
  if (e.channelState) write_channel_snapshot(w, "channelState", *e.channelState);
  if (e.voucherState) write_voucher_state(w, "voucherState", *e.voucherState);
  // Our own output: it parses.
  return *Json::parse(w.end().take());
}

std::string evm_network(std::uint64_t chainId) { return "eip155:" + std::to_string(chainId); }

Result<std::uint64_t> evm_chain_id(std::string_view network) {
  constexpr std::string_view kPrefix = "eip155:";
  if (!network.starts_with(kPrefix)) return fail(ErrorCode::invalid_network, "not an eip155 network");
  auto id = parse_uint128(network.substr(kPrefix.size()));
  if (!id || *id == 0 || *id > UINT64_MAX) return fail(ErrorCode::invalid_network, "bad eip155 chain id");
  return static_cast<std::uint64_t>(*id);
}

}  // namespace paychan::protocol
