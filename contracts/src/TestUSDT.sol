// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestUSDT — a USDT-like token for tests: neither ERC-3009 nor EIP-2612 (deposits go through Permit2), and
///        Tether's approve rule
/// @notice Like Tether's USDT, approve() refuses to turn one non-zero allowance into another: a payer lowers it to
///         zero first. Transfers under an allowance are unaffected (they spend it through _spendAllowance). Anyone
///         may mint: this is a test token.
contract TestUSDT is ERC20 {
    error NonZeroToNonZeroApproval(address owner, address spender, uint256 current);

    constructor() ERC20("Tether USD", "USDT") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function approve(address spender, uint256 value) public override returns (bool) {
        uint256 current = allowance(msg.sender, spender);
        if (value != 0 && current != 0) revert NonZeroToNonZeroApproval(msg.sender, spender, current);
        return super.approve(spender, value);
    }
}
