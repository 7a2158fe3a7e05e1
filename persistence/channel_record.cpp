#include "persistence/channel_record.hpp"

#include "persistence/msgpack_fields.hpp"

namespace paychan::persistence {
namespace {

constexpr std::uint32_t kConfigFields = 7;
constexpr std::string_view kWhat = "stored channel config";

Failure bad(std::string_view what) { return fail(ErrorCode::invalid_payload, std::string{kWhat} + ": " + std::string{what}); }

}  // namespace

Bytes encode_config(const ChannelConfig& c) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(kConfigFields);
  for (const Address* a : {&c.payer, &c.payerAuthorizer, &c.receiver, &c.receiverAuthorizer, &c.token})
    pack_bin(pk, a->bytes);
  pk.pack_uint64(c.withdrawDelay);
  pack_bin(pk, c.salt);
  return Bytes(buf.data(), buf.data() + buf.size());
}

Result<ChannelConfig> decode_config(ByteView bytes) {
  // Bounded: a voucher-log frame's checksum holds for whatever its writer put there.
  PAYCHAN_ASSIGN(const msgpack::object_handle handle,
                 unpack_exactly(bytes, msgpack::unpack_limit(kConfigFields, 0, 0, 32, 0, 2), kWhat));
  const msgpack::object& o = handle.get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size != kConfigFields) return bad("not a 7-field array");
  const msgpack::object* f = o.via.array.ptr;
  ChannelConfig c;
  PAYCHAN_TRY(take_bin(f[0], c.payer.bytes, kWhat));
  PAYCHAN_TRY(take_bin(f[1], c.payerAuthorizer.bytes, kWhat));
  PAYCHAN_TRY(take_bin(f[2], c.receiver.bytes, kWhat));
  PAYCHAN_TRY(take_bin(f[3], c.receiverAuthorizer.bytes, kWhat));
  PAYCHAN_TRY(take_bin(f[4], c.token.bytes, kWhat));
  if (f[5].type != msgpack::type::POSITIVE_INTEGER) return bad("withdrawDelay is not an unsigned integer");
  c.withdrawDelay = f[5].via.u64;
  PAYCHAN_TRY(take_bin(f[6], c.salt, kWhat));
  return c;
}

FixedBytes<16> encode_u128(Uint128 v) noexcept {
  FixedBytes<16> be{};
  for (int i = 15; i >= 0; --i, v >>= 8) be[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  return be;
}

Result<Uint128> decode_u128(ByteView be) {
  if (be.size() != 16) return fail(ErrorCode::invalid_payload, "stored uint128 is not 16 bytes");
  Uint128 v = 0;
  for (std::uint8_t b : be) v = v << 8 | b;
  return v;
}

Result<Bytes32> decode_bytes32(ByteView bytes) {
  if (bytes.size() != 32) return fail(ErrorCode::invalid_payload, "a stored 32-byte field has " + std::to_string(bytes.size()));
  Bytes32 out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Result<U256> decode_u256(ByteView be) {
  PAYCHAN_ASSIGN(const Bytes32 bytes, decode_bytes32(be));
  return U256::from_be(bytes);
}

}  // namespace paychan::persistence
