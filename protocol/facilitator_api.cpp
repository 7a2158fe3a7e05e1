#include "protocol/facilitator_api.hpp"

#include "protocol/codec_parts.hpp"

namespace paychan::protocol {
namespace {

constexpr ErrorCode kCode = ErrorCode::invalid_payload;
constexpr std::size_t kMaxListed = 256;

Result<std::vector<std::string>> read_strings(const rapidjson::Value& v, const Fields& f, const char* name) {
  if (!v.IsArray() || v.Size() > kMaxListed) return f.error(name, "must be an array of at most 256 strings");
  std::vector<std::string> out;
  for (const auto& s : v.GetArray()) {
    if (!s.IsString()) return f.error(name, "must hold strings");
    out.emplace_back(s.GetString(), s.GetStringLength());
  }
  return out;
}

}  // namespace

Result<FacilitatorRequest> decode_facilitator_request(std::string_view json) {
  return decode_with(json, kCode, "", [&](const Fields& f) -> Result<FacilitatorRequest> {
    PAYCHAN_TRY(f.is_object());
    PAYCHAN_TRY(check_version(f));
    FacilitatorRequest r;
    PAYCHAN_ASSIGN(r.paymentPayload, read_payment_payload(f.object("paymentPayload")));
    PAYCHAN_ASSIGN(r.paymentRequirements, read_requirements(f.object("paymentRequirements")));
    return r;
  }, kMaxFacilitatorRequestBytes);
}

std::string encode_facilitator_request(const FacilitatorRequest& r) {
  JsonWriter w;
  w.begin().number("x402Version", r.x402Version).key("paymentPayload");
  write_payment_payload(w, r.paymentPayload);
  w.key("paymentRequirements");
  write_requirements(w, r.paymentRequirements);
  return w.end().take();
}

Result<VerifyResponse> decode_verify_response(std::string_view json) {
  return decode_with(json, kCode, "", [&](const Fields& f) -> Result<VerifyResponse> {
    PAYCHAN_TRY(f.is_object());
    VerifyResponse r;
    PAYCHAN_ASSIGN(r.isValid, f.boolean("isValid"));
    PAYCHAN_ASSIGN(r.invalidReason, f.optional_string("invalidReason"));
    PAYCHAN_ASSIGN(r.invalidMessage, f.optional_string("invalidMessage"));
    PAYCHAN_ASSIGN(r.payer, f.optional_string("payer"));
    if (f.has("extra")) {
      PAYCHAN_ASSIGN(r.extra, f.json("extra"));
    }
    return r;
  });
}

std::string encode_verify_response(const VerifyResponse& r) {
  JsonWriter w;
  w.begin().boolean("isValid", r.isValid);
  if (r.invalidReason) w.str("invalidReason", *r.invalidReason);
  if (r.invalidMessage) w.str("invalidMessage", *r.invalidMessage);
  if (r.payer) w.str("payer", *r.payer);
  if (r.extra.present()) w.raw("extra", r.extra);
  return w.end().take();
}

Result<SupportedResponse> decode_supported_response(std::string_view json) {
  return decode_with(json, kCode, "", [&](const Fields& f) -> Result<SupportedResponse> {
    PAYCHAN_TRY(f.is_object());
    SupportedResponse r;
    const rapidjson::Value* kinds = nullptr;
    PAYCHAN_ASSIGN(kinds, f.value("kinds"));
    if (!kinds->IsArray() || kinds->Size() > kMaxListed) return f.error("kinds", "must be an array of at most 256 kinds");
    for (rapidjson::SizeType i = 0; i < kinds->Size(); ++i) {
      const Fields k((*kinds)[i], "kinds[" + std::to_string(i) + "]", kCode);
      PAYCHAN_TRY(k.is_object());
      SupportedKind kind;
      PAYCHAN_ASSIGN(kind.x402Version, k.uint64("x402Version"));
      PAYCHAN_ASSIGN(kind.scheme, k.string("scheme"));
      PAYCHAN_ASSIGN(kind.network, k.string("network"));
      if (k.has("extra")) {
        PAYCHAN_ASSIGN(kind.extra, k.json("extra"));
      }
      r.kinds.push_back(std::move(kind));
    }
    if (f.has("extensions")) {
      const rapidjson::Value* ext = nullptr;
      PAYCHAN_ASSIGN(ext, f.value("extensions"));
      PAYCHAN_ASSIGN(r.extensions, read_strings(*ext, f, "extensions"));
    }
    if (f.has("signers")) {
      const rapidjson::Value* signers = nullptr;
      PAYCHAN_ASSIGN(signers, f.value("signers"));
      if (!signers->IsObject() || signers->MemberCount() > kMaxListed) return f.error("signers", "must be an object");
      for (const auto& m : signers->GetObject()) {
        PAYCHAN_ASSIGN(auto list, read_strings(m.value, f, "signers"));
        r.signers.emplace(std::string{m.name.GetString(), m.name.GetStringLength()}, std::move(list));
      }
    }
    return r;
  });
}

std::string encode_supported_response(const SupportedResponse& r) {
  JsonWriter w;
  w.begin().begin_array("kinds");
  for (const auto& k : r.kinds) {
    w.begin().number("x402Version", k.x402Version).str("scheme", k.scheme).str("network", k.network);
    if (k.extra.present()) w.raw("extra", k.extra);
    w.end();
  }
  w.end_array().begin_array("extensions");
  for (const auto& e : r.extensions) w.value(e);
  w.end_array().object("signers");
  for (const auto& [family, addresses] : r.signers) {
    w.begin_array(family);
    for (const auto& a : addresses) w.value(a);
    w.end_array();
  }
  return w.end().end().take();
}

Result<std::optional<Address>> supported_receiver_authorizer(const SupportedKind& kind) {
  if (!kind.extra.present()) return std::optional<Address>{};
  return decode_with(kind.extra.text(), ErrorCode::malformed_json, "extra",
                     [](const Fields& f) -> Result<std::optional<Address>> {
                       if (!f.has("receiverAuthorizer")) return std::optional<Address>{};
                       PAYCHAN_ASSIGN(Address a, f.address("receiverAuthorizer"));
                       return std::optional<Address>{a};
                     });
}

Result<ChannelSnapshot> verify_snapshot(const VerifyResponse& r) {
  constexpr auto kCode = ErrorCode::invalid_batch_settlement_evm_channel_state_read_failed;
  if (!r.extra.present()) return fail(kCode, "no extra");
  return decode_with(r.extra.text(), kCode, "extra", read_channel_snapshot);
}

Json make_verify_extra(const ChannelSnapshot& s) {
  JsonWriter w;
  w.begin();
  write_channel_snapshot_members(w, s);
  return *Json::parse(w.end().take());  // our own output: it parses
}

}  // namespace paychan::protocol
