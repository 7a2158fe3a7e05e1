#include "persistence/voucher_log_format.hpp"

#include <cstring>

#include "persistence/channel_record.hpp"
#include "persistence/crc32c.hpp"
#include "persistence/msgpack_fields.hpp"

namespace paychan::persistence {
namespace {

constexpr char kMagic[8] = {'p', 'a', 'y', 'c', 'h', 'a', 'n', 'L'};
constexpr std::uint32_t kRecordFields = 13;
constexpr std::uint32_t kMaxRecords = 1u << 20;
// The longest bin a record holds: a smart wallet's signature.
constexpr std::size_t kMaxBin = WalletSignature::kMaxBytes;

// msgpack-c writes to any type with write(); the frame is built in the caller's string.
struct StringSink {
  std::string& out;
  void write(const char* p, std::size_t n) { out.append(p, n); }
};
using Packer = msgpack::packer<StringSink>;

void put_le(std::string& out, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
}
std::uint64_t get_le(ByteView in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | in[at + static_cast<std::size_t>(i)];
  return v;
}

void pack_record(Packer& pk, const LoggedState& r) {
  const ChannelState& s = r.state;
  pk.pack_array(kRecordFields);
  pk.pack_uint8(static_cast<std::uint8_t>(r.write));
  pack_bin(pk, s.channelId);
  pack_bin(pk, ByteView{encode_config(s.config)});
  pack_bin(pk, encode_u128(s.chargedCumulativeAmount));
  pack_bin(pk, encode_u128(s.signedMaxClaimable));
  pack_bin(pk, s.signature.bytes());
  pack_bin(pk, encode_u128(s.onchain.balance));
  pack_bin(pk, encode_u128(s.onchain.totalClaimed));
  pk.pack_uint64(s.onchain.withdrawRequestedAt);
  pack_bin(pk, s.onchain.refundNonce.to_be());
  pk.pack_uint64(s.onchainSyncedAt);
  pk.pack_uint64(s.lastRequestTimestamp);
  if (!r.pendingRefund) {
    pk.pack_nil();
  } else {
    pk.pack_array(2);
    pack_bin(pk, r.pendingRefund->nonce.to_be());
    pack_bin(pk, encode_u128(r.pendingRefund->amount));
  }
}

constexpr std::string_view kWhat = "voucher log";

Failure bad(std::string_view what) { return fail(ErrorCode::invalid_payload, std::string{kWhat} + ": " + std::string{what}); }

Result<ByteView> bin(const msgpack::object& o) {
  if (o.type != msgpack::type::BIN) return bad("expected bytes");
  return ByteView(reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr), o.via.bin.size);
}
Result<std::uint64_t> uint(const msgpack::object& o) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return bad("expected an unsigned integer");
  return o.via.u64;
}
Result<Uint128> u128(const msgpack::object& o) {
  PAYCHAN_ASSIGN(const ByteView b, bin(o));
  return decode_u128(b);
}
Result<U256> u256(const msgpack::object& o) {
  PAYCHAN_ASSIGN(const ByteView b, bin(o));
  return decode_u256(b);
}

Result<LoggedState> read_record(const msgpack::object& o) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size != kRecordFields) return bad("a record is not a 13-field array");
  const msgpack::object* f = o.via.array.ptr;
  LoggedState r;
  ChannelState& s = r.state;
  PAYCHAN_ASSIGN(const std::uint64_t write, uint(f[0]));
  if (write > static_cast<std::uint64_t>(StateWrite::mark_stale)) return bad("unknown write");
  r.write = static_cast<StateWrite>(write);
  PAYCHAN_TRY(take_bin(f[1], s.channelId, kWhat));
  PAYCHAN_ASSIGN(const ByteView config, bin(f[2]));
  PAYCHAN_ASSIGN(s.config, decode_config(config));
  PAYCHAN_ASSIGN(s.chargedCumulativeAmount, u128(f[3]));
  PAYCHAN_ASSIGN(s.signedMaxClaimable, u128(f[4]));
  PAYCHAN_ASSIGN(const ByteView signature, bin(f[5]));
  auto wallet_signature = WalletSignature::from_bytes(signature);
  if (!wallet_signature) return bad(wallet_signature.error().detail);
  s.signature = std::move(*wallet_signature);
  PAYCHAN_ASSIGN(s.onchain.balance, u128(f[6]));
  PAYCHAN_ASSIGN(s.onchain.totalClaimed, u128(f[7]));
  PAYCHAN_ASSIGN(s.onchain.withdrawRequestedAt, uint(f[8]));
  PAYCHAN_ASSIGN(s.onchain.refundNonce, u256(f[9]));
  PAYCHAN_ASSIGN(s.onchainSyncedAt, uint(f[10]));
  PAYCHAN_ASSIGN(s.lastRequestTimestamp, uint(f[11]));
  if (f[12].type != msgpack::type::NIL) {
    if (f[12].type != msgpack::type::ARRAY || f[12].via.array.size != 2) return bad("a pending refund is not [nonce, amount]");
    PendingRefund p;
    PAYCHAN_ASSIGN(p.nonce, u256(f[12].via.array.ptr[0]));
    PAYCHAN_ASSIGN(p.amount, u128(f[12].via.array.ptr[1]));
    r.pendingRefund = p;
  }
  return r;
}

