#include "channel/eip712.hpp"

#include <cstring>
#include <vector>

#include "channel/keccak.hpp"

namespace paychan {
namespace {

constexpr Address make_address(const std::uint8_t (&b)[20]) {
  Address a;
  for (std::size_t i = 0; i < 20; ++i) a.bytes[i] = b[i];
  return a;
}

// ABI words: every static field of an EIP-712 struct is one left-padded 32-byte word.
class Words {
 public:
  explicit Words(std::uint8_t* out) noexcept : out_(out) {}
  Words& bytes32(const Bytes32& v) noexcept { return put(v.data(), 32); }
  Words& address(const Address& a) noexcept { return put(a.bytes.data(), 20); }
  Words& u256(const U256& v) noexcept { return bytes32(v.to_be()); }
  Words& u128(Uint128 v) noexcept {
    std::uint8_t be[16];
    for (int i = 15; i >= 0; --i, v >>= 8) be[i] = static_cast<std::uint8_t>(v);
    return put(be, 16);
  }
  Words& u64(std::uint64_t v) noexcept { return u128(v); }

 private:
  Words& put(const std::uint8_t* p, std::size_t n) noexcept {
    std::memset(out_, 0, 32 - n);
    std::memcpy(out_ + 32 - n, p, n);
    out_ += 32;
    return *this;
  }
  std::uint8_t* out_;
};

// keccak256 of a fixed number of words laid out on the stack.
template <std::size_t N, typename Fill>
Bytes32 hash_words(Fill fill) noexcept {
  std::uint8_t buf[32 * N];
  Words w(buf);
  fill(w);
  return keccak256(ByteView{buf, sizeof buf});
}

// An EIP-712 type string as a template argument, so each type hash is computed once per type
// (keccak is not constexpr) and cached in its own static.
template <std::size_t N>
struct TypeString {
  char text[N];
  constexpr TypeString(const char (&s)[N]) noexcept {  // NOLINT: implicit from a literal by design
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
  std::string_view view() const noexcept { return {text, N - 1}; }
};

template <TypeString S>
const Bytes32& type_hash() noexcept {
  static const Bytes32 h = keccak256(as_bytes(S.view()));
  return h;
}

// The contract's type strings, verbatim.
constexpr TypeString kDomainType{"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"};
constexpr TypeString kChannelConfigType{
    "ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,"
    "address token,uint40 withdrawDelay,bytes32 salt)"};
constexpr TypeString kVoucherType{"Voucher(bytes32 channelId,uint128 maxClaimableAmount)"};
constexpr TypeString kRefundType{"Refund(bytes32 channelId,uint256 nonce,uint128 amount)"};
constexpr TypeString kClaimBatchType{
    "ClaimBatch(ClaimEntry[] claims)ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)"};
constexpr TypeString kClaimEntryType{"ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)"};
constexpr TypeString kReceiveType{
    "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,"
    "bytes32 nonce)"};
constexpr TypeString kPermit2DomainType{"EIP712Domain(string name,uint256 chainId,address verifyingContract)"};
// Permit2 builds this type string from its own prefix and the witness part the collector passes.
constexpr TypeString kPermitWitnessTransferFromType{
    "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,"
    "DepositWitness witness)DepositWitness(bytes32 channelId)TokenPermissions(address token,uint256 amount)"};
constexpr TypeString kTokenPermissionsType{"TokenPermissions(address token,uint256 amount)"};
constexpr TypeString kDepositWitnessType{"DepositWitness(bytes32 channelId)"};
constexpr TypeString kTransferType{
    "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,"
    "bytes32 nonce)"};

Bytes32 erc3009_digest(const Bytes32& domainSeparator, const Bytes32& typeHash,
                       const Erc3009Authorization& a) noexcept {
  return typed_data_digest(domainSeparator, hash_words<7>([&](Words& w) {
                             w.bytes32(typeHash).address(a.from).address(a.to).u256(a.value);
                             w.u256(a.validAfter).u256(a.validBefore).bytes32(a.nonce);
                           }));
}

}  // namespace

const Address kBatchSettlementAddress = make_address({0x40, 0x20, 0x07, 0x4e, 0x9d, 0xF2, 0xce, 0x1d, 0xeE, 0x5A,
                                                      0x9C, 0x1b, 0x5c, 0x3f, 0x54, 0x1D, 0x02, 0xa1, 0x00, 0x03});
const Address kErc3009CollectorAddress = make_address({0x40, 0x20, 0x80, 0x60, 0x89, 0x47, 0x0a, 0x89, 0x82, 0x6c,
                                                       0xB9, 0xfB, 0x1f, 0x40, 0x59, 0x15, 0x0b, 0x55, 0x00, 0x04});
const Address kPermit2CollectorAddress = make_address({0x40, 0x20, 0x42, 0x5F, 0xAf, 0x3B, 0x74, 0x6C, 0x08, 0x2C,
                                                       0x2f, 0x94, 0x2b, 0x4E, 0x51, 0x59, 0x88, 0x7B, 0x00, 0x05});
const Address kPermit2Address = make_address({0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0xD4, 0x73, 0x03, 0x0F,
                                              0x11, 0x6d, 0xDE, 0xE9, 0xF6, 0xB4, 0x3a, 0xC7, 0x8B, 0xA3});

Bytes32 domain_separator(const Eip712Domain& d) noexcept {
  return hash_words<5>([&](Words& w) {
    w.bytes32(type_hash<kDomainType>()).bytes32(keccak256(as_bytes(d.name))).bytes32(keccak256(as_bytes(d.version)));
    w.u64(d.chainId).address(d.verifyingContract);
  });
}

Bytes32 batch_settlement_domain_separator(std::uint64_t chainId, const Address& verifyingContract) noexcept {
  // An agent signs every voucher under the same one or two domains, and a domain costs three
  // keccaks: the last one computed on this thread is remembered.
  struct Last {
    std::uint64_t chainId = 0;
    Address contract;
    Bytes32 separator{};
    bool valid = false;
  };
  thread_local Last last;
  if (!last.valid || last.chainId != chainId || last.contract != verifyingContract) {
    last = Last{chainId, verifyingContract,
                domain_separator(Eip712Domain{"x402 Batch Settlement", "1", chainId, verifyingContract}), true};
  }
  return last.separator;
}

Bytes32 typed_data_digest(const Bytes32& domainSeparator, const Bytes32& structHash) noexcept {
  std::uint8_t buf[66] = {0x19, 0x01};
  std::memcpy(buf + 2, domainSeparator.data(), 32);
  std::memcpy(buf + 34, structHash.data(), 32);
  return keccak256(ByteView{buf, sizeof buf});
}

Bytes32 channel_id(const Bytes32& domainSeparator, const ChannelConfig& c) noexcept {
  return typed_data_digest(domainSeparator, hash_words<8>([&](Words& w) {
                             w.bytes32(type_hash<kChannelConfigType>()).address(c.payer).address(c.payerAuthorizer);
                             w.address(c.receiver).address(c.receiverAuthorizer).address(c.token);
                             w.u64(c.withdrawDelay).bytes32(c.salt);
                           }));
}

Bytes32 voucher_digest(const Bytes32& domainSeparator, const Voucher& v) noexcept {
  return typed_data_digest(domainSeparator, hash_words<3>([&](Words& w) {
                             w.bytes32(type_hash<kVoucherType>()).bytes32(v.channelId).u128(v.maxClaimableAmount);
                           }));
}

Bytes32 refund_digest(const Bytes32& domainSeparator, const Bytes32& channelId, const U256& nonce,
                      Uint128 amount) noexcept {
  return typed_data_digest(domainSeparator, hash_words<4>([&](Words& w) {
                             w.bytes32(type_hash<kRefundType>()).bytes32(channelId).u256(nonce).u128(amount);
                           }));
}

Bytes32 claim_batch_digest(const Bytes32& domainSeparator, std::span<const ClaimEntry> claims) {
  // An array member is encoded as keccak256 of its elements' struct hashes, concatenated.
  std::vector<std::uint8_t> hashes(32 * claims.size());
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const Bytes32 h = hash_words<4>([&](Words& w) {
      w.bytes32(type_hash<kClaimEntryType>()).bytes32(claims[i].channelId).u128(claims[i].maxClaimableAmount);
      w.u128(claims[i].totalClaimed);
    });
    std::memcpy(hashes.data() + 32 * i, h.data(), 32);
  }
  const Bytes32 array_hash = keccak256(hashes);
  return typed_data_digest(domainSeparator,
                           hash_words<2>([&](Words& w) { w.bytes32(type_hash<kClaimBatchType>()).bytes32(array_hash); }));
}

Bytes32 receive_with_authorization_digest(const Bytes32& tokenDomainSeparator, const Erc3009Authorization& a) noexcept {
  return erc3009_digest(tokenDomainSeparator, type_hash<kReceiveType>(), a);
}

Bytes32 transfer_with_authorization_digest(const Bytes32& tokenDomainSeparator,
                                           const Erc3009Authorization& a) noexcept {
  return erc3009_digest(tokenDomainSeparator, type_hash<kTransferType>(), a);
}

Bytes32 permit2_domain_separator(std::uint64_t chainId, const Address& verifyingContract) noexcept {
  return hash_words<4>([&](Words& w) {
    w.bytes32(type_hash<kPermit2DomainType>()).bytes32(keccak256(as_bytes(std::string_view{"Permit2"})));
    w.u64(chainId).address(verifyingContract);
  });
}

Bytes32 permit2_deposit_digest(const Bytes32& permit2DomainSeparator, const Permit2DepositPermit& p) noexcept {
  const Bytes32 permitted =
      hash_words<3>([&](Words& w) { w.bytes32(type_hash<kTokenPermissionsType>()).address(p.token).u256(p.amount); });
  const Bytes32 witness =
      hash_words<2>([&](Words& w) { w.bytes32(type_hash<kDepositWitnessType>()).bytes32(p.channelId); });
  return typed_data_digest(permit2DomainSeparator, hash_words<6>([&](Words& w) {
                             w.bytes32(type_hash<kPermitWitnessTransferFromType>()).bytes32(permitted);
                             w.address(p.spender).u256(p.nonce).u256(p.deadline).bytes32(witness);
                           }));
}

Bytes32 deposit_nonce(const Bytes32& channelId, const Bytes32& salt) noexcept {
  return hash_words<2>([&](Words& w) { w.bytes32(channelId).bytes32(salt); });
}

}  // namespace paychan
