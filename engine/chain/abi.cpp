#include "engine/chain/abi.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"

namespace paychan::engine::chain {
namespace {

void put_word(Bytes& out, std::uint64_t v) {
  Bytes32 w{};
  for (int i = 31; i >= 24; --i, v >>= 8) w[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  out.insert(out.end(), w.begin(), w.end());
}

// The head/tail layout of a sequence (a tuple's members, or an array's elements after its length):
// static values inline; for each dynamic value a placeholder head word, patched with the offset
// (from the sequence's start) at which its encoding is appended after all heads.
void encode_sequence(const std::vector<AbiValue>& values, Bytes& out) {
  const std::size_t start = out.size();
  std::vector<std::size_t> placeholders;
  for (const auto& v : values) {
    if (v.dynamic()) {
      placeholders.push_back(out.size());
      out.resize(out.size() + 32, 0);
    } else {
      v.encode_to(out);
    }
  }
  std::size_t next = 0;
  for (const auto& v : values) {
    if (!v.dynamic()) continue;
    Bytes offset;
    put_word(offset, out.size() - start);
    std::copy(offset.begin(), offset.end(), out.begin() + static_cast<std::ptrdiff_t>(placeholders[next++]));
    v.encode_to(out);
  }
}

constexpr std::uint8_t kErrorStringSelector[4] = {0x08, 0xc3, 0x79, 0xa0};  // Error(string)

}  // namespace

AbiValue AbiValue::word(const Bytes32& w) {
  AbiValue v;
  v.data_.assign(w.begin(), w.end());
  return v;
}

Bytes32 address_word(const Address& a) noexcept {
  Bytes32 w{};
  std::copy(a.bytes.begin(), a.bytes.end(), w.begin() + 12);
  return w;
}

AbiValue AbiValue::address(const Address& a) { return word(address_word(a)); }

AbiValue AbiValue::uint(const U256& v) { return word(v.to_be()); }

AbiValue AbiValue::boolean(bool b) { return uint(Uint128{b ? 1u : 0u}); }

AbiValue AbiValue::bytes(ByteView b) {
  AbiValue v;
  v.kind_ = Kind::bytes;
  v.data_.assign(b.begin(), b.end());
  return v;
}

AbiValue AbiValue::tuple(std::vector<AbiValue> members) {
  AbiValue v;
  v.kind_ = Kind::tuple;
  v.members_ = std::move(members);
  return v;
}

AbiValue AbiValue::array(std::vector<AbiValue> elements) {
  AbiValue v;
  v.kind_ = Kind::array;
  v.members_ = std::move(elements);
  return v;
}

bool AbiValue::dynamic() const noexcept {
  switch (kind_) {
    case Kind::word: return false;
    case Kind::bytes:
    case Kind::array: return true;
    case Kind::tuple: return std::any_of(members_.begin(), members_.end(), [](const AbiValue& m) { return m.dynamic(); });
  }
  return false;
}

void AbiValue::encode_to(Bytes& out) const {
  switch (kind_) {
    case Kind::word:
      out.insert(out.end(), data_.begin(), data_.end());
      return;
    case Kind::bytes:
      put_word(out, data_.size());
      out.insert(out.end(), data_.begin(), data_.end());
      out.resize(out.size() + (32 - data_.size() % 32) % 32, 0);
      return;
    case Kind::array:
      put_word(out, members_.size());
      encode_sequence(members_, out);
      return;
    case Kind::tuple:
      encode_sequence(members_, out);
      return;
  }
}

FixedBytes<4> selector(std::string_view signature) {
  const Bytes32 h = keccak256(as_bytes(signature));
  return {h[0], h[1], h[2], h[3]};
}

Bytes encode_call(std::string_view signature, std::vector<AbiValue> args) {
  const auto sel = selector(signature);
  Bytes out(sel.begin(), sel.end());
  AbiValue::tuple(std::move(args)).encode_to(out);
  return out;
}

Result<Bytes32> AbiReader::word(std::size_t index) const {
  if (index >= data_.size() / 32)
    return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
                "return data has " + std::to_string(data_.size()) + " bytes, word " + std::to_string(index) + " missing");
  Bytes32 w;
  std::memcpy(w.data(), data_.data() + 32 * index, 32);
  return w;
}

Result<U256> AbiReader::uint256(std::size_t index) const {
  auto w = word(index);
  if (!w) return w.failure();
  return U256::from_be(*w);
}

Result<Uint128> AbiReader::uint128(std::size_t index) const {
  auto v = uint256(index);
  if (!v) return v.failure();
  auto small = v->to_uint128();
  if (!small) return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "value exceeds uint128");
  return *small;
}

