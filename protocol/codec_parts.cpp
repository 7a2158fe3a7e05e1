#include "protocol/codec_parts.hpp"

namespace paychan::protocol {

Result<ResourceInfo> read_resource(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  ResourceInfo r;
  PAYCHAN_ASSIGN(r.url, f.string("url"));
  PAYCHAN_ASSIGN(r.description, f.optional_string("description"));
  PAYCHAN_ASSIGN(r.mimeType, f.optional_string("mimeType"));
  return r;
}

void write_resource(JsonWriter& w, std::string_view key, const ResourceInfo& r) {
  w.object(key).str("url", r.url);
  if (r.description) w.str("description", *r.description);
  if (r.mimeType) w.str("mimeType", *r.mimeType);
  w.end();
}

Result<PaymentRequirements> read_requirements(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  PaymentRequirements r;
  PAYCHAN_ASSIGN(r.scheme, f.string("scheme"));
  PAYCHAN_ASSIGN(r.network, f.string("network"));
  PAYCHAN_ASSIGN(r.amount, f.string("amount"));
  if (auto a = U256::parse(r.amount); !a) return f.error("amount", a.error().to_string());
  PAYCHAN_ASSIGN(r.asset, f.string("asset"));
  PAYCHAN_ASSIGN(r.payTo, f.string("payTo"));
  PAYCHAN_ASSIGN(r.maxTimeoutSeconds, f.uint64("maxTimeoutSeconds"));
  if (f.has("extra")) {
    PAYCHAN_ASSIGN(r.extra, f.json("extra"));
    if (r.extra.text().front() != '{') return f.error("extra", "must be a JSON object");
  }
  return r;
}

void write_requirements(JsonWriter& w, const PaymentRequirements& r) {
  w.begin().str("scheme", r.scheme).str("network", r.network).str("amount", r.amount);
  w.str("asset", r.asset).str("payTo", r.payTo).number("maxTimeoutSeconds", r.maxTimeoutSeconds);
  if (r.extra.present()) w.raw("extra", r.extra);
  w.end();
}

Result<ChannelConfig> read_channel_config(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  ChannelConfig c;
  PAYCHAN_ASSIGN(c.payer, f.address("payer"));
  PAYCHAN_ASSIGN(c.payerAuthorizer, f.address("payerAuthorizer"));
  PAYCHAN_ASSIGN(c.receiver, f.address("receiver"));
  PAYCHAN_ASSIGN(c.receiverAuthorizer, f.address("receiverAuthorizer"));
  PAYCHAN_ASSIGN(c.token, f.address("token"));
  PAYCHAN_ASSIGN(c.withdrawDelay, f.uint64("withdrawDelay", (std::uint64_t{1} << 40) - 1));  // uint40
  PAYCHAN_ASSIGN(c.salt, f.bytes32("salt"));
  return c;
}

void write_channel_config(JsonWriter& w, std::string_view key, const ChannelConfig& c) {
  w.object(key).address("payer", c.payer).address("payerAuthorizer", c.payerAuthorizer);
  w.address("receiver", c.receiver).address("receiverAuthorizer", c.receiverAuthorizer).address("token", c.token);
  w.number("withdrawDelay", c.withdrawDelay).hex("salt", c.salt).end();
}

Result<SignedVoucher> read_voucher(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  SignedVoucher v;
  PAYCHAN_ASSIGN(v.voucher.channelId, f.bytes32("channelId"));
  PAYCHAN_ASSIGN(v.voucher.maxClaimableAmount, f.uint128("maxClaimableAmount"));
  PAYCHAN_ASSIGN(v.signature, f.wallet_signature("signature"));
  return v;
}

void write_voucher(JsonWriter& w, std::string_view key, const SignedVoucher& v) {
  w.object(key).hex("channelId", v.voucher.channelId).amount("maxClaimableAmount", v.voucher.maxClaimableAmount);
  w.hex("signature", v.signature).end();
}

Result<ChannelSnapshot> read_channel_snapshot(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  ChannelSnapshot s;
  PAYCHAN_ASSIGN(s.channelId, f.bytes32("channelId"));
  PAYCHAN_ASSIGN(s.balance, f.uint128("balance"));
  PAYCHAN_ASSIGN(s.totalClaimed, f.uint128("totalClaimed"));
  PAYCHAN_ASSIGN(s.withdrawRequestedAt, f.uint64("withdrawRequestedAt"));
  // The spec writes refundNonce as a string; the reference also reads a number.
  PAYCHAN_ASSIGN(s.refundNonce, f.u256_or_number("refundNonce"));
  if (f.has("chargedCumulativeAmount")) {
    PAYCHAN_ASSIGN(s.chargedCumulativeAmount, f.uint128("chargedCumulativeAmount"));
  }
  return s;
}

void write_channel_snapshot_members(JsonWriter& w, const ChannelSnapshot& s) {
  w.hex("channelId", s.channelId).amount("balance", s.balance).amount("totalClaimed", s.totalClaimed);
  w.number("withdrawRequestedAt", s.withdrawRequestedAt).amount("refundNonce", s.refundNonce);
  if (s.chargedCumulativeAmount) w.amount("chargedCumulativeAmount", *s.chargedCumulativeAmount);
}

void write_channel_snapshot(JsonWriter& w, std::string_view key, const ChannelSnapshot& s) {
  w.object(key);
  write_channel_snapshot_members(w, s);
  w.end();
}

Result<VoucherState> read_voucher_state(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  VoucherState s;
  if (f.has("signedMaxClaimable")) {
    PAYCHAN_ASSIGN(s.signedMaxClaimable, f.uint128("signedMaxClaimable"));
  }
  if (f.has("signature")) {
    PAYCHAN_ASSIGN(s.signature, f.wallet_signature("signature"));
  }
  return s;
}

void write_voucher_state(JsonWriter& w, std::string_view key, const VoucherState& s) {
  w.object(key);
  if (s.signedMaxClaimable) w.amount("signedMaxClaimable", *s.signedMaxClaimable);
  if (s.signature) w.hex("signature", *s.signature);
  w.end();
}

Status check_version(const Fields& f) {
  auto v = f.uint64("x402Version");
  if (!v) return v.failure();
  if (*v != kX402Version)
    return fail(ErrorCode::invalid_x402_version, "x402Version " + std::to_string(*v) + " is not supported (2 is)");
  return {};
}

}  // namespace paychan::protocol
