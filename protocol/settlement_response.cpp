#include "protocol/settlement_response.hpp"

#include "protocol/codec_parts.hpp"

namespace paychan::protocol {

namespace {

// A response's own members; `extra` and `extensions` (any JSON) are left to the caller.
Result<SettlementResponse> read_members(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  SettlementResponse r;
  PAYCHAN_ASSIGN(r.success, f.boolean("success"));
  PAYCHAN_ASSIGN(r.errorReason, f.optional_string("errorReason"));
  PAYCHAN_ASSIGN(r.errorMessage, f.optional_string("errorMessage"));
  PAYCHAN_ASSIGN(r.transaction, f.string("transaction"));
  PAYCHAN_ASSIGN(r.network, f.string("network"));
  PAYCHAN_ASSIGN(r.payer, f.optional_string("payer"));
  PAYCHAN_ASSIGN(r.amount, f.optional_string("amount"));
  return r;
}

}  // namespace

Result<SettlementResponse> read_settlement_response(const Fields& f) {
  PAYCHAN_ASSIGN(auto r, read_members(f));
  if (f.has("extra")) {
    PAYCHAN_ASSIGN(r.extra, f.json("extra"));
  }
  if (f.has("extensions")) {
    PAYCHAN_ASSIGN(r.extensions, f.json("extensions"));
  }
  return r;
}

// Field order as the spec's examples: success, errorReason, transaction, network, payer, amount, extra.
void write_settlement_response(JsonWriter& w, const SettlementResponse& r) {
  w.begin().boolean("success", r.success);
  if (r.errorReason) w.str("errorReason", *r.errorReason);
  if (r.errorMessage) w.str("errorMessage", *r.errorMessage);
  w.str("transaction", r.transaction).str("network", r.network);
  if (r.payer) w.str("payer", *r.payer);
  if (r.amount) w.str("amount", *r.amount);
  if (r.extra.present()) w.raw("extra", r.extra);
  if (r.extensions.present()) w.raw("extensions", r.extensions);
  w.end();
}

Result<SettlementResponse> decode_settlement_response(std::string_view json) {
  return decode_with(json, ErrorCode::invalid_payload, "", read_settlement_response);
}

std::string encode_settlement_response(const SettlementResponse& r) {
  JsonWriter w;
  write_settlement_response(w, r);
  return w.take();
}

namespace {

Result<BatchSettlementResponseExtra> read_response_extra(const Fields& f) {
  PAYCHAN_TRY(f.is_object());
  BatchSettlementResponseExtra e;
  if (f.has("chargedAmount")) {
    PAYCHAN_ASSIGN(e.chargedAmount, f.uint128("chargedAmount"));
  }
  if (f.has("channelState")) {
    PAYCHAN_ASSIGN(e.channelState, read_channel_snapshot(f.object("channelState")));
  }
  if (f.has("voucherState")) {
    PAYCHAN_ASSIGN(e.voucherState, read_voucher_state(f.object("voucherState")));
  }
  return e;
}

}  // namespace

Result<BatchSettlementResponseExtra> batch_response_extra(const SettlementResponse& r) {
  if (!r.extra.present()) return BatchSettlementResponseExtra{};
  return decode_with(r.extra.text(), ErrorCode::invalid_payload, "extra", read_response_extra);
}

Result<BatchSettlementResponseExtra> decode_batch_response_extra(std::string_view json) {
  return decode_with(json, ErrorCode::invalid_payload, "", [](const Fields& f) -> Result<BatchSettlementResponseExtra> {
    PAYCHAN_TRY(read_members(f));  // the response is checked as by decode_settlement_response, without copying extra
    if (!f.has("extra")) return BatchSettlementResponseExtra{};
    return read_response_extra(f.object("extra"));
  });
}

Json make_response_extra(const BatchSettlementResponseExtra& e) {
  JsonWriter w;
  w.begin();
  if (e.chargedAmount) w.amount("chargedAmount", *e.chargedAmount);
  if (e.channelState) write_channel_snapshot(w, "channelState", *e.channelState);
  if (e.voucherState) write_voucher_state(w, "voucherState", *e.voucherState);
  return Json::trusted(w.end().take());
}

}  // namespace paychan::protocol
