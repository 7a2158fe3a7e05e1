// The msgpack fields of paychan's own binary formats (a store row's channel config, the voucher
// log's records), written and read back defensively: the bytes may be corrupt or hand-edited.
// Included by persistence/ sources only (they build msgpack-c without Boost).
// Thread-safety: pure functions.
#pragma once

#include <msgpack.hpp>

#include <algorithm>
#include <string>
#include <string_view>

#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan::persistence {

template <typename Packer, std::size_t N>
void pack_bin(Packer& pk, const FixedBytes<N>& bytes) {
  pk.pack_bin(N);
  pk.pack_bin_body(reinterpret_cast<const char*>(bytes.data()), N);
}

template <typename Packer>
void pack_bin(Packer& pk, ByteView bytes) {
  pk.pack_bin(static_cast<std::uint32_t>(bytes.size()));
  pk.pack_bin_body(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// `bytes` as exactly one msgpack object, within `limits` (bounds on what msgpack-c allocates for
// the sizes the bytes claim). Errors: invalid_payload, "<what>: " and msgpack-c's reason.
inline Result<msgpack::object_handle> unpack_exactly(ByteView bytes, const msgpack::unpack_limit& limits,
                                                     std::string_view what) {
  msgpack::object_handle handle;
  std::size_t offset = 0;
  try {
    handle = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset, nullptr, nullptr, limits);
  } catch (const std::exception& e) {  // msgpack-c reports malformed input by throwing
    return fail(ErrorCode::invalid_payload, std::string{what} + ": " + e.what());
  }
  if (offset != bytes.size()) return fail(ErrorCode::invalid_payload, std::string{what} + ": trailing bytes");
  return handle;
}

// A bin of exactly N bytes into `out`. msgpack-c converts bin into std::array without checking its
// length (BUILD-NOTES): the type and the size are checked here. Errors: invalid_payload.
template <std::size_t N>
Status take_bin(const msgpack::object& o, FixedBytes<N>& out, std::string_view what) {
  if (o.type != msgpack::type::BIN || o.via.bin.size != N)
    return fail(ErrorCode::invalid_payload, std::string{what} + ": expected " + std::to_string(N) + " bytes");
  std::copy_n(reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr), N, out.begin());
  return {};
}

}  // namespace paychan::persistence
