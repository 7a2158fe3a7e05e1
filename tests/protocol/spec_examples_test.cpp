// The spec's own header examples (specs/transports-v2/http.md, x402 v2) decode, and re-encode to the
// very same base64: our field order and opaque pass-through match the reference byte for byte.
#include <gtest/gtest.h>

#include "protocol/base64.hpp"
#include "protocol/headers.hpp"

namespace paychan::protocol {
namespace {

constexpr std::string_view kPaymentRequired =
    "eyJ4NDAyVmVyc2lvbiI6MiwiZXJyb3IiOiJQQVlNRU5ULVNJR05BVFVSRSBoZWFkZXIgaXMgcmVxdWlyZWQiLCJyZXNvdXJjZSI6eyJ1cmwiOiJodHRwczovL2FwaS5leGFtcGxlLmNvbS9wcmVtaXVtLWRhdGEiLCJkZXNjcmlwdGlvbiI6IkFjY2VzcyB0byBwcmVtaXVtIG1hcmtldCBkYXRhIiwibWltZVR5cGUiOiJhcHBsaWNhdGlvbi9qc29uIn0sImFjY2VwdHMiOlt7InNjaGVtZSI6ImV4YWN0IiwibmV0d29yayI6ImVpcDE1NTo4NDUzMiIsImFtb3VudCI6IjEwMDAwIiwiYXNzZXQiOiIweDAzNkNiRDUzODQyYzU0MjY2MzRlNzkyOTU0MWVDMjMxOGYzZENGN2UiLCJwYXlUbyI6IjB4MjA5NjkzQmM2YWZjMEM1MzI4YkEzNkZhRjAzQzUxNEVGMzEyMjg3QyIsIm1heFRpbWVvdXRTZWNvbmRzIjo2MCwiZXh0cmEiOnsibmFtZSI6IlVTREMiLCJ2ZXJzaW9uIjoiMiJ9fV19";
constexpr std::string_view kPaymentSignature =
    "eyJ4NDAyVmVyc2lvbiI6MiwicmVzb3VyY2UiOnsidXJsIjoiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vcHJlbWl1bS1kYXRhIiwiZGVzY3JpcHRpb24iOiJBY2Nlc3MgdG8gcHJlbWl1bSBtYXJrZXQgZGF0YSIsIm1pbWVUeXBlIjoiYXBwbGljYXRpb24vanNvbiJ9LCJhY2NlcHRlZCI6eyJzY2hlbWUiOiJleGFjdCIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJhbW91bnQiOiIxMDAwMCIsImFzc2V0IjoiMHgwMzZDYkQ1Mzg0MmM1NDI2NjM0ZTc5Mjk1NDFlQzIzMThmM2RDRjdlIiwicGF5VG8iOiIweDIwOTY5M0JjNmFmYzBDNTMyOGJBMzZGYUYwM0M1MTRFRjMxMjI4N0MiLCJtYXhUaW1lb3V0U2Vjb25kcyI6NjAsImV4dHJhIjp7Im5hbWUiOiJVU0RDIiwidmVyc2lvbiI6IjIifX0sInBheWxvYWQiOnsic2lnbmF0dXJlIjoiMHgyZDZhNzU4OGQ2YWNjYTUwNWNiZjBkOWE0YTIyN2UwYzUyYzZjMzQwMDhjOGU4OTg2YTEyODMyNTk3NjQxNzM2MDhhMmNlNjQ5NjY0MmUzNzdkNmRhOGRiYmY1ODM2ZTliZDE1MDkyZjllY2FiMDVkZWQzZDYyOTNhZjE0OGI1NzFjIiwiYXV0aG9yaXphdGlvbiI6eyJmcm9tIjoiMHg4NTdiMDY1MTlFOTFlM0E1NDUzODc5MWJEYmIwRTIyMzczZTM2YjY2IiwidG8iOiIweDIwOTY5M0JjNmFmYzBDNTMyOGJBMzZGYUYwM0M1MTRFRjMxMjI4N0MiLCJ2YWx1ZSI6IjEwMDAwIiwidmFsaWRBZnRlciI6IjE3NDA2NzIwODkiLCJ2YWxpZEJlZm9yZSI6IjE3NDA2NzIxNTQiLCJub25jZSI6IjB4ZjM3NDY2MTNjMmQ5MjBiNWZkYWJjMDg1NmYyYWViMmQ0Zjg4ZWU2MDM3YjhjYzVkMDRhNzFhNDQ2MmYxMzQ4MCJ9fX0=";
constexpr std::string_view kResponseSuccess =
    "eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NTY3ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9";
constexpr std::string_view kResponseFailure =
    "eyJzdWNjZXNzIjpmYWxzZSwiZXJyb3JSZWFzb24iOiJpbnN1ZmZpY2llbnRfZnVuZHMiLCJ0cmFuc2FjdGlvbiI6IiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9";

TEST(SpecExamples, PaymentRequiredRoundTripsByteExactly) {
  auto p = decode_payment_required_header(kPaymentRequired);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->error, "PAYMENT-SIGNATURE header is required");
  EXPECT_EQ(p->resource.url, "https://api.example.com/premium-data");
  ASSERT_EQ(p->accepts.size(), 1u);
  EXPECT_EQ(p->accepts[0].scheme, "exact");
  EXPECT_EQ(p->accepts[0].amount, "10000");
  EXPECT_EQ(p->accepts[0].maxTimeoutSeconds, 60u);
  EXPECT_EQ(p->accepts[0].extra.text(), R"({"name":"USDC","version":"2"})");
  EXPECT_EQ(encode_payment_required_header(*p), kPaymentRequired);
}

TEST(SpecExamples, ExactSchemePaymentSignatureRoundTripsByteExactly) {
  auto p = decode_payment_signature(kPaymentSignature);
  ASSERT_TRUE(p) << p.error().to_string();
  ASSERT_TRUE(std::holds_alternative<Json>(p->payload)) << "another scheme's payload stays opaque";
  EXPECT_EQ(p->accepted.payTo, "0x209693Bc6afc0C5328bA36FaF03C514EF312287C");
  EXPECT_EQ(encode_payment_signature(*p), kPaymentSignature);
}

TEST(SpecExamples, SettlementResponsesRoundTripByteExactly) {
  auto ok = decode_payment_response(kResponseSuccess);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_TRUE(ok->success);
  EXPECT_EQ(ok->payer, "0x857b06519E91e3A54538791bDbb0E22373e36b66");
  EXPECT_EQ(encode_payment_response(*ok), kResponseSuccess);

  auto failed = decode_payment_response(kResponseFailure);
  ASSERT_TRUE(failed) << failed.error().to_string();
  EXPECT_FALSE(failed->success);
  EXPECT_EQ(failed->errorReason, "insufficient_funds");
  EXPECT_EQ(encode_payment_response(*failed), kResponseFailure);
}

TEST(SpecExamples, TruncatedHeaderIsMalformedBase64) {
  EXPECT_EQ(decode_payment_response(kResponseSuccess.substr(1)).error().code, ErrorCode::malformed_base64);
}

}  // namespace
}  // namespace paychan::protocol
