// What the long-running commands (gate, facilitator, devnet, settle --every) share: the --threads
// option, stopping on SIGINT/SIGTERM (and SIGHUP, or reloading on it), the servers' heap setting,
// and announcing the port they bound for scripts.
#pragma once

#include <csignal>
#include <functional>
#include <optional>

#include "cli.hpp"

namespace paychan::cli {

// --threads N (0..256; 0 or absent: one per core). Errors: invalid_config.
[[nodiscard]] Result<std::optional<unsigned>> threads_option(const Args& args);

// Blocks SIGINT, SIGTERM and SIGHUP (a closed terminal: a stop like the others, not an abrupt end)
// in the calling thread, SIGINT and SIGHUP only when not ignored (nohup, a script's background job) — call it before starting any worker thread, so that every thread inherits
// the mask and the signals reach only sigwait/sigtimedwait on the set returned here.
[[nodiscard]] sigset_t block_stop_signals();
// For a service that reloads its configuration on SIGHUP, as servers do (gate, facilitator): as
// block_stop_signals(), but SIGHUP, blocked under nohup too (a closed terminal then reloads the
// file), is left out of the stop signals returned.
[[nodiscard]] sigset_t block_stop_and_reload_signals();
// Waits for a stop signal of `stop_signals`, calling `reload` (on this thread) at each SIGHUP
// meanwhile; returns the stop signal.
int wait_for_stop(const sigset_t& stop_signals, const std::function<void()>& reload);
// A SIGHUP's work for `command` ("gate", ...): `reload` reads `config_file` again and applies what
// may change, returning what to add to the "reloaded FILE" line; its error, or an exception, is
// said instead (the service serves on as before: `reload` changes nothing until it cannot fail). A
// pipe (or another special file) is not read again: --config <(...) was read at start, and opening
// a named pipe would wait for a writer, the stop signals unheard.
// Whether it reloaded.
bool reload_config(const char* command, const std::string& config_file,
                   const std::function<Result<std::string>()>& reload);
// "SIGINT", "SIGTERM" or "SIGHUP", for the line saying why a service stops.
[[nodiscard]] const char* stop_signal_name(int signal) noexcept;
// Runs `body` while another thread takes the signals of `stop_signals` as they come, passing each
// to `on_signal` (on that thread). That thread ends with `body`, even one that throws.
void while_watching(const sigset_t& stop_signals, const std::function<void(int signal)>& on_signal,
                    const std::function<void()>& body);
// Runs `stop` (a graceful stop, returning how many connections its grace cut) while a second
// signal of `stop_signals` calls `end_grace` (an operator who will not wait), saying so on stderr
// for `command`. Returns what `stop` did.
std::size_t stop_unless_signalled_again(const sigset_t& stop_signals, const char* command,
                                        const std::function<std::size_t()>& stop, const std::function<void()>& end_grace);

// engine::http::retain_freed_heap() for a serving command (`command`: "gate", …), with a warning on
// stderr, and serving on, when glibc refuses it.
void keep_freed_heap(const char* command);

// {"port":N} alone on its line on stdout, flushed: how scripts that asked for port 0 learn it.
void announce_port(unsigned port);

}  // namespace paychan::cli
