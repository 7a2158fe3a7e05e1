// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// @notice The one function of Multicall3 a facilitator uses, for local chains that lack Multicall3
///         (anvil has none): tryAggregate, with Multicall3's ABI, placed at Multicall3's canonical
///         address. It runs the calls in order within one call or transaction, so a wallet's
///         deployment (an ERC-6492 factory call) can precede the deposit that needs the wallet.
contract TestMulticall3 {
    struct Call {
        address target;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @dev As Multicall3: with requireSuccess, any failed call reverts the whole with
    ///      "Multicall3: call failed"; without it, each call's outcome is reported.
    function tryAggregate(bool requireSuccess, Call[] calldata calls)
        external
        payable
        returns (Result[] memory returnData)
    {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (requireSuccess) require(success, "Multicall3: call failed");
            returnData[i] = Result(success, ret);
        }
    }
}
