#include "engine/http/target_form.hpp"

#include "engine/http/text.hpp"

namespace paychan::engine::http {

Result<std::optional<OriginForm>> origin_form(std::string_view target) {
  std::size_t scheme_end = 0;
  if (istarts_with(target, "http://")) scheme_end = 7;
  else if (istarts_with(target, "https://")) scheme_end = 8;
  else return std::optional<OriginForm>{};
  const std::string_view rest = target.substr(scheme_end);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.empty()) return fail(ErrorCode::http_invalid_request, "an absolute-form target without a host");
  if (authority.find('@') != std::string_view::npos)
    return fail(ErrorCode::http_invalid_request, "an absolute-form target with userinfo");
  // The Host a request may carry (the server refuses any other): it goes upstream and into offers.
  if (!valid_host(authority)) return fail(ErrorCode::http_invalid_request, "an absolute-form target's host is not host[:port]");
  const std::string_view path = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  OriginForm form{"", std::string(authority)};
  if (!path.starts_with('/')) form.target.push_back('/');  // "http://host" and "http://host?q"
  form.target.append(path);
  return std::optional<OriginForm>{std::move(form)};
}

}  // namespace paychan::engine::http