Result<std::uint64_t> AbiReader::uint64(std::size_t index) const {
  auto v = uint128(index);
  if (!v) return v.failure();
  if (*v > UINT64_MAX) return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "value exceeds uint64");
  return static_cast<std::uint64_t>(*v);
}

Result<Address> AbiReader::address(std::size_t index) const {
  auto w = word(index);
  if (!w) return w.failure();
  if (std::any_of(w->begin(), w->begin() + 12, [](std::uint8_t b) { return b != 0; }))
    return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "not an address word");
  Address a;
  std::copy(w->begin() + 12, w->end(), a.bytes.begin());
  return a;
}

Result<bool> AbiReader::boolean(std::size_t index) const {
  auto v = uint64(index);
  if (!v) return v.failure();
  if (*v > 1) return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "a bool word is neither 0 nor 1");
  return *v == 1;
}

Result<AbiReader> AbiReader::tail(std::size_t index) const {
  auto offset = uint64(index);
  if (!offset) return offset.failure();
  if (*offset > data_.size())
    return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "a dynamic value's offset is past the data");
  return AbiReader{data_.subspan(static_cast<std::size_t>(*offset))};
}

Result<AbiReader> AbiReader::from_word(std::size_t index) const {
  if (index > data_.size() / 32)
    return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
                "return data has " + std::to_string(data_.size()) + " bytes, word " + std::to_string(index) + " missing");
  return AbiReader{data_.subspan(32 * index)};
}

Result<ByteView> AbiReader::bytes(std::size_t index) const {
  auto value = tail(index);
  if (!value) return value.failure();
  auto length = value->uint64(0);
  if (!length) return length.failure();
  if (*length > value->data_.size() - 32)
    return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "a bytes value runs past the data");
  return value->data_.subspan(32, static_cast<std::size_t>(*length));
}

namespace {

// The custom errors of the contracts paychan deploys and calls (contracts/src, and OpenZeppelin's
// they use), so that a revert an operator reads in a log has a name to look up.
constexpr std::string_view kKnownErrors[] = {
    // X402BatchSettlement
    "InvalidChannel()", "ZeroDeposit()", "DepositOverflow()", "InvalidSignature()", "NotReceiverAuthorizer()",
    "NotAuthorizedToClaim()", "NotAuthorizedToRefund()", "ClaimExceedsCeiling()", "ClaimExceedsBalance()",
    "WithdrawalAlreadyPending()", "WithdrawalNotPending()", "NotAuthorizedToFinalizeWithdraw()",
    "WithdrawDelayNotElapsed()", "NothingToWithdraw()", "WithdrawAmountExceedsAvailable()",
    "WithdrawDelayOutOfRange()", "EmptyBatch()", "DepositCollectionFailed()", "InvalidCollector()",
    "InvalidRefundNonce()", "ZeroRefund()",
    // the deposit collectors
    "OnlyX402BatchSettlement()", "InvalidX402BatchSettlementAddress()", "InvalidPermit2Address()",
    "Permit2612AmountMismatch()",
    // OpenZeppelin: ECDSA, SafeERC20, ERC20; the test tokens' ERC-3009
    "ECDSAInvalidSignature()", "ECDSAInvalidSignatureLength(uint256)", "ECDSAInvalidSignatureS(bytes32)",
    "SafeERC20FailedOperation(address)", "ERC20InsufficientBalance(address,uint256,uint256)",
    "ERC20InsufficientAllowance(address,uint256,uint256)", "ERC20InvalidReceiver(address)",
    "ERC3009InvalidSignature()"};

// The known error whose selector `data` starts with, if any.
std::optional<std::string_view> known_error(ByteView data) {
  struct Entry {
    std::array<std::uint8_t, 4> selector;
    std::string_view signature;
  };
  static const auto table = [] {
    std::vector<Entry> entries;
    for (const std::string_view s : kKnownErrors) {
      const Bytes32 hash = keccak256(ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
      entries.push_back({{hash[0], hash[1], hash[2], hash[3]}, s});
    }
    return entries;
  }();
  for (const Entry& e : table)
    if (std::equal(e.selector.begin(), e.selector.end(), data.begin())) return e.signature;
  return std::nullopt;
}

}  // namespace

std::string describe_revert(ByteView data) {
  if (data.size() < 4) return data.empty() ? "reverted without data" : "malformed revert data";
  if (std::equal(data.begin(), data.begin() + 4, kErrorStringSelector)) {
    auto message = AbiReader{data.subspan(4)}.bytes(0);
    if (!message) return "malformed Error(string)";
    return std::string(reinterpret_cast<const char*>(message->data()), message->size());
  }
  const std::string selector = to_hex(data.subspan(0, 4));
  if (auto name = known_error(data)) return "custom error " + std::string(*name) + " (" + selector + ")";
  return "custom error " + selector;
}

}  // namespace paychan::engine::chain