// A body whose checksum holds: [generation, records].
Result<std::vector<LoggedState>> read_body(ByteView body, std::uint64_t generation, bool& same_generation) {
  PAYCHAN_ASSIGN(const msgpack::object_handle handle,
                 unpack_exactly(body, msgpack::unpack_limit(kMaxRecords, 0, 0, kMaxBin, 0, 8), kWhat));
  const msgpack::object& o = handle.get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) return bad("a frame is not [generation, records]");
  PAYCHAN_ASSIGN(const std::uint64_t g, uint(o.via.array.ptr[0]));
  same_generation = g == generation;
  if (!same_generation) return std::vector<LoggedState>{};
  const msgpack::object& records = o.via.array.ptr[1];
  if (records.type != msgpack::type::ARRAY) return bad("a frame's records are not an array");
  std::vector<LoggedState> out;
  out.reserve(records.via.array.size);
  for (std::uint32_t i = 0; i < records.via.array.size; ++i) {
    PAYCHAN_ASSIGN(LoggedState r, read_record(records.via.array.ptr[i]));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::string encode_log_header(std::uint64_t generation) {
  std::string out(kMagic, sizeof kMagic);
  out.resize(kLogHeaderBytes);
  put_le(out, sizeof kMagic, generation, 8);
  return out;
}

std::optional<std::uint64_t> decode_log_header(ByteView file) {
  if (file.size() < kLogHeaderBytes || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  return get_le(file, sizeof kMagic, 8);
}

void append_frame(std::string& out, std::uint64_t generation, std::span<const LoggedState* const> states) {
  const std::size_t at = out.size();
  out.resize(at + kFrameHeaderBytes);
  StringSink sink{out};
  Packer pk(sink);
  pk.pack_array(2);
  pk.pack_uint64(generation);
  pk.pack_array(static_cast<std::uint32_t>(states.size()));
  for (const LoggedState* s : states) pack_record(pk, *s);
  const std::size_t body = out.size() - at - kFrameHeaderBytes;
  const auto* begin = reinterpret_cast<const std::uint8_t*>(out.data()) + at + kFrameHeaderBytes;
  put_le(out, at, body, 4);
  put_le(out, at + 4, crc32c({begin, body}), 4);
}

Result<ScannedLog> scan_log(ByteView file) {
  ScannedLog log;
  const auto generation = decode_log_header(file);
  if (!generation) {
    log.end = 0;
    return log;
  }
  log.generation = *generation;
  std::size_t at = kLogHeaderBytes;
  while (file.size() - at >= kFrameHeaderBytes) {
    const std::size_t body = get_le(file, at, 4);
    if (body == 0 || body > kMaxFrameBody || file.size() - at - kFrameHeaderBytes < body) break;
    const ByteView bytes = file.subspan(at + kFrameHeaderBytes, body);
    if (crc32c(bytes) != get_le(file, at + 4, 4)) break;
    bool same_generation = false;
    PAYCHAN_ASSIGN(auto states, read_body(bytes, log.generation, same_generation));
    if (!same_generation) break;
    at += kFrameHeaderBytes + body;
    log.frames.push_back(LogFrame{at, std::move(states)});
  }
  log.end = at;
  return log;
}

}  // namespace paychan::persistence
