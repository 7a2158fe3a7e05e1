// Smart-contract wallets on the test chain: contracts/src/TestSmartWallet.sol's wallets, whose
// EIP-1271 signatures are longer than an EOA's (the owner's ECDSA signature of
// keccak256(digest ‖ context), then the context), made at known addresses by its factory, and
// ERC-6492's wrapping of a signature for a wallet not deployed yet.
#pragma once

#include <gtest/gtest.h>

#include "channel/keccak.hpp"
#include "channel/wallet_signature.hpp"
#include "devnet_fixture.hpp"
#include "engine/chain/abi.hpp"
#include "engine/chain/erc6492.hpp"
#include "engine/evm/deployment.hpp"

namespace paychan::engine::evm::test {

// What a passkey wallet signs besides the digest (WebAuthn's authenticator data and client data
// run to a few hundred bytes): 200 bytes here.
inline Bytes wallet_context() {
  Bytes context(200);
  for (std::size_t i = 0; i < context.size(); ++i) context[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return context;
}

// A TestSmartWallet's signature of `digest` by its owner: 265 bytes.
inline WalletSignature smart_wallet_signature(const PrivateKey& owner, const Bytes32& digest) {
  const Bytes context = wallet_context();
  Bytes message(digest.begin(), digest.end());
  message.insert(message.end(), context.begin(), context.end());
  const Signature ecdsa = owner.sign(keccak256(message));
  Bytes signature(ecdsa.begin(), ecdsa.end());
  signature.insert(signature.end(), context.begin(), context.end());
  return *WalletSignature::from_bytes(signature);
}

// `inner` wrapped for a wallet that `factory` deploys when called with `factoryCalldata` (ERC-6492).
inline WalletSignature erc6492_wrapped(const Address& factory, const Bytes& factoryCalldata, const WalletSignature& inner) {
  Bytes out;
  chain::AbiValue::tuple({chain::AbiValue::address(factory), chain::AbiValue::bytes(factoryCalldata),
                          chain::AbiValue::bytes(inner.bytes())})
      .encode_to(out);
  out.insert(out.end(), chain::kErc6492Suffix.begin(), chain::kErc6492Suffix.end());
  return *WalletSignature::from_bytes(out);
}

class SmartWallets {
 public:
  // Deploys a TestSmartWalletFactory from dev account 0.
  explicit SmartWallets(Devnet& chain) : chain_(chain) {
    auto artifact = evm::load_artifact(evm::default_artifacts_dir() / "TestSmartWalletFactory.json");
    EXPECT_TRUE(artifact) << artifact.error().to_string();
    if (!artifact) return;
    auto deployed = chain_.run(evm::deploy_contract(chain_.sender(), artifact->bytecode));
    EXPECT_TRUE(deployed) << deployed.error().to_string();
    if (deployed) factory_ = *deployed;
  }

  [[nodiscard]] const Address& factory() const { return factory_; }

  // The calldata of createWallet(owner, salt): the deployment an ERC-6492 signature carries.
  [[nodiscard]] static Bytes create_call(const Address& owner, const Bytes32& salt) {
    return chain::encode_call("createWallet(address,bytes32)", {chain::AbiValue::address(owner), chain::AbiValue::word(salt)});
  }

  // The calldata of createWalletOnce(owner, salt): as create_call's, but the factory reverts for a
  // wallet that exists.
  [[nodiscard]] static Bytes create_once_call(const Address& owner, const Bytes32& salt) {
    return chain::encode_call("createWalletOnce(address,bytes32)",
                              {chain::AbiValue::address(owner), chain::AbiValue::word(salt)});
  }

  // The address of `owner`'s wallet under `salt`, deployed or not.
  [[nodiscard]] Address address_of(const Address& owner, const Bytes32& salt) {
    auto reply = chain_.run(chain_.rpc().call(
        factory_, chain::encode_call("walletAddress(address,bytes32)",
                                     {chain::AbiValue::address(owner), chain::AbiValue::word(salt)})));
    EXPECT_TRUE(reply) << reply.error().to_string();
    if (!reply) return {};
    auto address = chain::AbiReader{*reply}.address(0);
    EXPECT_TRUE(address) << address.error().to_string();
    return address ? *address : Address{};
  }

  // Deploys `owner`'s wallet under `salt` and returns its address.
  [[nodiscard]] Address deploy(const Address& owner, const Bytes32& salt) {
    evm::TxRequest tx;
    tx.to = factory_;
    tx.data = create_call(owner, salt);
    auto sent = chain_.run(chain_.sender().submit(std::move(tx)));
    EXPECT_TRUE(sent) << sent.error().to_string();
    if (!sent) return {};
    auto receipt = chain_.run(chain_.sender().wait(*sent));
    EXPECT_TRUE(receipt && receipt->success) << "createWallet did not succeed";
    return address_of(owner, salt);
  }

 private:
  Devnet& chain_;
  Address factory_;
};

}  // namespace paychan::engine::evm::test
