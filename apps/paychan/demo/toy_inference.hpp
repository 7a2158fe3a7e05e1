// The demo's paid API: a toy "inference" endpoint behind the gate (POST /v1/infer), priced like a
// metered model. The route offers $0.01 per call; a call actually costs $0.004 plus $0.001 per
// prompt word, so short prompts charge less than the offer — reported to the gate with
// Settlement-Overrides (gate::report_charge), the way a real upstream does dynamic pricing.
// Thread-safety: pure functions and a stateless handler.
#pragma once

#include <cstdint>
#include <string>

#include "channel/amount.hpp"
#include "engine/http/handler.hpp"

namespace paychan::cli::demo {

inline constexpr std::string_view kInferPath = "/v1/infer";
inline constexpr Uint128 kOfferedPrice = 10'000;  // $0.01 in 6-decimal test USDC

// What a prompt of `words` words costs: min(4,000 + 1,000 × words, kOfferedPrice) atomic units.
[[nodiscard]] Uint128 toy_price(std::size_t words) noexcept;
// The request body an agent sends as its `n`th call: {"prompt": …} of 1..10 words.
[[nodiscard]] std::string toy_request(std::uint64_t n);
// Answers {"completion": …} and reports the call's price when it is below the offer; a body that
// is not a prompt gets 400 (and the gate charges nothing).
[[nodiscard]] engine::http::Awaitable<void> toy_inference(engine::http::Exchange& ex);

}  // namespace paychan::cli::demo
