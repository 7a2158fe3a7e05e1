// The facilitator's verification rules (scheme_batch_settlement_evm.md, "Verification Rules"), for
// /verify and before a deposit is settled. The pure rules are channel/server_rules' (offer terms,
// channel id, voucher signature, funding); this adds what needs the chain: EIP-1271 signatures,
// the ERC-3009 authorization against the chain's clock, the payer's token balance, the on-chain
// snapshot, the payer's allowance to Permit2, and a simulation of the deposit.
// Thread-safety: coroutines over a ChainView; no state of their own.
#pragma once

#include <cstdint>
#include <optional>

#include "channel/server_rules.hpp"
#include "engine/facilitator/chain_view.hpp"
#include "protocol/payment_payload.hpp"

namespace paychan::engine::facilitator {

// A transaction ready to simulate and send.
struct Action {
  Address to;
  Bytes data;
  std::optional<std::uint64_t> gas;  // its gas, when estimated already (a deposit that deploys its wallet)
};

// The outcome of verifying one payload. A refusal is an answer (its code and detail), not an
// error; a failed chain read is a refusal with invalid_batch_settlement_evm_rpc_read_failed.
// The snapshot is present whenever it was read, valid or not.
struct Verdict {
  std::optional<Error> refusal;
  std::optional<protocol::ChannelSnapshot> snapshot;
  Address payer;
  // A deposit that passed: the transaction that makes it, as simulated (to the contract, or to
  // Multicall3 when the payer's wallet is deployed with it).
  Action depositTransaction;
};

// What an offer fixes about a channel, from the requirements the server sent along.
// Errors: invalid_payment_requirements, invalid_batch_settlement_evm_missing_eip712_domain.
[[nodiscard]] Result<OfferTerms> offer_terms(const protocol::PaymentRequirements& requirements);

// A voucher or refund payload: channel id, offer terms, the voucher's signer (EIP-1271 when the
// payerAuthorizer is zero), a funded channel, maxClaimableAmount within the balance and above
// totalClaimed (at or above for a refund).
[[nodiscard]] http::Awaitable<Verdict> verify_voucher(ChainView& chain, const protocol::PaymentRequirements& requirements,
                                                      const ChannelConfig& config, const SignedVoucher& voucher,
                                                      PayloadType type);

// A deposit payload: as a voucher (funding counts the deposit), plus its authorization by the
// offer's extra.assetTransferMethod — without one, by the payload's kind; "permit2" Permit2, any
// other ERC-3009, as the reference resolves it:
// - eip3009: the ERC-3009 ReceiveWithAuthorization under the token's domain (extra.name/version)
//   to the collector with nonce keccak256(abi.encode(channelId, salt)), validAfter ≤ chain time <
//   validBefore (with a few seconds' margin for inclusion);
// - permit2: Permit2's PermitWitnessTransferFrom under Permit2's domain from the payer, of exactly
//   the deposit in the offer's asset, to the Permit2 collector, witnessing the channel, its
//   deadline a few seconds past chain time, and the payer's allowance to Permit2 covering it
//   (permit2_allowance_required: the payer approves Permit2 beforehand; the reference's
//   gas-sponsoring extensions that would do it for them are not taken); a Permit2 offer with an
//   ERC-3009 payload is payload_type;
// and the payer's token balance, and a simulated deposit from `relayer`.
// A smart wallet's authorization may come wrapped for a wallet not yet deployed (ERC-6492): it is
// unwrapped for a deployed wallet. For an undeployed one it is refused
// (eip6492_factory_not_allowed) unless the network allows its factory; then the factory call, the
// new wallet's EIP-1271 check of the signature and the deposit are simulated together through
// Multicall3, and the deposit's transaction makes the factory call and the deposit in one
// aggregate3 (at most kMaxDeploymentGas). Such a channel needs a payerAuthorizer.
[[nodiscard]] http::Awaitable<Verdict> verify_deposit(ChainView& chain, const protocol::PaymentRequirements& requirements,
                                                      const protocol::DepositPayload& deposit, const Address& relayer);

}  // namespace paychan::engine::facilitator
