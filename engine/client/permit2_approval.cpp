#include "engine/client/permit2_approval.hpp"

#include <chrono>
#include <thread>

#include "channel/hex.hpp"

namespace paychan::engine::client {
namespace {

// 2^96 - 1: what some tokens (UNI, COMP: allowances stored as uint96) hold after approve(max), and
// still more than any deposit; an allowance this large counts as the maximum asked for.
U256 capped_maximum() noexcept {
  Bytes32 be{};
  for (std::size_t i = 20; i < be.size(); ++i) be[i] = 0xff;
  return U256::from_be(be);
}

bool covers(const U256& allowance, const U256& amount) {
  return allowance >= amount || (amount == max_allowance() && allowance >= capped_maximum());
}

}  // namespace

U256 max_allowance() noexcept {
  Bytes32 all{};
  all.fill(0xff);
  return U256::from_be(all);
}

Result<Permit2Approval> approve_permit2(ChannelChain& chain, const Address& token, const U256& amount,
                                        const StepLog& log) {
  const auto say = [&](const std::string& line) {
    if (log) log(line);
  };
  Permit2Approval done;
  PAYCHAN_ASSIGN(done.before, chain.permit2_allowance(token, chain.sender()));
  done.after = done.before;
  if (covers(done.before, amount)) return done;
  const auto approve = [&](const U256& value) -> Status {
    const std::string call = "approve(Permit2, " + value.to_decimal() + ") on " + to_checksum_hex(token);
    say(call);
    auto receipt = chain.send_to(token, chain::erc20_approve_call(kPermit2Address, value));
    if (!receipt) {
      Error e = receipt.error();
      if (!done.transactions.empty())
        e.detail += " (the allowance was zeroed first by " + to_hex(done.transactions.back()) +
                    ": Permit2 deposits wait for a run that raises it again)";
      return Failure{std::move(e)};
    }
    done.transactions.push_back(receipt->transactionHash);
    say(call + ": mined in " + to_hex(receipt->transactionHash));
    return {};
  };
  if (done.before != U256{}) PAYCHAN_TRY(approve(U256{}));
  PAYCHAN_TRY(approve(amount));
  // What the token holds now, not what was asked: a token may cap it, or answer approve() with
  // false instead of reverting. Read again after a pause when short: a load-balanced endpoint may
  // answer from a node a block behind the one that gave the receipt.
  for (int read = 1;; ++read) {
    PAYCHAN_ASSIGN(done.after, chain.permit2_allowance(token, chain.sender()));
    if (covers(done.after, amount) || read == 3) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!covers(done.after, amount))
    return fail(ErrorCode::invalid_batch_settlement_evm_permit2_allowance_required,
                "after approve(Permit2, " + amount.to_decimal() + ") in " + to_hex(done.transactions.back()) +
                    ", the token holds an allowance of " + done.after.to_decimal());
  return done;
}

}  // namespace paychan::engine::client
