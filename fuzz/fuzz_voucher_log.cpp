// The voucher log's reader (persistence/voucher_log_format.hpp): a file a crash, a full disk or a
// hand edit left. Whatever it holds is read as a prefix of whole frames or refused with an error;
// the frames read, written again, read back the same. The input is also read as a frame's body
// whose checksum holds (corruption past the CRC, or a foreign writer).
#include "fuzz.hpp"
#include "persistence/crc32c.hpp"
#include "persistence/voucher_log_format.hpp"

namespace {

using namespace paychan::persistence;

// The input as one frame's body with a checksum that holds: what reaches the msgpack decoder.
void scan_as_body(const std::uint8_t* data, std::size_t size) {
  std::string file = encode_log_header(0);
  for (std::uint64_t v : {std::uint64_t{size}, std::uint64_t{crc32c({data, size})}})
    for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>(v >> (8 * i)));
  file.append(paychan::fuzz::text(data, size));
  (void)scan_log(paychan::as_bytes(file));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scan_as_body(data, size);
  // An input without a header would only exercise the header check: it gets one (generation 0).
  std::string file(paychan::fuzz::text(data, size));
  if (!decode_log_header(paychan::as_bytes(file))) file = encode_log_header(0) + file;
  const auto scanned = scan_log(paychan::as_bytes(file));
  if (!scanned || scanned->frames.empty()) return 0;
  std::string again = encode_log_header(scanned->generation);
  for (const LogFrame& f : scanned->frames) {
    std::vector<const LoggedState*> states;
    for (const LoggedState& s : f.states) states.push_back(&s);
    append_frame(again, scanned->generation, states);
  }
  const auto reread = scan_log(paychan::as_bytes(again));
  paychan::fuzz::require(reread && reread->frames.size() == scanned->frames.size());
  for (std::size_t i = 0; i < reread->frames.size(); ++i)
    paychan::fuzz::require(reread->frames[i].states == scanned->frames[i].states);
  return 0;
}
