// paychan decode — any x402 header value → its JSON, checked against the message it should be.
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "protocol/channel_json.hpp"
#include "protocol/headers.hpp"

namespace paychan::cli {
namespace {

constexpr std::string_view kHelp = R"help(usage: paychan decode [--as HEADER] [VALUE|FILE|-]

Decodes an x402 v2 header value (base64 of JSON) and prints its JSON, indented. The value is given
on the command line, in a file, or on stdin (- or nothing). The header is
recognised by its content (PAYMENT-SIGNATURE: a PaymentPayload; PAYMENT-REQUIRED: a
PaymentRequired; PAYMENT-RESPONSE: a SettlementResponse) or named with --as. The JSON is checked
against that message's schema; a violation is reported on stderr with exit 1.

  paychan decode "$(curl -si http://127.0.0.1:8402/v1/chat | sed -n 's/^payment-required: //Ip')"
  paychan decode --as PAYMENT-RESPONSE eyJzdWNjZXNzIjp0cnVl…
)help";

// Which message the JSON is, by the members only that message has.
std::string_view guess(std::string_view json) {
  if (json.find("\"accepted\"") != std::string_view::npos) return protocol::kPaymentSignatureHeader;
  if (json.find("\"accepts\"") != std::string_view::npos) return protocol::kPaymentRequiredHeader;
  return protocol::kPaymentResponseHeader;
}

Status check(std::string_view header, std::string_view json) {
  if (header == protocol::kPaymentSignatureHeader) {
    if (auto p = protocol::decode_payment_payload(json); !p) return p.failure();
  } else if (header == protocol::kPaymentRequiredHeader) {
    if (auto p = protocol::decode_payment_required(json); !p) return p.failure();
  } else if (header == protocol::kPaymentResponseHeader) {
    if (auto p = protocol::decode_settlement_response(json); !p) return p.failure();
  }
  return {};
}

bool known_header(std::string_view header) {
  return header == protocol::kPaymentSignatureHeader || header == protocol::kPaymentRequiredHeader ||
         header == protocol::kPaymentResponseHeader;
}

int run(std::span<char* const> argv) {
  const std::string_view known[] = {"as"};
  auto args = parse_command(argv, known, {}, 1);
  if (!args) return report("decode", args.error());
  if (auto as = args->option("as"); as && !known_header(*as))
    return report("decode", Error{ErrorCode::invalid_payload, "--as " + *as + ": PAYMENT-SIGNATURE, PAYMENT-REQUIRED or PAYMENT-RESPONSE"});
  auto value = read_value(args->positional());
  if (!value) return report("decode", value.error());
  std::string_view text = *value;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  auto json = protocol::header_json(text);
  if (!json) {
    // A mistyped file name reads as a value: say so, or the error would be only about base64.
    const auto& given = args->positional();
    const auto path_like = [](std::string_view s) {
      return s.size() < 256 && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./~") ==
                                   std::string_view::npos;
    };
    if (!given.empty() && given[0] != "-" && *value == given[0] && path_like(given[0]))
      return report("decode", Error{json.error().code, json.error().detail + " (read as a header value: no file " +
                                                           given[0] + " exists)"});
    return report("decode", json.error());
  }
  auto pretty = protocol::pretty_json(*json);
  if (!pretty) return report("decode", pretty.error());
  std::cout << *pretty << '\n';
  const std::string header = args->option("as").value_or(std::string{guess(*json)});
  if (auto s = check(header, *json); !s) {
    std::cerr << "paychan decode: not a valid " << header << ": " << s.error().to_string() << '\n';
    return kExitNo;
  }
  std::cerr << "paychan decode: a valid " << header << '\n';
  return kExitOk;
}

}  // namespace

extern const Command kDecode{"decode", "decode any x402 header value into indented JSON", kHelp, run};

}  // namespace paychan::cli
