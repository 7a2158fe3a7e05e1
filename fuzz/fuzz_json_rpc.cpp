// A JSON-RPC node's replies: the envelope, a batch's, and every typed reader.
#include "engine/chain/json_rpc.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan::engine::chain;
  if (auto reply = parse_rpc_reply(paychan::fuzz::text(data, size), 1)) {
    (void)read_quantity(reply->result);
    (void)read_data(reply->result);
    (void)read_hash(reply->result);
    (void)read_receipt(reply->result);
    (void)read_block(reply->result);
    (void)read_logs(reply->result);
  }
  (void)parse_rpc_batch_reply(paychan::fuzz::text(data, size), 1, 3);
  return 0;
}
