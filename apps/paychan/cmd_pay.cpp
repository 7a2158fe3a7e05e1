// paychan pay — curl for paid APIs: one HTTP request, paid through batch-settlement when the
// server asks, within the agent's policy.
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "channel/hex.hpp"
#include "client_options.hpp"
#include "commands.hpp"

namespace paychan::cli {
namespace {

namespace http = engine::http;

constexpr std::string_view kHelp = R"(usage: paychan pay URL [-X METHOD] [-H 'Name: value']... [-d BODY|@FILE] [-v] [agent options]

Sends one HTTP request. When the server answers 402 with an x402 batch-settlement offer the agent
accepts, pays it: the first time a deposit into a new channel (an ERC-3009 authorization for
--deposit-requests times the price, or the offer's minDeposit if more; for an offer whose
extra.assetTransferMethod is permit2, a Permit2 permit instead, which needs the payer's approval
of Permit2 0x000000000022D473030F116dDEE9F6B43aC78BA3 for the token beforehand — `paychan approve
TOKEN --rpc URL` sends it once; pay does not, and with --rpc signs no permit until it is given)
with a voucher, then one
signed voucher per request, topping up before the balance runs out. Every PAYMENT-RESPONSE is
checked before the next signature; a server that overcharges or misreports is refused and its
channel suspended. Channel state is kept in the agent's store, so later calls (and `paychan
channels`) continue where this one left off. Pay processes sharing a store take turns: one started
while another waits for its answer waits (saying so, for up to its --max-time) for that answer's
head; a streamed body does not hold the store up.

With --rpc URL the agent also reads the chain: after losing its store it finds its channels to the
provider on chain (from its key and the offer) and continues them from what the provider claimed,
instead of depositing into a new channel; and when a server breaks the rules it starts the timed
withdrawal of the channel (finish it with `paychan withdraw CHANNEL_ID --finalize`); and a
server's word that a channel is short of funds is checked on chain before the agent deposits.
Without it, such a word is taken for one confirmed deposit at a time, and again only once the
provider has served that deposit's worth (kept in the store, across calls).

URL is http:// or https://; an https server's certificate must chain to the system's certificate
authorities (Debian: ca-certificates) or to those of $SSL_CERT_FILE, and name its host.

Prints the response body on stdout as it arrives (an SSE stream token by token, a download of any
size), then checks its PAYMENT-RESPONSE. Exit status: 0 for a 2xx answer, 1 for any other HTTP
status, a payment that was refused (the reason on stderr; an answer whose PAYMENT-RESPONSE is
refused has been printed all the same), an answer that broke off after it began, or a stdout that
closed early (in these two the payment is recorded as made), 2 for bad options or an unreachable
server.

  -X METHOD          request method (default GET, or POST with -d)
  -H 'Name: value'   a request header (repeatable)
  -d BODY            request body; -d @FILE reads it from FILE
  -v                 show each payment step on stderr (never keys or signatures)
  --max-time T       the longest wait for the answer's head, and the longest silence within its
                     body (default: for a paid answer its offer's maxTimeoutSeconds and 90s more,
                     since the provider charges an answer that comes within it; else 330s); also
                     the longest wait for another pay using the store (default 330s)
  --accept-provider-state
                     take up the provider's running total from its corrective 402 even for a
                     voucher this state file does not know was sent (the file was restored from a
                     backup, or copied and used elsewhere). Without it such a request fails with
                     corrective_state_not_held: a server may refuse a voucher, then claim it as paid.
                     It also takes up a fourth charge in a row whose answer never came, which
                     otherwise fails with corrective_charges_unserved, and (without --rpc) makes
                     one more deposit on the server's word that the channel is short of funds,
                     which otherwise fails with response_balance_mismatch.

  paychan pay --key-file agent.key --budget '$2' 'https://api.example.com/v1/price?sym=ETH'
  paychan pay --key-file agent.key -d @prompt.json -H 'Content-Type: application/json' \
      --max-price '$0.02' https://api.example.com/v1/chat
  PAYCHAN_KEY=… PAYCHAN_STATE=agent.sqlite paychan pay -v http://127.0.0.1:8402/v1/infer

)";

int run(std::span<char* const> argv) {
  std::vector<std::string_view> known{std::begin(kClientOptionNames), std::end(kClientOptionNames)};
  known.insert(known.end(), {"request", "header", "data", "verbose", "accept-provider-state", "max-time"});
  const std::string_view flags[] = {"verbose", "accept-provider-state"};
  auto args = parse_command(argv, known, flags, 1);
  if (!args) return report("pay", args.error());
  if (args->positional().size() != 1) return report("pay", Error{ErrorCode::invalid_payload, "one URL expected (see --help)"});
  // A paid answer is waited for as its offer says (ClientOptions::maxWait); anything else as long
  // as a default offer's (300 s), and then some. Another pay holding the store is waited for as long.
  std::chrono::seconds max_time{330};
  const auto max_time_text = args->option("max-time");
  if (max_time_text) {
    auto d = parse_duration(*max_time_text);
    if (!d) return report("pay", Error{ErrorCode::invalid_config, "--max-time " + *max_time_text + ": " + d.error().detail});
    max_time = *d;
  }
  auto setup = agent_setup(*args, ChainUse::when_configured, StoreUse::create, max_time);
  if (!setup) return report("pay", setup.error());

  std::string body;
  if (auto data = args->option("data")) {
    if (data->starts_with("@")) {
      auto text = read_input(data->substr(1), 64 << 20);
      if (!text) return report("pay", text.error());
      body = std::move(*text);
    } else {
      body = *data;
    }
  }
  const std::string method = args->option("request").value_or(args->has("data") ? "POST" : "GET");
  http::ClientRequest request{method, args->positional()[0]};
  for (const auto& h : args->options("header")) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0)
      return report("pay", Error{ErrorCode::invalid_payload, "-H wants 'Name: value', got: " + h});
    request.header(h.substr(0, colon), h.substr(h.find_first_not_of(' ', colon + 1) == std::string::npos
                                                    ? h.size()
                                                    : h.find_first_not_of(' ', colon + 1)));
  }
  if (!body.empty()) request.body(std::move(body));

  engine::client::ClientOptions options;
  options.policy = setup->policy;
  options.chain = setup->chain;
  options.acceptProviderState = args->has("accept-provider-state");
  if (args->has("verbose")) options.log = [](std::string_view line) { std::cerr << "* " << line << '\n'; };
  if (max_time_text) options.maxWait = max_time;
  http::ClientOptions transport;
  transport.response_timeout = max_time;
  transport.read_timeout = max_time;
  http::BlockingHttpClient http(transport);
  engine::client::PaymentClient client(setup->keys, options, *setup->store, http);
  // A reader that went away (`| head`) must not kill pay before it records what it paid.
  std::signal(SIGPIPE, SIG_IGN);
  bool stdout_closed = false;
  int write_errno = 0;
  const auto print = [&](std::string_view piece) {
    stdout_closed = std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size() || std::fflush(stdout) != 0;
    if (stdout_closed) write_errno = errno;
    return !stdout_closed;
  };
  // The charge is recorded once the answer's head is in: other pay processes on this store need
  // not wait for its body (a stream may last minutes). A store that cannot be written keeps it.
  auto paid = client.fetch(request, print, [&] {
    if (client.flush()) setup->lock.release();
  });
  if (!paid) {
    std::cerr << "paychan pay: " << paid.error().to_string() << '\n';
    const bool transport = paid.error().code >= ErrorCode::http_invalid_request && paid.error().code <= ErrorCode::http_peer_closed;
    return transport ? kExitUsage : kExitNo;
  }
  if (args->has("verbose"))
    std::cerr << "* HTTP " << paid->response.status << ", charged " << to_decimal(paid->charged)
              << (paid->takenUp ? " (and " + to_decimal(paid->takenUp) + " charged before, taken up from the provider)"
                                : std::string{})
              << (paid->deposited ? ", deposited " + to_decimal(paid->deposited) : std::string{}) << '\n';
  if (stdout_closed) {
    std::cerr << "paychan pay: stdout closed before the answer's end (" << std::strerror(write_errno)
              << "): the rest was dropped\n";
    return kExitNo;
  }
  if (const auto& cut = paid->response.cut) {
    std::cerr << "paychan pay: the answer broke off (" << cut->to_string() << ")"
              << (paid->charged != 0 ? "; it was charged as its head said, " + to_decimal(paid->charged) : std::string{})
              << '\n';
    return kExitNo;
  }
  if (paid->response.status < 200 || paid->response.status >= 300) {
    std::cerr << "paychan pay: HTTP " << paid->response.status << '\n';
    return kExitNo;
  }
  return kExitOk;
}

}  // namespace

extern const Command kPay{"pay", "send an HTTP request, paying for it within a budget (curl for paid APIs)", kHelp, run,
                          kClientOptionsHelp};

}  // namespace paychan::cli
