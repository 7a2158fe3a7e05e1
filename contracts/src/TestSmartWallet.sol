// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A smart-contract wallet for tests whose EIP-1271 signatures are longer than an EOA's, as a
///         passkey (WebAuthn) wallet's are: the owner's 65-byte ECDSA signature of
///         keccak256(hash ‖ context), followed by the context (at least one byte). The context is
///         bound into what the owner signed, so a signature cut short or altered anywhere fails.
contract TestSmartWallet {
    bytes4 private constant ERC1271_MAGIC = 0x1626ba7e;
    address public immutable owner;

    error OnlyOwner();

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice The owner's call from the wallet (an ERC-20 approval, say); a revert is passed on.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != owner) revert OnlyOwner();
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length <= 65) return 0xffffffff;
        bytes32 signed = keccak256(abi.encodePacked(hash, signature[65:]));
        (address signer, ECDSA.RecoverError failure,) = ECDSA.tryRecover(signed, signature[0:65]);
        return failure == ECDSA.RecoverError.NoError && signer == owner ? ERC1271_MAGIC : bytes4(0xffffffff);
    }
}

/// @notice Deploys TestSmartWallets at addresses known in advance (CREATE2), as wallet factories do:
///         the factory an ERC-6492 signature names, with createWallet's calldata.
contract TestSmartWalletFactory {
    function createWallet(address owner, bytes32 salt) external returns (address) {
        address wallet = walletAddress(owner, salt);
        if (wallet.code.length > 0) return wallet;
        return address(new TestSmartWallet{salt: salt}(owner));
    }

    /// @notice As createWallet, but reverts for a wallet that exists, as some factories do.
    function createWalletOnce(address owner, bytes32 salt) external returns (address) {
        require(walletAddress(owner, salt).code.length == 0, "wallet exists");
        return address(new TestSmartWallet{salt: salt}(owner));
    }

    function walletAddress(address owner, bytes32 salt) public view returns (address) {
        bytes32 initCode = keccak256(abi.encodePacked(type(TestSmartWallet).creationCode, abi.encode(owner)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initCode)))));
    }
}
