#include "router/route_table.h"

#include <algorithm>
#include <charconv>
#include <re2/re2.h>

namespace wasmgate::router {

namespace {

constexpr std::string_view kOriginalPathHeader = "x-envoy-original-path";

std::string joinPath(const std::string& prefix, std::string_view child) {
  if (prefix.empty())
    return std::string(child);
  std::string out;
  out.reserve(prefix.size() + 1 + child.size());
  out.append(prefix).append(".").append(child);
  return out;
}

std::string indexed(std::string_view field, size_t i) {
  std::string out(field);
  out.append("[").append(std::to_string(i)).append("]");
  return out;
}

// Envoy matches path and safe_regex routes against the path without query or fragment.
std::string_view pathWithoutQuery(std::string_view path) {
  return path.substr(0, path.find_first_of("?#"));
}

bool startsWith(std::string_view s, std::string_view prefix, bool case_sensitive) {
  if (s.size() < prefix.size())
    return false;
  s = s.substr(0, prefix.size());
  return case_sensitive ? s == prefix : http::equalsIgnoreCase(s, prefix);
}

bool endsWith(std::string_view s, std::string_view suffix, bool case_sensitive) {
  if (s.size() < suffix.size())
    return false;
  s = s.substr(s.size() - suffix.size());
  return case_sensitive ? s == suffix : http::equalsIgnoreCase(s, suffix);
}

bool contains(std::string_view s, std::string_view needle, bool case_sensitive) {
  if (case_sensitive)
    return s.find(needle) != std::string_view::npos;
  for (size_t i = 0; i + needle.size() <= s.size(); ++i)
    if (http::equalsIgnoreCase(s.substr(i, needle.size()), needle))
      return true;
  return false;
}

// Position of the ':' that starts a numeric port suffix, or npos. Colons inside a bracketed
// IPv6 literal are not port separators, and an unbracketed value with several colons is
// taken to be a bare IPv6 address without a port.
size_t portStart(std::string_view host) {
  const size_t colon = host.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == host.size())
    return std::string_view::npos;
  if (!host.empty() && host[0] == '[') {
    if (colon == 0 || host[colon - 1] != ']')
      return std::string_view::npos;
  } else if (host.find(':') != colon) {
    return std::string_view::npos;
  }
  for (size_t i = colon + 1; i < host.size(); ++i)
    if (host[i] < '0' || host[i] > '9')
      return std::string_view::npos;
  return colon;
}

std::string_view stripPort(std::string_view host) {
  const size_t colon = portStart(host);
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

// Like absl::SimpleAtoi, which Envoy's range_match uses: surrounding ASCII whitespace and a
// leading '+' are accepted.
std::optional<int64_t> parseInt64(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos)
    return std::nullopt;
  s = s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
  if (s[0] == '+') {
    s.remove_prefix(1);
    if (s.empty() || s[0] == '-')
      return std::nullopt;
  }
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return value;
}

// The value of `name`, with repeated headers joined by "," as Envoy does for matching. Only
// a repeated header costs an allocation (into `joined`).
std::optional<std::string_view> headerValue(const http::HeaderMap& headers, std::string_view name,
                                            std::string& joined) {
  std::optional<std::string_view> first;
  bool repeated = false;
  for (const auto& [key, value] : headers) {
    if (key != name)
      continue;
    if (!first) {
      first = value;
      continue;
    }
    if (!repeated) {
      joined.assign(*first);
      repeated = true;
    }
    joined.append(",").append(value);
  }
  if (repeated)
    return std::string_view(joined);
  return first;
}

Result<std::unique_ptr<const re2::RE2>> compileRegex(const std::string& pattern,
                                                     const std::string& path) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_unique<const re2::RE2>(pattern, options);
  if (!regex->ok()) {
    // RE2 appends ": <offending text>"; drop it when that is the whole pattern, already quoted.
    std::string error = regex->error();
    const std::string suffix = ": " + regex->error_arg();
    if (regex->error_arg() == pattern && error.ends_with(suffix))
      error.resize(error.size() - suffix.size());
    return Status::error(path + ": invalid regex '" + pattern + "': " + error);
  }
  return std::unique_ptr<const re2::RE2>(std::move(regex));
}

// Envoy refuses header mutations of pseudo-headers and Host: those carry routing state.
bool isModifiableHeader(std::string_view name) {
  return name.empty() || (name[0] != ':' && name != "host");
}

