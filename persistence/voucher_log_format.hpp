// The voucher log's bytes: an append-only file beside the store's SQLite file that takes the gate's
// durable commits (voucher_log.hpp says why and how it is folded into SQLite).
//
//   header   16 bytes: "paychanL" then the generation, uint64 little-endian. A log reset rewrites
//            it with a new generation; a file without one holds no records (it is synced before any).
//   frame    one group commit: body length (uint32 LE), CRC-32C of the body (uint32 LE), body.
//   body     msgpack array [generation (uint), records (array)]; the generation is the header's,
//            so a frame left from before a reset is never read as a new one.
//   record   msgpack array of 13: [write (0 keep, 1 erase, 2 mark_stale), channelId (bin 32),
//            config (bin: channel_record.hpp's msgpack), charged, signedMaxClaimable (bin 16 each,
//            big-endian), signature (bin, 1 to 4096 bytes), balance, totalClaimed (bin 16), withdrawRequestedAt
//            (uint), refundNonce (bin 32, big-endian), onchainSyncedAt, lastRequestTimestamp (uint),
//            pending refund (nil, or [nonce (bin 32), amount (bin 16)])]
//
// Reading stops at the first frame that is empty (the zeros the file grows by), short, fails its
// CRC, exceeds kMaxFrameBody, or holds another generation: what a crash leaves after the last frame
// synced, or an older generation's frames after a reset. A frame whose CRC holds but
// whose body does not decode is corruption, not a crash, and is an error.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "channel/bytes.hpp"
#include "channel/result.hpp"
#include "persistence/logged_state.hpp"

namespace paychan::persistence {

inline constexpr std::size_t kLogHeaderBytes = 16;
inline constexpr std::size_t kFrameHeaderBytes = 8;
// A frame is one batch (at most StoreOptions::max_batch states, ~400 bytes each): a longer length
// is a torn or foreign length field, and is not allocated.
inline constexpr std::size_t kMaxFrameBody = 16u << 20;

[[nodiscard]] std::string encode_log_header(std::uint64_t generation);
// The header's generation; nullopt when `file` is shorter than a header or is not a voucher log.
[[nodiscard]] std::optional<std::uint64_t> decode_log_header(ByteView file);

// Appends to `out` one frame holding `states`.
void append_frame(std::string& out, std::uint64_t generation, std::span<const LoggedState* const> states);

struct LogFrame {
  std::size_t end = 0;  // offset in the file just past the frame
  std::vector<LoggedState> states;
};
struct ScannedLog {
  std::uint64_t generation = 0;
  std::vector<LogFrame> frames;
  std::size_t end = kLogHeaderBytes;  // just past the last whole frame: where the next one goes
};
// Reads a whole log file. A file with no header yields no frames (generation 0, end 0).
// Errors: invalid_payload (a frame whose checksum holds does not decode).
[[nodiscard]] Result<ScannedLog> scan_log(ByteView file);

}  // namespace paychan::persistence
