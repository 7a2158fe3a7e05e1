// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// @notice The one function of Multicall3 a facilitator uses, for local chains that lack Multicall3
///         (anvil has none): aggregate3, with Multicall3's ABI, placed at Multicall3's canonical
///         address. It runs the calls in order within one call or transaction, so a wallet's
///         deployment (an ERC-6492 factory call) can precede the deposit that needs the wallet.
contract TestMulticall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @dev As Multicall3: a failed call whose allowFailure is false reverts the whole with
    ///      "Multicall3: call failed"; every other call's outcome is reported.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(success || calls[i].allowFailure, "Multicall3: call failed");
            returnData[i] = Result(success, ret);
        }
    }
}
