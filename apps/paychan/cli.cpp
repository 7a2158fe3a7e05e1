#include "cli.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "channel/amount.hpp"

namespace paychan::cli {

namespace {

// curl's short options, for `paychan pay` (and any command that knows the long names).
std::string_view long_name(std::string_view arg) {
  if (arg == "-X") return "--request";
  if (arg == "-H") return "--header";
  if (arg == "-d") return "--data";
  if (arg == "-v") return "--verbose";
  return arg;
}

}  // namespace

Result<Args> Args::parse(std::span<char* const> argv, std::span<const std::string_view> known,
                         std::span<const std::string_view> flags, std::size_t max_positional) {
  // Checked as each name is read: a misspelt option must not take the next argument as its value.
  const auto is_known = [&](std::string_view name) { return std::find(known.begin(), known.end(), name) != known.end(); };
  const auto check = [&](std::string_view name) -> Status {
    if (!is_known(name)) return fail(ErrorCode::invalid_config, "unknown option --" + std::string{name} + " (see --help)");
    return {};
  };
  Args args;
  bool options_done = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string_view arg = options_done ? std::string_view{argv[i]} : long_name(argv[i]);
    if (options_done || arg.size() < 3 || !arg.starts_with("--")) {
      if (arg == "--") {
        options_done = true;
        continue;
      }
      args.positional_.emplace_back(arg);
      continue;
    }
    std::string_view name = arg.substr(2);
    const auto eq = name.find('=');
    PAYCHAN_TRY(check(name.substr(0, eq)));
    if (eq != std::string_view::npos) {
      // `--verbose=no` would otherwise turn the flag on.
      if (std::find(flags.begin(), flags.end(), name.substr(0, eq)) != flags.end())
        return fail(ErrorCode::invalid_config, "option --" + std::string{name.substr(0, eq)} + " takes no value");
      args.options_[std::string{name.substr(0, eq)}].emplace_back(name.substr(eq + 1));
    } else if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      args.options_[std::string{name}].emplace_back();
    } else if (const std::string_view next = i + 1 < argv.size() ? argv[i + 1] : "";
               i + 1 < argv.size() && !(next.starts_with("--") && is_known(next.substr(2, next.find('=') - 2)))) {
      args.options_[std::string{name}].emplace_back(argv[++i]);
    } else {
      // `--config --every 5m` lacks the file: --every is not taken as its name.
      return fail(ErrorCode::invalid_config, "option --" + std::string{name} + " needs a value" +
                                                 (next.empty() ? "" : " (" + std::string{next} + " is an option)"));
    }
  }
  if (args.positional_.size() > max_positional)
    return fail(ErrorCode::invalid_config, "unexpected argument '" + args.positional_[max_positional] + "' (see --help)");
  return args;
}

std::optional<std::string> Args::option(std::string_view name) const {
  const auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::options(std::string_view name) const {
  const auto it = options_.find(name);
  return it == options_.end() ? std::vector<std::string>{} : it->second;
}

Result<Args> parse_command(std::span<char* const> argv, std::span<const std::string_view> known,
                           std::span<const std::string_view> flags, std::size_t max_positional) {
  return Args::parse(argv, known, flags, max_positional);
}

Result<std::string> read_input(const std::optional<std::string>& file, std::size_t limit) {
  std::string text;
  auto slurp = [&](std::istream& in) {
    text.resize(limit + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
  };
  if (!file || *file == "-") {
    slurp(std::cin);
  } else {
    std::ifstream in(*file, std::ios::binary);
    if (!in) return fail(ErrorCode::invalid_payload, "cannot open " + *file);
    slurp(in);
  }
  if (text.size() > limit) return fail(ErrorCode::input_too_large, "input exceeds " + std::to_string(limit) + " bytes");
  return text;
}

Result<std::string> read_value(std::span<const std::string> positional) {
  if (positional.empty() || positional[0] == "-") return read_input(std::nullopt);
  const std::string& arg = positional[0];
  std::error_code ec;
  const auto status = std::filesystem::status(arg, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory &&
      ec != std::errc::filename_too_long)  // too long for a name: a header value
    return fail(ErrorCode::invalid_payload, "cannot open " + arg + ": " + ec.message());
  if (std::filesystem::is_directory(status)) return fail(ErrorCode::invalid_payload, arg + " is a directory");
  if (std::filesystem::exists(status)) return read_input(arg);  // a file, or a pipe: <(…), /dev/stdin
  // A '.' is in no base64 text and no header value; outside JSON it is a file name's.
  const auto first = arg.find_first_not_of(" \t\r\n");
  if (arg.find('.') != std::string::npos && (first == std::string::npos || arg[first] != '{'))
    return fail(ErrorCode::invalid_payload, "cannot open " + arg + " (no such file)");
  return arg;
}

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  std::uint64_t unit = 1;
  if (!text.empty() && (text.back() == 's' || text.back() == 'm' || text.back() == 'h' || text.back() == 'd')) {
    unit = text.back() == 'd' ? 86400 : text.back() == 'h' ? 3600 : text.back() == 'm' ? 60 : 1;
    text.remove_suffix(1);
  }
  auto n = parse_uint128(text);
  if (!n || *n == 0 || *n > 366u * 86400 / unit) return fail(ErrorCode::invalid_config, "a duration like 60s, 5m, 1h or 30d, at most a year");
  return std::chrono::seconds(static_cast<std::int64_t>(*n) * static_cast<std::int64_t>(unit));
}

int report(std::string_view command, const Error& error) {
  std::cerr << "paychan " << command << ": " << error.to_string() << '\n';
  return kExitUsage;
}

}  // namespace paychan::cli
