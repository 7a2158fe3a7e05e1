// The agent's voucher headers from a template are byte-for-byte the full encoder's, for any
// channel, amount, signature and offer (including an offer whose price spells the amount marker).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "engine/client/payloads.hpp"
#include "engine/client/voucher_headers.hpp"
#include "engine/gate/offers.hpp"
#include "gate_support.hpp"
#include "generators.hpp"
#include "protocol/headers.hpp"

namespace paychan::engine::client {
namespace {

ChosenOffer offer_at(Uint128 price) {
  gate::GateConfig config = gate::test::test_config();
  config.routes.at(0).price = price;
  protocol::PaymentRequired required;
  required.accepts.push_back(gate::OfferTable::build(config).offers().at(0).requirements);
  ClientPolicy any;
  any.maxPrice = kUint128Max;
  return *choose_offer(required, any);
}

RC_GTEST_PROP(VoucherHeaders, AreTheFullEncodersBytes, ()) {
  const Uint128 price = *rc::gen::oneOf(rc::gen::element<Uint128>(10'000, kUint128Max), paychan::test::gen_uint128())
                             .as("price");
  RC_PRE(price != 0);
  const ChosenOffer offer = offer_at(price);
  const ChannelConfig config = *paychan::test::gen_channel_config();
  const Bytes32 id = *paychan::test::gen_bytes<32>();
  const VoucherHeaders headers(offer, config, id);
  RC_ASSERT(headers.serve(offer, id));
  for (int i = 0; i < 3; ++i) {
    SignedVoucher v = *paychan::test::gen_signed_voucher();
    v.voucher.channelId = id;
    protocol::PaymentPayload full;
    full.accepted = offer.requirements;
    full.payload = protocol::BatchSettlementPayload{protocol::VoucherPayload{config, v}};
    RC_ASSERT(headers.encode(v) == protocol::encode_payment_signature(full));
  }
}

TEST(VoucherHeaders, ServeOnlyTheirChannelAndOffer) {
  const ChosenOffer offer = offer_at(10'000);
  const Bytes32 id{1};
  const VoucherHeaders headers(offer, ChannelConfig{}, id);
  EXPECT_TRUE(headers.serve(offer, id));
  EXPECT_FALSE(headers.serve(offer, Bytes32{2}));
  EXPECT_FALSE(headers.serve(offer_at(5'000), id));
}

}  // namespace
}  // namespace paychan::engine::client