Status compileMutations(const std::vector<std::pair<std::string, std::string>>& to_add,
                        const std::vector<config::HeaderAppendAction>& actions,
                        const std::vector<std::string>& to_remove, const std::string& path,
                        std::string_view direction, detail::HeaderMutations& out) {
  const std::string add_field = std::string(direction) + "_headers_to_add";
  const std::string remove_field = std::string(direction) + "_headers_to_remove";
  for (size_t i = 0; i < to_remove.size(); ++i) {
    std::string name = http::toLower(to_remove[i]);
    const std::string where = joinPath(path, indexed(remove_field, i));
    if (name.empty())
      return Status::error(where + ": header name must not be empty");
    if (!isModifiableHeader(name))
      return Status::error(where + ": ':'-prefixed or host headers may not be removed ('" +
                           to_remove[i] + "')");
    out.remove.push_back(std::move(name));
  }
  for (size_t i = 0; i < to_add.size(); ++i) {
    std::string name = http::toLower(to_add[i].first);
    const std::string where = joinPath(path, indexed(add_field, i) + ".header.key");
    if (name.empty())
      return Status::error(where + ": header name must not be empty");
    if (!isModifiableHeader(name))
      return Status::error(where + ": ':'-prefixed or host headers may not be modified ('" +
                           to_add[i].first + "')");
    // The actions vector parallels to_add; configs built in code may leave it empty.
    const config::HeaderAppendAction action =
        i < actions.size() ? actions[i] : config::HeaderAppendAction::AppendIfExistsOrAdd;
    std::shared_ptr<const accesslog::Formatter> formatter;
    if (to_add[i].second.find('%') != std::string::npos) {
      auto f = accesslog::Formatter::parse(to_add[i].second);
      if (!f.ok())
        return Status::error(joinPath(path, indexed(add_field, i) + ".header.value") + ": " + f.error());
      formatter = std::make_shared<const accesslog::Formatter>(std::move(*f));
    }
    out.add.push_back({std::move(name), to_add[i].second, action, std::move(formatter)});
  }
  return okStatus();
}

bool isDefaultPort(std::string_view scheme, uint32_t port) {
  return (port == 80 && http::equalsIgnoreCase(scheme, "http")) ||
         (port == 443 && http::equalsIgnoreCase(scheme, "https"));
}

} // namespace

// ---- detail -----------------------------------------------------------------------------------

