// Internal to protocol/: readers and writers of the sub-objects several messages share.
#pragma once

#include "channel/types.hpp"
#include "protocol/json_reader.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/requirements.hpp"

namespace paychan::protocol {

[[nodiscard]] Result<ResourceInfo> read_resource(const Fields& f);
void write_resource(JsonWriter& w, std::string_view key, const ResourceInfo& r);

[[nodiscard]] Result<PaymentRequirements> read_requirements(const Fields& f);
void write_requirements(JsonWriter& w, const PaymentRequirements& r);  // as a value

[[nodiscard]] Result<ChannelConfig> read_channel_config(const Fields& f);
void write_channel_config(JsonWriter& w, std::string_view key, const ChannelConfig& c);

[[nodiscard]] Result<SignedVoucher> read_voucher(const Fields& f);
void write_voucher(JsonWriter& w, std::string_view key, const SignedVoucher& v);

[[nodiscard]] Result<ChannelSnapshot> read_channel_snapshot(const Fields& f);
void write_channel_snapshot(JsonWriter& w, std::string_view key, const ChannelSnapshot& s);
// The snapshot's members into the object being written (a /verify reply's extra is the snapshot).
void write_channel_snapshot_members(JsonWriter& w, const ChannelSnapshot& s);

[[nodiscard]] Result<VoucherState> read_voucher_state(const Fields& f);
void write_voucher_state(JsonWriter& w, std::string_view key, const VoucherState& s);

// Checks that x402Version is 2. Error: invalid_x402_version.
[[nodiscard]] Status check_version(const Fields& f);

}  // namespace paychan::protocol

namespace paychan::protocol {
struct PaymentPayload;
[[nodiscard]] Result<PaymentPayload> read_payment_payload(const Fields& f);
// Where a string's content lies in a text: its offset and size.
struct TextSpan {
  std::size_t at = 0, size = 0;
};
// Where a voucher payload's maxClaimableAmount and signature strings lie in the text it was decoded
// from (PaymentSignatureDecoder).
struct VoucherValueSpans {
  TextSpan amount, signature;
};
// decode_payment_payload over a buffer of our own, parsed in place (see parse_untrusted_in_place).
// `spans`, if given, is set for a voucher payload parsed in place (ASCII text), else reset. A string
// parsed in place starts where its text did; an escaped one is shorter than its text.
[[nodiscard]] Result<PaymentPayload> decode_payment_payload_in_place(std::string& json,
                                                                     std::optional<VoucherValueSpans>* spans = nullptr);
void write_payment_payload(JsonWriter& w, const PaymentPayload& p);  // as a value
}  // namespace paychan::protocol

namespace paychan::protocol {
struct SettlementResponse;
[[nodiscard]] Result<SettlementResponse> read_settlement_response(const Fields& f);
void write_settlement_response(JsonWriter& w, const SettlementResponse& r);  // as a value
}  // namespace paychan::protocol
