// A tiny contract for the RPC tests, compiled with solc 0.8.37 (npm `solc`, optimizer on, 200 runs,
// evmVersion cancun) from this source:
//
//   // SPDX-License-Identifier: MIT
//   pragma solidity 0.8.37;
//   contract Probe {
//       event Ping(address indexed from, uint256 value);
//       uint256 public stored;
//       constructor(uint256 initial) { stored = initial; }
//       function ping(uint256 value) external { stored = value; emit Ping(msg.sender, value); }
//       function refuse() external pure { revert("probe refuses"); }
//   }
#pragma once

#include <string_view>

namespace paychan::engine::evm::test {

inline constexpr std::string_view kProbeBytecode =
    "0x6080604052348015600e575f5ffd5b50604051610186380380610186833981016040819052602b916031565b5f556047565b5f60"
    "2082840312156040575f5ffd5b5051919050565b610132806100545f395ff3fe6080604052348015600e575f5ffd5b5060043610"
    "603a575f3560e01c806362c69b8014603e578063773acdef146046578063e582dd31146055575b5f5ffd5b6044606e565b005b60"
    "44605136600460e6565b60aa565b605c5f5481565b60405190815260200160405180910390f35b60405162461bcd60e51b815260"
    "206004820152600d60248201526c70726f6265207265667573657360981b604482015260640160405180910390fd5b5f81905560"
    "405181815233907ffd8d0c1dc3ab254ec49463a1192bb2423b3b851adedec1aa94dcd362dc063c9d9060200160405180910390a2"
    "50565b5f6020828403121560f5575f5ffd5b503591905056fea2646970667358221220d775eaee63cb0b06184cf81ce821c4d402"
    "114ee9139791287e8585292ff2244364736f6c63430008250033";

}  // namespace paychan::engine::evm::test
