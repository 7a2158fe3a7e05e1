// How a ChannelState is laid out in a row of the `channels` table.
//
//   column                 type     encoding
//   channel_id             BLOB     32 bytes
//   config                 BLOB     msgpack array [payer, payerAuthorizer, receiver, receiverAuthorizer,
//                                   token (bin 20 each), withdrawDelay (uint), salt (bin 32)]
//   charged, signed_max,   BLOB     16-byte big-endian uint128 — equal lengths make SQLite's BLOB
//   balance, total_claimed          comparison numeric, so `signed_max > total_claimed` works in SQL
//   signature              BLOB     1 to 4096 bytes (65: ECDSA; other lengths: a smart wallet's)
//   withdraw_requested_at, INTEGER
//   onchain_synced_at, last_request_at
//   refund_nonce           BLOB     32-byte big-endian uint256
//
// The store's rows are our own but still read defensively: a row that does not decode is an
// error, never a crash (a hand-edited or corrupted file).
// Thread-safety: pure functions.
#pragma once

#include "channel/bytes.hpp"
#include "channel/channel_state.hpp"
#include "channel/result.hpp"

namespace paychan::persistence {

[[nodiscard]] Bytes encode_config(const ChannelConfig& config);
// Errors: invalid_payload (not the layout above).
[[nodiscard]] Result<ChannelConfig> decode_config(ByteView msgpack);

[[nodiscard]] FixedBytes<16> encode_u128(Uint128 v) noexcept;
[[nodiscard]] Result<Uint128> decode_u128(ByteView be);
// 32 stored bytes (a channel id, a U256's big-endian form). Errors: invalid_payload (another size).
[[nodiscard]] Result<Bytes32> decode_bytes32(ByteView bytes);
// A U256 stored as its 32 big-endian bytes (U256::to_be()).
[[nodiscard]] Result<U256> decode_u256(ByteView be);

}  // namespace paychan::persistence
