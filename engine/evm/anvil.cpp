#include "engine/evm/anvil.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "engine/evm/rpc_client.hpp"
#include "engine/http/run_blocking.hpp"

namespace paychan::engine::evm {
namespace {

constexpr std::string_view kNpmBinary = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";
constexpr std::size_t kTailBytes = 8 * 1024;
constexpr std::chrono::seconds kStopGrace{5};

Failure config_fail(std::string detail) { return fail(ErrorCode::invalid_config, std::move(detail)); }

bool executable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

// anvil writes its accounts to --config-out; the keys are read from there rather than re-derived
// from the default mnemonic, so they match whatever this anvil version generates.
Result<std::vector<DevAccount>> read_accounts(const std::filesystem::path& file) {
  std::ifstream in(file);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("private_keys") || !doc["private_keys"].IsArray())
    return config_fail("anvil's --config-out has no private_keys");
  std::vector<DevAccount> accounts;
  for (const auto& k : doc["private_keys"].GetArray()) {
    if (!k.IsString()) return config_fail("anvil's --config-out has a malformed key");
    std::string hex{k.GetString(), k.GetStringLength()};
    auto key = PrivateKey::from_hex(hex);
    if (!key) return config_fail("anvil's --config-out has a malformed key");
    accounts.push_back({*key, std::move(hex)});
  }
  return accounts;
}

}  // namespace

// anvil's stdout and stderr on a pipe, read by a thread until the child exits: it announces the
// port ("Listening on 127.0.0.1:PORT"), then logs every call, which must be drained so that the
// child never blocks on a full pipe. Only a tail is kept.
struct Anvil::Output {
  explicit Output(int fd) : fd(fd), reader([this] { run(); }) {}
  ~Output() {
    reader.join();
    ::close(fd);
  }

  void run() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard lock(mutex);
      tail.append(buf, static_cast<std::size_t>(n));
      if (!port) find_port();
      if (port && tail.size() > kTailBytes) tail.erase(0, tail.size() - kTailBytes);
    }
    std::lock_guard lock(mutex);
    ended = true;
    changed.notify_all();
  }

  void find_port() {
    constexpr std::string_view kAnnounce = "Listening on ";
    const auto at = tail.find(kAnnounce);
    if (at == std::string::npos) return;
    const auto eol = tail.find('\n', at);
    if (eol == std::string::npos) return;  // the rest of the line is still to come
    const std::string endpoint = tail.substr(at + kAnnounce.size(), eol - at - kAnnounce.size());
    const auto colon = endpoint.rfind(':');
    const unsigned long value = colon == std::string::npos ? 0 : std::strtoul(endpoint.c_str() + colon + 1, nullptr, 10);
    port = value > 0 && value <= 65535 ? static_cast<std::uint16_t>(value) : 0;  // 0: announced, unreadable
    changed.notify_all();
  }

  int fd;
  std::mutex mutex;
  std::condition_variable changed;
  std::string tail;
  std::optional<std::uint16_t> port;
  bool ended = false;
  std::thread reader;  // last: started once the members above exist
};

Result<std::string> find_anvil(const std::string& explicit_path) {
  if (!explicit_path.empty()) {
    if (executable(explicit_path)) return explicit_path;
    return config_fail("anvil binary " + explicit_path + " is not executable");
  }
  if (const char* env = std::getenv("PAYCHAN_ANVIL"); env != nullptr && *env != '\0') {
    if (executable(env)) return std::string(env);
    return config_fail("$PAYCHAN_ANVIL (" + std::string(env) + ") is not executable");
  }
  std::string looked;
#ifdef PAYCHAN_SOURCE_DIR
  const std::string npm = std::string(PAYCHAN_SOURCE_DIR) + "/" + std::string(kNpmBinary);
  if (executable(npm)) return npm;
  looked = npm + ", ";
#endif
  if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty() && executable(dir + "/anvil")) return dir + "/anvil";
  }
  return config_fail("no anvil binary (looked at $PAYCHAN_ANVIL, " + looked +
                     "PATH); run `npm ci` in the source tree or set PAYCHAN_ANVIL");
}

Anvil::Anvil(AnvilOptions options) : options_(std::move(options)) {}

Anvil::~Anvil() { stop(); }

std::string Anvil::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string Anvil::output_tail() const {
  if (!output_) return {};
  std::lock_guard lock(output_->mutex);
  return output_->tail;
}

Result<std::unique_ptr<Anvil>> Anvil::start(AnvilOptions options) {
  std::unique_ptr<Anvil> node{new Anvil(std::move(options))};
  PAYCHAN_TRY(node->launch());
  return node;
}

Status Anvil::launch() {
  PAYCHAN_ASSIGN(binary_, find_anvil(options_.binary));
  char dir_template[] = "/tmp/paychan-anvil-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) return config_fail("cannot create a temporary directory");
  dir_ = dir_template;
  const std::string config_out = (dir_ / "anvil.json").string();

  std::vector<std::string> args = {binary_,
                                   "--host", "127.0.0.1",
                                   "--port", std::to_string(options_.port),
                                   "--chain-id", std::to_string(options_.chainId),
                                   "--hardfork", options_.hardfork,
                                   "--accounts", std::to_string(options_.accounts),
                                   "--config-out", config_out};
  if (!options_.automine) args.emplace_back("--no-mining");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return config_fail("cannot create a pipe for anvil");
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The child: only async-signal-safe calls until exec. A caller that takes signals with
    // sigwait (paychan devnet, gate) has them blocked, and exec would keep them blocked.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent is already gone
    ::dup2(devnull, 0);
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  if (devnull >= 0) ::close(devnull);
  if (pid_ < 0) {
    ::close(pipe_fds[0]);
    return config_fail("cannot fork to start anvil");
  }
  output_ = std::make_unique<Output>(pipe_fds[0]);

  const auto deadline = std::chrono::steady_clock::now() + options_.startup_timeout;
  {
    std::unique_lock lock(output_->mutex);
    output_->changed.wait_until(lock, deadline, [&] { return output_->port.has_value() || output_->ended; });
    if (!output_->port || *output_->port == 0) {
      const bool ended = output_->ended;
      lock.unlock();
      return fail(ended ? ErrorCode::invalid_config : ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
                  std::string(ended ? "anvil exited" : "anvil did not announce its port") + ": " + output_tail());
    }
    port_ = *output_->port;
  }

  // Listening is not yet serving: wait until the node answers with the chain id asked for.
  http::ClientOptions quick;
  quick.connect_timeout = std::chrono::milliseconds(1'000);
  quick.response_timeout = std::chrono::milliseconds(2'000);
  RpcClient rpc(url(), quick);
  Error last{ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "no answer"};
  for (;;) {
    auto id = http::run_blocking(rpc.chain_id());
    if (id && *id != options_.chainId)
      return config_fail("anvil answers chain id " + std::to_string(*id) + ", not " + std::to_string(options_.chainId));
    if (id) break;
    last = id.error();
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "anvil is not ready: " + last.detail);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  PAYCHAN_ASSIGN(accounts_, read_accounts(config_out));
  return {};
}

void Anvil::stop() noexcept {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto give_up = std::chrono::steady_clock::now() + kStopGrace;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= give_up) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }
  output_.reset();  // the pipe has ended with the child: the reader thread has finished
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace paychan::engine::evm
