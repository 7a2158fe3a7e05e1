#include "demo/toy_inference.hpp"

#include <rapidjson/document.h>

#include <algorithm>

#include "engine/gate/service.hpp"

namespace paychan::cli::demo {
namespace {

constexpr std::string_view kWords[] = {"why", "is", "the", "sky", "blue", "at", "noon", "but", "red", "tonight"};

std::size_t count_words(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

}  // namespace

Uint128 toy_price(std::size_t words) noexcept {
  const Uint128 metered = 4'000 + Uint128{1'000} * std::min<std::size_t>(words, 1'000);
  return std::min(metered, kOfferedPrice);
}

std::string toy_request(std::uint64_t n) {
  const std::size_t words = 1 + static_cast<std::size_t>(n % std::size(kWords));
  std::string prompt;
  for (std::size_t i = 0; i < words; ++i) prompt.append(i ? " " : "").append(kWords[i]);
  return R"({"prompt":")" + prompt + R"("})";
}

engine::http::Awaitable<void> toy_inference(engine::http::Exchange& ex) {
  rapidjson::Document body;
  const auto text = ex.request().body();
  body.Parse(text.data(), text.size());
  if (body.HasParseError() || !body.IsObject() || !body.HasMember("prompt") || !body["prompt"].IsString()) {
    ex.response().set(400, "application/json", R"({"error":"expected {\"prompt\": \"…\"}"})");
    co_return;
  }
  const std::string_view prompt{body["prompt"].GetString(), body["prompt"].GetStringLength()};
  const std::size_t words = count_words(prompt);
  ex.response().set(200, "application/json",
                    R"({"completion":"a toy answer to a )" + std::to_string(words) + R"(-word prompt"})");
  if (const Uint128 price = toy_price(words); price < kOfferedPrice) engine::gate::report_charge(ex.response(), price);
}

}  // namespace paychan::cli::demo
