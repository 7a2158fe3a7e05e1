#include "commands.hpp"

namespace paychan::cli {

// Each command is defined in its cmd_*.cpp.
extern const Command kApprove;
extern const Command kChannelId;
extern const Command kChannels;
extern const Command kDecode;
extern const Command kDemo;
extern const Command kDevnet;
extern const Command kFacilitator;
extern const Command kGate;
extern const Command kKeyAddress;
extern const Command kKeyToken;
extern const Command kKeyNew;
extern const Command kPay;
extern const Command kRefund;
extern const Command kSettle;
extern const Command kVoucherSign;
extern const Command kVoucherVerify;
extern const Command kWithdraw;

std::span<const Command> commands() {
  // A function-local static: filled on first use, after every command's constant initialization.
  static const Command table[] = {kDemo,     kDevnet,   kGate,      kSettle,     kFacilitator, kPay,
                                  kChannels, kRefund,   kWithdraw,  kApprove,    kChannelId,   kVoucherSign,
                                  kVoucherVerify, kDecode, kKeyNew, kKeyAddress, kKeyToken};
  return table;
}

}  // namespace paychan::cli
