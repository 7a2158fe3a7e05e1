#include "engine/facilitator/facilitator_config.hpp"

#include "engine/config_file.hpp"
#include "engine/http/url.hpp"
#include "protocol/json_reader.hpp"
#include "protocol/requirements.hpp"

namespace paychan::engine::facilitator {
namespace {

using protocol::Fields;

Status check_rpc_url(const Fields& f, const char* member, const std::string& url) {
  if (!http::parse_url(url)) return f.error(member, "must be an http[s]://host[:port][/path] URL of the node");
  return {};
}

Result<std::vector<Address>> read_addresses(const Fields& f, const char* member, std::size_t max, const std::string& what) {
  PAYCHAN_ASSIGN(const rapidjson::Value* list, f.value(member));
  if (!list->IsArray() || list->Size() > max)
    return f.error(member, "must be an array of at most " + std::to_string(max) + " " + what);
  std::vector<Address> out;
  for (const auto& item : list->GetArray()) {
    if (!item.IsString()) return f.error(member, "must hold only 0x addresses");
    auto address = parse_address({item.GetString(), item.GetStringLength()});
    if (!address) return f.error(member, "must hold only 0x addresses: " + address.error().detail);
    out.push_back(*address);
  }
  return out;
}

// "eip155:8453": "http://…"  or  "eip155:31337": {"rpc": "http://…", "batchSettlement": "0x…",
// "erc3009Collector": "0x…", "permit2Collector": "0x…", "permit2": "0x…", "multicall3": "0x…",
// "eip6492AllowedFactories": ["0x…", …]}
Result<NetworkOptions> read_network(const Fields& networks, const char* name, const rapidjson::Value& v) {
  NetworkOptions n;
  n.network = name;
  auto chain = protocol::evm_chain_id(n.network);
  if (!chain || *chain == 0) return networks.error(name, "must be named \"eip155:<chainId>\"");
  if (v.IsString()) {
    n.rpcUrl.assign(v.GetString(), v.GetStringLength());
    PAYCHAN_TRY(check_rpc_url(networks, name, n.rpcUrl));
    return n;
  }
  const Fields f(v, networks.path() + "." + name, ErrorCode::invalid_config);
  if (!v.IsObject()) return networks.error(name, "must be the node's URL or {\"rpc\": URL, ...}");
  PAYCHAN_TRY(f.only({"rpc", "batchSettlement", "erc3009Collector", "permit2Collector", "permit2", "multicall3",
                      "eip6492AllowedFactories"}));
  PAYCHAN_ASSIGN(n.rpcUrl, f.string("rpc"));
  PAYCHAN_TRY(check_rpc_url(f, "rpc", n.rpcUrl));
  if (f.has("batchSettlement")) {
    PAYCHAN_ASSIGN(n.batchSettlement, f.address("batchSettlement"));
  }
  if (f.has("erc3009Collector")) {
    PAYCHAN_ASSIGN(n.erc3009Collector, f.address("erc3009Collector"));
  }
  if (f.has("permit2Collector")) {
    PAYCHAN_ASSIGN(n.permit2Collector, f.address("permit2Collector"));
  }
  if (f.has("permit2")) {
    PAYCHAN_ASSIGN(n.permit2, f.address("permit2"));
  }
  if (f.has("multicall3")) {
    PAYCHAN_ASSIGN(n.multicall3, f.address("multicall3"));
  }
  if (f.has("eip6492AllowedFactories")) {
    PAYCHAN_ASSIGN(n.eip6492AllowedFactories,
                   read_addresses(f, "eip6492AllowedFactories", kMaxFactories, "wallet factory addresses"));
  }
  return n;
}

// {"name": "gate-eu", "tokenFile": "gate-eu.token", "receivers": ["0x…", …]}
Result<ClientConfig> read_client(const Fields& f) {
  PAYCHAN_TRY(f.only({"name", "tokenFile", "receivers"}));
  ClientConfig c;
  PAYCHAN_ASSIGN(c.name, f.string("name"));
  if (c.name.empty()) return f.error("name", "must not be empty");
  PAYCHAN_ASSIGN(c.tokenFile, f.string("tokenFile"));
  PAYCHAN_ASSIGN(c.receivers, read_addresses(f, "receivers", kMaxReceiversPerClient,
                                             "addresses (the payTo of the client's offers)"));
  return c;
}

Result<std::vector<ClientConfig>> read_clients(const Fields& f) {
  PAYCHAN_ASSIGN(const rapidjson::Value* clients, f.value("clients"));
  if (!clients->IsArray() || clients->Empty() || clients->Size() > kMaxClients)
    return f.error("clients", "must be an array of 1..256 clients");
  std::vector<ClientConfig> out;
  for (rapidjson::SizeType i = 0; i < clients->Size(); ++i) {
    const Fields c((*clients)[i], f.path() + (f.path().empty() ? "" : ".") + "clients[" + std::to_string(i) + "]",
                   ErrorCode::invalid_config);
    PAYCHAN_ASSIGN(ClientConfig client, read_client(c));
    for (const auto& other : out)
      if (other.name == client.name) return c.error("name", "is used by another client");
    out.push_back(std::move(client));
  }
  return out;
}

Result<FacilitatorConfig> read_config(const Fields& f) {
  PAYCHAN_TRY(f.only({"networks", "signerKeyFile", "receiverAuthorizerKeyFile", "clients", "journal", "listen",
                      "metricsListen", "receiptTimeoutSeconds", "repriceAfterSeconds", "maxFeePerGasGwei"}));
  FacilitatorConfig c;
  PAYCHAN_ASSIGN(const rapidjson::Value* networks, f.value("networks"));
  if (!networks->IsObject() || networks->MemberCount() == 0 || networks->MemberCount() > kMaxNetworks)
    return f.error("networks", "must map 1..64 CAIP-2 network ids to RPC URLs");
  const Fields nf(*networks, f.path().empty() ? "networks" : f.path() + ".networks", ErrorCode::invalid_config);
  for (auto it = networks->MemberBegin(); it != networks->MemberEnd(); ++it) {
    const std::string name(it->name.GetString(), it->name.GetStringLength());
    PAYCHAN_ASSIGN(NetworkOptions n, read_network(nf, name.c_str(), it->value));
    c.networks.push_back(std::move(n));
  }
  PAYCHAN_ASSIGN(c.signerKeyFile, f.string("signerKeyFile"));
  PAYCHAN_ASSIGN(c.receiverAuthorizerKeyFile, f.optional_string("receiverAuthorizerKeyFile"));
  if (f.has("journal")) {
    PAYCHAN_ASSIGN(c.journal, f.string("journal"));
  }
  if (f.has("listen")) {
    PAYCHAN_ASSIGN(c.listen, f.string("listen"));
  }
  if (f.has("metricsListen")) {
    PAYCHAN_ASSIGN(c.metricsListen, f.string("metricsListen"));
  }
  if (f.has("receiptTimeoutSeconds")) {
    PAYCHAN_ASSIGN(c.receiptTimeoutSeconds, f.uint64("receiptTimeoutSeconds", 3600));
    if (c.receiptTimeoutSeconds == 0) return f.error("receiptTimeoutSeconds", "must be 1..3600");
  }
  if (f.has("repriceAfterSeconds")) {
    PAYCHAN_ASSIGN(c.repriceAfterSeconds, f.uint64("repriceAfterSeconds", 86'400));
    if (c.repriceAfterSeconds == 0) return f.error("repriceAfterSeconds", "must be 1..86400");
  }
  if (f.has("maxFeePerGasGwei")) {
    PAYCHAN_ASSIGN(c.maxFeePerGasGwei, f.uint64("maxFeePerGasGwei", 1'000'000));
    if (*c.maxFeePerGasGwei == 0) return f.error("maxFeePerGasGwei", "must be 1..1000000");
  }
  if (f.has("clients")) {
    PAYCHAN_ASSIGN(c.clients, read_clients(f));
  }
  if (c.receiverAuthorizerKeyFile && c.clients.empty())
    return f.error("receiverAuthorizerKeyFile",
                   "needs \"clients\": the key signs claims and refunds only for the receivers a client may act for");
  return c;
}

}  // namespace

Result<FacilitatorConfig> parse_facilitator_config(std::string_view json) {
  return protocol::decode_with(json, ErrorCode::invalid_config, "", read_config);
}

Result<FacilitatorConfig> load_facilitator_config(const std::string& path) {
  auto text = read_config_file(path);
  if (!text) return text.failure();
  auto config = parse_facilitator_config(*text);
  if (!config) return fail(config.error().code, path + ": " + config.error().detail);
  return config;
}

std::vector<std::string_view> members_needing_restart(const FacilitatorConfig& running, const FacilitatorConfig& next) {
  std::vector<std::string_view> changed;
  const auto compare = [&changed](std::string_view member, bool same) {
    if (!same) changed.push_back(member);
  };
  compare("networks", running.networks == next.networks);
  compare("signerKeyFile", running.signerKeyFile == next.signerKeyFile);
  compare("receiverAuthorizerKeyFile", running.receiverAuthorizerKeyFile == next.receiverAuthorizerKeyFile);
  compare("journal", running.journal == next.journal);
  compare("listen", running.listen == next.listen);
  compare("metricsListen", running.metricsListen == next.metricsListen);
  compare("receiptTimeoutSeconds", running.receiptTimeoutSeconds == next.receiptTimeoutSeconds);
  compare("repriceAfterSeconds", running.repriceAfterSeconds == next.repriceAfterSeconds);
  compare("maxFeePerGasGwei", running.maxFeePerGasGwei == next.maxFeePerGasGwei);
  // Without clients the API is open to anyone: opening or closing it is a restart's to do.
  compare("clients", running.clients.empty() == next.clients.empty());
  FacilitatorConfig reloaded = running;  // what a reload makes of the running configuration
  reloaded.clients = next.clients;
  if (changed.empty() && reloaded != next) changed.push_back("another member");  // one added and not named above
  return changed;
}

}  // namespace paychan::engine::facilitator
