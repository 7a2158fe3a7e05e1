#include "engine/client/permit2_approval.hpp"

#include "channel/hex.hpp"

namespace paychan::engine::client {

U256 max_allowance() noexcept {
  Bytes32 all{};
  all.fill(0xff);
  return U256::from_be(all);
}

Result<Permit2Approval> approve_permit2(ChannelChain& chain, const Address& token, const U256& amount,
                                        const StepLog& log) {
  Permit2Approval done;
  PAYCHAN_ASSIGN(done.before, chain.permit2_allowance(token, chain.sender()));
  done.after = done.before;
  if (done.before >= amount) return done;
  const auto approve = [&](const U256& value) -> Status {
    if (log) log("approve(Permit2, " + value.to_decimal() + ") on " + to_checksum_hex(token));
    PAYCHAN_ASSIGN(const auto receipt, chain.send_to(token, chain::erc20_approve_call(kPermit2Address, value)));
    done.transactions.push_back(receipt.transactionHash);
    done.after = value;
    return {};
  };
  if (done.before != U256{}) PAYCHAN_TRY(approve(U256{}));
  PAYCHAN_TRY(approve(amount));
  return done;
}

}  // namespace paychan::engine::client