namespace detail {

void HeaderMutations::apply(http::HeaderMap& headers, const http::StreamInfo* info) const {
  for (const auto& name : remove)
    headers.remove(name);
  std::string rendered;
  for (const auto& a : add) {
    std::string_view value = a.value;
    if (a.formatter && info) {
      rendered.clear();
      a.formatter->format(*info, rendered);
      value = rendered;
    }
    // Envoy skips empty values unless add_if_empty is set, which we do not support.
    if (value.empty())
      continue;
    switch (a.action) {
    case config::HeaderAppendAction::AppendIfExistsOrAdd:
      headers.addCopy(a.name, value);
      break;
    case config::HeaderAppendAction::AddIfAbsent:
      if (!headers.has(a.name))
        headers.addCopy(a.name, value);
      break;
    case config::HeaderAppendAction::OverwriteIfExistsOrAdd:
      headers.set(a.name, value);
      break;
    case config::HeaderAppendAction::OverwriteIfExists:
      if (headers.has(a.name))
        headers.set(a.name, value);
      break;
    }
  }
}

CompiledHeaderMatcher::CompiledHeaderMatcher() = default;
CompiledHeaderMatcher::CompiledHeaderMatcher(CompiledHeaderMatcher&&) noexcept = default;
CompiledHeaderMatcher::~CompiledHeaderMatcher() = default;

bool CompiledHeaderMatcher::matches(const http::HeaderMap& headers) const {
  using Kind = config::HeaderMatcher::Kind;
  std::string joined;
  const std::optional<std::string_view> value = headerValue(headers, config.name, joined);
  if (config.kind == Kind::Present)
    return (config.present == value.has_value()) != config.invert_match;
  // An absent header fails every value matcher; inverting makes it pass.
  if (!value)
    return config.invert_match;
  const std::string_view want = config.value;
  const bool case_sensitive = !config.ignore_case;
  bool matched = false;
  switch (config.kind) {
  case Kind::Exact:
    matched = case_sensitive ? *value == want : http::equalsIgnoreCase(*value, want);
    break;
  case Kind::Prefix:
    matched = startsWith(*value, want, case_sensitive);
    break;
  case Kind::Suffix:
    matched = endsWith(*value, want, case_sensitive);
    break;
  case Kind::Contains:
    matched = contains(*value, want, case_sensitive);
    break;
  case Kind::SafeRegex:
    matched = re2::RE2::FullMatch(*value, *regex);
    break;
  case Kind::Range: {
    const std::optional<int64_t> n = parseInt64(*value);
    matched = n && *n >= config.range_start && *n < config.range_end;
    break;
  }
  case Kind::Present:
    break;
  }
  return matched != config.invert_match;
}

size_t CaseInsensitiveHash::operator()(std::string_view s) const noexcept {
  // FNV-1a over lower-cased bytes.
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(http::asciiLower(c));
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

} // namespace detail

// ---- RouteEntry -------------------------------------------------------------------------------

RouteEntry::RouteEntry(const config::Route& route, const VirtualHostEntry& vhost)
    : config_(route), vhost_(&vhost) {}

RouteEntry::~RouteEntry() = default;

Result<std::unique_ptr<RouteEntry>> RouteEntry::create(const config::Route& route,
                                                       const VirtualHostEntry& vhost,
                                                       const std::string& path) {
  std::unique_ptr<RouteEntry> entry(new RouteEntry(route, vhost));
  const std::string match_path = joinPath(path, "match");

  if (route.match.kind == config::RouteMatch::Kind::SafeRegex) {
    auto regex = compileRegex(route.match.value, joinPath(match_path, "safe_regex.regex"));
    if (!regex)
      return regex.status();
    entry->path_regex_ = std::move(*regex);
  }

  for (size_t i = 0; i < route.match.headers.size(); ++i) {
    detail::CompiledHeaderMatcher matcher;
    matcher.config = route.match.headers[i];
    matcher.config.name = http::toLower(matcher.config.name);
    const std::string where = joinPath(match_path, indexed("headers", i));
    if (matcher.config.name.empty())
      return Status::error(where + ".name: header name must not be empty");
    if (matcher.config.kind == config::HeaderMatcher::Kind::SafeRegex) {
      auto regex = compileRegex(matcher.config.value, joinPath(where, "safe_regex_match.regex"));
      if (!regex)
        return regex.status();
      matcher.regex = std::move(*regex);
    }
    entry->header_matchers_.push_back(std::move(matcher));
  }

  switch (route.action) {
  case config::Route::ActionKind::Route: {
    const config::RouteAction& action = route.route;
    const std::string action_path = joinPath(path, "route");
    if (action.cluster.empty())
      return Status::error(joinPath(action_path, "cluster") + ": a cluster is required");
    if (action.prefix_rewrite && action.regex_rewrite)
      return Status::error(action_path + ": cannot specify both prefix_rewrite and regex_rewrite");
    if (action.regex_rewrite) {
      const std::string rewrite_path = joinPath(action_path, "regex_rewrite");
      auto regex =
          compileRegex(action.regex_rewrite->pattern, joinPath(rewrite_path, "pattern.regex"));
      if (!regex)
        return regex.status();
      // An out-of-range \N would make every GlobalReplace fail at request time.
      std::string error;
      if (!(*regex)->CheckRewriteString(action.regex_rewrite->substitution, &error))
        return Status::error(joinPath(rewrite_path, "substitution") + ": invalid substitution '" +
                             action.regex_rewrite->substitution + "': " + error);
      entry->rewrite_regex_ = std::move(*regex);
    }
    break;
  }
  case config::Route::ActionKind::Redirect: {
    const config::RedirectAction& redirect = route.redirect;
    const std::string redirect_path = joinPath(path, "redirect");
    if (redirect.path_redirect && redirect.prefix_rewrite)
      return Status::error(redirect_path + ": cannot specify both path_redirect and prefix_rewrite");
    switch (redirect.response_code) {
    case 301:
    case 302:
    case 303:
    case 307:
    case 308:
      break;
    default:
      return Status::error(joinPath(redirect_path, "response_code") +
                           ": unsupported redirect response code " +
                           std::to_string(redirect.response_code));
    }
    break;
  }
  case config::Route::ActionKind::DirectResponse:
    if (route.direct_response.status < 100 || route.direct_response.status > 599)
      return Status::error(joinPath(path, "direct_response.status") + ": status " +
                           std::to_string(route.direct_response.status) +
                           " is not in [100, 599]");
    break;
  }

  WG_RETURN_IF_ERROR(compileMutations(route.request_headers_to_add, route.request_headers_to_add_action,
                                      route.request_headers_to_remove,
                                      path, "request", entry->request_mutations_));
  WG_RETURN_IF_ERROR(compileMutations(route.response_headers_to_add,
                                      route.response_headers_to_add_action,
                                      route.response_headers_to_remove, path, "response",
                                      entry->response_mutations_));
  return entry;
}

bool RouteEntry::matches(const http::HeaderMap& request_headers) const {
  const std::string_view path = request_headers.path();
  return matches(request_headers, path, pathWithoutQuery(path));
}

bool RouteEntry::matches(const http::HeaderMap& headers, std::string_view path,
                         std::string_view path_only) const {
  const config::RouteMatch& match = config_.match;
  switch (match.kind) {
  case config::RouteMatch::Kind::Prefix:
    // Envoy's prefix match sees the whole :path, query string included.
    if (!startsWith(path, match.value, match.case_sensitive))
      return false;
    break;
  case config::RouteMatch::Kind::Path:
    if (match.case_sensitive ? path_only != match.value
                             : !http::equalsIgnoreCase(path_only, match.value))
      return false;
    break;
  case config::RouteMatch::Kind::SafeRegex:
    // case_sensitive does not apply to regexes (as in Envoy); use (?i) in the pattern.
    if (!re2::RE2::FullMatch(path_only, *path_regex_))
      return false;
    break;
  }
  for (const auto& matcher : header_matchers_)
    if (!matcher.matches(headers))
      return false;
  return true;
}

std::optional<std::string> RouteEntry::replaceMatchedPrefix(std::string_view path,
                                                            std::string_view rewrite) const {
  size_t matched = 0;
  if (config_.match.kind == config::RouteMatch::Kind::Prefix) {
    if (!startsWith(path, config_.match.value, config_.match.case_sensitive))
      return std::nullopt;
    matched = config_.match.value.size();
  } else {
    // A path or regex match covers the whole path part.
    matched = pathWithoutQuery(path).size();
  }
  std::string out;
  out.reserve(rewrite.size() + path.size() - matched);
  out.append(rewrite).append(path.substr(matched));
  return out;
}

void RouteEntry::finalizeRequestHeaders(http::HeaderMap& headers, const http::StreamInfo* info) const {
  // Least specific first so a route's own mutations win (Envoy with
  // most_specific_header_mutations_wins). Envoy also mutates before rewriting.
  vhost_->table_->request_mutations_.apply(headers, info);
  vhost_->request_mutations_.apply(headers, info);
  request_mutations_.apply(headers, info);

  if (config_.action != config::Route::ActionKind::Route)
    return;
  const config::RouteAction& action = config_.route;
  if (action.host_rewrite_literal)
    headers.set(":authority", *action.host_rewrite_literal);

  if (!action.prefix_rewrite && !rewrite_regex_)
    return;
  // Copy: setting headers below may reallocate the storage the view points into.
  const std::string original(headers.path());
  std::optional<std::string> rewritten;
  if (action.prefix_rewrite) {
    rewritten = replaceMatchedPrefix(original, *action.prefix_rewrite);
  } else {
    const std::string_view path_only = pathWithoutQuery(original);
    std::string replaced(path_only);
    re2::RE2::GlobalReplace(&replaced, *rewrite_regex_, action.regex_rewrite->substitution);
    replaced.append(std::string_view(original).substr(path_only.size()));
    rewritten = std::move(replaced);
  }
  if (!rewritten)
    return;
  // Like Envoy, record the original whenever a rewrite is applied.
  headers.set(kOriginalPathHeader, original);
  headers.set(":path", *rewritten);
}

void RouteEntry::finalizeResponseHeaders(http::HeaderMap& headers, const http::StreamInfo* info) const {
  vhost_->table_->response_mutations_.apply(headers, info);
  vhost_->response_mutations_.apply(headers, info);
  response_mutations_.apply(headers, info);
}

std::string RouteEntry::redirectUrl(const http::HeaderMap& request_headers) const {
  if (config_.action != config::Route::ActionKind::Redirect)
    return {};
  const config::RedirectAction& redirect = config_.redirect;

  const std::string_view request_scheme =
      request_headers.scheme().empty() ? std::string_view("http") : request_headers.scheme();
  const std::string_view scheme =
      redirect.scheme_redirect ? std::string_view(*redirect.scheme_redirect) : request_scheme;

  std::string_view host;
  if (redirect.host_redirect) {
    host = *redirect.host_redirect;
    if (redirect.port_redirect)
      host = stripPort(host);
  } else {
    host = request_headers.authority();
    const size_t colon = portStart(host);
    if (colon != std::string_view::npos) {
      // As Envoy: a new port replaces the old one, and a scheme change drops the old scheme's
      // default port (http://foo:80 -> https://foo).
      bool strip = redirect.port_redirect.has_value();
      if (!http::equalsIgnoreCase(scheme, request_scheme)) {
        const std::string_view port = host.substr(colon + 1);
        strip |= (http::equalsIgnoreCase(request_scheme, "http") && port == "80") ||
                 (http::equalsIgnoreCase(request_scheme, "https") && port == "443");
      }
      if (strip)
        host = host.substr(0, colon);
    }
  }

  const std::string_view request_path = request_headers.path();
  std::string path;
  bool keep_query = !redirect.strip_query;
  if (redirect.path_redirect) {
    const std::string& target = *redirect.path_redirect;
    path = target;
    if (target.find('?') != std::string::npos) {
      // path_redirect's own query replaces the request's and is never stripped.
      keep_query = true;
    } else {
      const size_t query = request_path.find('?');
      if (query != std::string_view::npos)
        path.append(request_path.substr(query));
    }
  } else if (redirect.prefix_rewrite) {
    std::optional<std::string> rewritten = replaceMatchedPrefix(request_path, *redirect.prefix_rewrite);
    path = rewritten ? std::move(*rewritten) : std::string(request_path);
  } else {
    path = request_path;
  }
  if (!path.starts_with('/'))
    path.insert(0, "/");
  if (!keep_query) {
    const size_t query = path.find('?');
    if (query != std::string::npos)
      path.resize(query);
  }

  std::string url;
  url.reserve(scheme.size() + 3 + host.size() + 6 + path.size());
  url.append(scheme).append("://").append(host);
  if (redirect.port_redirect && !isDefaultPort(scheme, *redirect.port_redirect))
    url.append(":").append(std::to_string(*redirect.port_redirect));
  url.append(path);
  return url;
}

// ---- VirtualHostEntry -------------------------------------------------------------------------

VirtualHostEntry::VirtualHostEntry(const RouteTable& table, const config::VirtualHost& vhost)
    : table_(&table), name_(vhost.name), domains_(vhost.domains) {}

VirtualHostEntry::~VirtualHostEntry() = default;

const RouteEntry* VirtualHostEntry::route(const http::HeaderMap& request_headers) const {
  const std::string_view path = request_headers.path();
  const std::string_view path_only = pathWithoutQuery(path);
  for (const auto& entry : routes_)
    if (entry->matches(request_headers, path, path_only))
      return entry.get();
  return nullptr;
}

// ---- RouteTable -------------------------------------------------------------------------------

RouteTable::~RouteTable() = default;

Result<std::shared_ptr<const RouteTable>> RouteTable::create(const config::RouteConfiguration& cfg,
                                                             const std::string& path_prefix) {
  std::shared_ptr<RouteTable> table(new RouteTable());
  table->name_ = cfg.name;
  WG_RETURN_IF_ERROR(compileMutations(cfg.request_headers_to_add, cfg.request_headers_to_add_action,
                                      cfg.request_headers_to_remove,
                                      path_prefix, "request", table->request_mutations_));
  WG_RETURN_IF_ERROR(compileMutations(cfg.response_headers_to_add, cfg.response_headers_to_add_action,
                                      cfg.response_headers_to_remove,
                                      path_prefix, "response", table->response_mutations_));

  // Where each domain was first declared, for duplicate errors.
  std::optional<uint32_t> default_index;
  auto addWildcard = [](std::vector<detail::WildcardGroup>& groups, std::string rest,
                        uint32_t index) -> std::optional<uint32_t> {
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& g) { return g.length == rest.size(); });
    if (group == groups.end()) {
      groups.push_back({rest.size(), {}});
      group = std::prev(groups.end());
    }
    auto [it, inserted] = group->domains.emplace(std::move(rest), index);
    return inserted ? std::nullopt : std::optional<uint32_t>(it->second);
  };

  for (size_t i = 0; i < cfg.virtual_hosts.size(); ++i) {
    const config::VirtualHost& vh = cfg.virtual_hosts[i];
    const uint32_t index = static_cast<uint32_t>(i);
    const std::string vpath = joinPath(path_prefix, indexed("virtual_hosts", i));
    std::unique_ptr<VirtualHostEntry> entry(new VirtualHostEntry(*table, vh));

    if (vh.domains.empty())
      return Status::error(joinPath(vpath, "domains") + ": at least one domain is required");
    for (size_t j = 0; j < vh.domains.size(); ++j) {
      const std::string where = joinPath(vpath, indexed("domains", j));
      std::string domain = http::toLower(vh.domains[j]);
      if (domain.empty())
        return Status::error(where + ": domain must not be empty");
      std::optional<uint32_t> previous;
      if (domain == "*") {
        if (default_index)
          return Status::error(where + ": only one virtual host may use the '*' domain (already " +
                               indexed("virtual_hosts", *default_index) + ")");
        default_index = index;
      } else if (domain.front() == '*') {
        previous = addWildcard(table->suffix_wildcards_, domain.substr(1), index);
      } else if (domain.back() == '*') {
        previous = addWildcard(table->prefix_wildcards_, domain.substr(0, domain.size() - 1), index);
      } else {
        auto [it, inserted] = table->exact_domains_.emplace(domain, index);
        if (!inserted)
          previous = it->second;
      }
      if (previous)
        return Status::error(where + ": duplicate domain '" + domain + "' (already in " +
                             indexed("virtual_hosts", *previous) + ")");
    }

    WG_RETURN_IF_ERROR(compileMutations(vh.request_headers_to_add, vh.request_headers_to_add_action,
                                        vh.request_headers_to_remove,
                                        vpath, "request", entry->request_mutations_));
    WG_RETURN_IF_ERROR(compileMutations(vh.response_headers_to_add, vh.response_headers_to_add_action,
                                        vh.response_headers_to_remove,
                                        vpath, "response", entry->response_mutations_));

    for (size_t j = 0; j < vh.routes.size(); ++j) {
      auto route = RouteEntry::create(vh.routes[j], *entry, joinPath(vpath, indexed("routes", j)));
      if (!route)
        return route.status();
      entry->routes_.push_back(std::move(*route));
    }
    table->vhosts_.push_back(std::move(entry));
  }

  // Longest wildcard first: "*-bar.foo.com" beats "*.foo.com" for "baz-bar.foo.com".
  auto longestFirst = [](const auto& a, const auto& b) { return a.length > b.length; };
  std::sort(table->suffix_wildcards_.begin(), table->suffix_wildcards_.end(), longestFirst);
  std::sort(table->prefix_wildcards_.begin(), table->prefix_wildcards_.end(), longestFirst);
  if (default_index)
    table->default_vhost_ = table->vhosts_[*default_index].get();
  return std::shared_ptr<const RouteTable>(std::move(table));
}

const RouteEntry* RouteTable::route(const http::HeaderMap& request_headers) const {
  const VirtualHostEntry* vhost = virtualHost(request_headers.authority());
  return vhost ? vhost->route(request_headers) : nullptr;
}

const VirtualHostEntry* RouteTable::virtualHost(std::string_view authority) const {
  // The common single "*" virtual host needs no lookup at all.
  if (exact_domains_.empty() && suffix_wildcards_.empty() && prefix_wildcards_.empty())
    return default_vhost_;
  if (const VirtualHostEntry* vhost = matchDomain(authority))
    return vhost;
  // Domains may name a port ("foo.com:8080"), so the port is dropped only as a fallback.
  const size_t colon = portStart(authority);
  if (colon != std::string_view::npos)
    if (const VirtualHostEntry* vhost = matchDomain(authority.substr(0, colon)))
      return vhost;
  return default_vhost_;
}

const VirtualHostEntry* RouteTable::matchDomain(std::string_view host) const {
  if (host.empty())
    return nullptr;
  if (auto it = exact_domains_.find(host); it != exact_domains_.end())
    return vhosts_[it->second].get();
  if (const VirtualHostEntry* vhost = matchWildcard(host, suffix_wildcards_, true))
    return vhost;
  return matchWildcard(host, prefix_wildcards_, false);
}

const VirtualHostEntry* RouteTable::matchWildcard(std::string_view host,
                                                  const std::vector<detail::WildcardGroup>& groups,
                                                  bool suffix) const {
  for (const auto& group : groups) {
    // The '*' must stand for at least one character: "*.foo.com" does not match ".foo.com".
    if (group.length >= host.size())
      continue;
    const std::string_view rest =
        suffix ? host.substr(host.size() - group.length) : host.substr(0, group.length);
    if (auto it = group.domains.find(rest); it != group.domains.end())
      return vhosts_[it->second].get();
  }
  return nullptr;
}

} // namespace wasmgate::router
