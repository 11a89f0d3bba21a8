// RouteConfiguration: virtual hosts, routes, matchers and route actions.

#include <algorithm>
#include <map>

#include "config/loader_internal.h"

namespace wasmgate::config::detail {
namespace {

using PerFilterConfig = std::map<std::string, YAML::Node>;

Status parseSafeRegex(ObjectReader& r, std::string& out) {
  WG_RETURN_IF_ERROR(r.requireString("regex", out));
  // google_re2 only carries the deprecated max_program_size; RE2 is the only engine anyway.
  r.ignore("google_re2");
  return checkRegex(out, r.pathOf("regex"));
}

Status parseRetryPolicy(ObjectReader& r, RetryPolicy& out) {
  static constexpr std::string_view kRetryOn[] = {
      "5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "refused-stream",
      "retriable-status-codes", "retriable-headers", "envoy-ratelimited"};
  std::string retry_on;
  WG_RETURN_IF_ERROR(r.getString("retry_on", retry_on));
  size_t start = 0;
  while (start <= retry_on.size() && !retry_on.empty()) {
    size_t comma = retry_on.find(',', start);
    std::string token = retry_on.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!token.empty() && token.front() == ' ')
      token.erase(token.begin());
    while (!token.empty() && token.back() == ' ')
      token.pop_back();
    if (std::find(std::begin(kRetryOn), std::end(kRetryOn), token) == std::end(kRetryOn))
      return fieldError(r.pathOf("retry_on"), "unknown retry condition '" + token + "'");
    out.retry_on.push_back(token);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  WG_RETURN_IF_ERROR(r.getUint32("num_retries", out.num_retries));
  WG_RETURN_IF_ERROR(r.getDuration("per_try_timeout", out.per_try_timeout));
  WG_RETURN_IF_ERROR(r.getList("retriable_status_codes", [&](const YAML::Node& e, const std::string& path, size_t) {
    auto code = nodeUint(e, path, 100, 599);
    if (!code.ok())
      return code.status();
    out.retriable_status_codes.push_back(static_cast<uint32_t>(*code));
    return okStatus();
  }));
  for (std::string_view key : {"retry_back_off", "rate_limited_retry_back_off", "retry_host_predicate",
                               "host_selection_retry_max_attempts", "retry_priority", "retriable_headers",
                               "retriable_request_headers", "per_try_idle_timeout", "retry_options_predicates"})
    WG_RETURN_IF_ERROR(r.unsupported(key, "not implemented yet"));
  return okStatus();
}

// A map of filter name -> Any; bodies are stored with TypedStruct already unwrapped.
Status parseTypedPerFilterConfig(ObjectReader& r, PerFilterConfig& out) {
  if (!r.has("typed_per_filter_config")) {
    r.ignore("typed_per_filter_config");
    return okStatus();
  }
  const std::string path = r.pathOf("typed_per_filter_config");
  auto map = ObjectReader::make(r.take("typed_per_filter_config"), path);
  if (!map.ok())
    return map.status();
  for (const auto& name : map->keys()) {
    const std::string entry_path = map->pathOf(name);
    auto tc = parseTypedConfig(map->take(name), entry_path);
    if (!tc.ok())
      return tc.status();
    if (tc->type_url.ends_with("envoy.config.route.v3.FilterConfig"))
      return fieldError(joinPath(entry_path, "@type"),
                        "unsupported (the FilterConfig wrapper is not implemented; give the filter's config directly)");
    out[name] = tc->body;
  }
  return okStatus();
}

// Most specific wins: an entry already present (from a narrower scope) is kept.
void inheritPerFilterConfig(const PerFilterConfig& from, PerFilterConfig& into) {
  for (const auto& [name, node] : from)
    into.emplace(name, node);
}

Status parseHeaderMatcher(ObjectReader& r, HeaderMatcher& out) {
  std::string name;
  WG_RETURN_IF_ERROR(r.requireString("name", name));
  out.name = toLower(name);
  WG_RETURN_IF_ERROR(r.unsupported("regex_match", "use safe_regex_match"));
  WG_RETURN_IF_ERROR(r.unsupported("treat_missing_header_as_empty", "not implemented yet"));
  static constexpr std::string_view kSpecifiers[] = {
      "exact_match", "safe_regex_match", "range_match", "present_match",
      "prefix_match", "suffix_match", "contains_match", "string_match"};
  int count = 0;
  for (auto key : kSpecifiers)
    count += r.has(key) ? 1 : 0;
  if (count > 1)
    return fieldError(r.path(), "only one of exact_match, safe_regex_match, range_match, present_match, "
                                "prefix_match, suffix_match, contains_match, string_match may be set");
  using Kind = HeaderMatcher::Kind;
  out.kind = Kind::Present; // no specifier: match on presence, like Envoy
  auto stringKind = [&](std::string_view key, Kind kind) -> Status {
    if (!r.has(key))
      return okStatus();
    out.kind = kind;
    return r.getString(key, out.value);
  };
  WG_RETURN_IF_ERROR(stringKind("exact_match", Kind::Exact));
  WG_RETURN_IF_ERROR(stringKind("prefix_match", Kind::Prefix));
  WG_RETURN_IF_ERROR(stringKind("suffix_match", Kind::Suffix));
  WG_RETURN_IF_ERROR(stringKind("contains_match", Kind::Contains));
  if (r.has("present_match")) {
    out.kind = Kind::Present;
    WG_RETURN_IF_ERROR(r.getBool("present_match", out.present));
  }
  WG_RETURN_IF_ERROR(r.getObject("safe_regex_match", [&](ObjectReader& re) {
    out.kind = Kind::SafeRegex;
    return parseSafeRegex(re, out.value);
  }));
  WG_RETURN_IF_ERROR(r.getObject("range_match", [&](ObjectReader& range) -> Status {
    out.kind = Kind::Range;
    WG_RETURN_IF_ERROR(range.getInt64("start", out.range_start));
    WG_RETURN_IF_ERROR(range.getInt64("end", out.range_end));
    if (out.range_start >= out.range_end)
      return fieldError(range.path(), "start must be less than end (the range is [start, end))");
    return okStatus();
  }));
  WG_RETURN_IF_ERROR(r.getObject("string_match", [&](ObjectReader& sm) -> Status {
    struct Option {
      std::string_view key;
      Kind kind;
    };
    static constexpr Option kOptions[] = {{"exact", Kind::Exact}, {"prefix", Kind::Prefix},
                                          {"suffix", Kind::Suffix}, {"contains", Kind::Contains},
                                          {"safe_regex", Kind::SafeRegex}};
    int n = 0;
    for (const auto& o : kOptions)
      n += sm.has(o.key) ? 1 : 0;
    if (n != 1)
      return fieldError(sm.path(), "exactly one of exact, prefix, suffix, contains, safe_regex is required");
    WG_RETURN_IF_ERROR(sm.getBool("ignore_case", out.ignore_case));
    for (const auto& o : kOptions) {
      if (!sm.has(o.key))
        continue;
      out.kind = o.kind;
      if (o.kind == Kind::SafeRegex) {
        if (out.ignore_case)
          return fieldError(sm.pathOf("ignore_case"), "has no effect with safe_regex; use (?i) in the regex");
        WG_RETURN_IF_ERROR(sm.getObject("safe_regex", [&](ObjectReader& re) { return parseSafeRegex(re, out.value); }));
      } else {
        WG_RETURN_IF_ERROR(sm.getString(o.key, out.value));
      }
    }
    return okStatus();
  }));
  return r.getBool("invert_match", out.invert_match);
}

Status parseRouteMatch(ObjectReader& r, RouteMatch& out) {
  WG_RETURN_IF_ERROR(r.unsupported("path_separated_prefix", "use prefix"));
  WG_RETURN_IF_ERROR(r.unsupported("connect_matcher", "CONNECT is not implemented"));
  WG_RETURN_IF_ERROR(r.unsupported("path_match_policy", "URI templates are not implemented"));
  WG_RETURN_IF_ERROR(r.unsupported("regex", "the v2 'regex' field was removed; use safe_regex"));
  WG_RETURN_IF_ERROR(r.unsupported("query_parameters", "query parameter matching is not implemented yet"));
  WG_RETURN_IF_ERROR(r.unsupported("grpc", "gRPC is not implemented"));
  WG_RETURN_IF_ERROR(r.unsupported("runtime_fraction", "runtime is not implemented"));
  WG_RETURN_IF_ERROR(r.unsupported("tls_context", "TLS is not implemented yet"));
  WG_RETURN_IF_ERROR(r.unsupported("dynamic_metadata", "dynamic metadata is not implemented"));
  int count = (r.has("prefix") ? 1 : 0) + (r.has("path") ? 1 : 0) + (r.has("safe_regex") ? 1 : 0);
  if (count == 0)
    return fieldError(r.path(), "one of prefix, path, safe_regex is required");
  if (count > 1)
    return fieldError(r.path(), "only one of prefix, path, safe_regex may be set");
  if (r.has("prefix")) {
    out.kind = RouteMatch::Kind::Prefix;
    WG_RETURN_IF_ERROR(r.getString("prefix", out.value));
  } else if (r.has("path")) {
    out.kind = RouteMatch::Kind::Path;
    WG_RETURN_IF_ERROR(r.getString("path", out.value));
  }
  WG_RETURN_IF_ERROR(r.getObject("safe_regex", [&](ObjectReader& re) {
    out.kind = RouteMatch::Kind::SafeRegex;
    return parseSafeRegex(re, out.value);
  }));
  WG_RETURN_IF_ERROR(r.getBool("case_sensitive", out.case_sensitive));
  return r.getList("headers", [&](const YAML::Node& e, const std::string& path, size_t) {
    HeaderMatcher matcher;
    WG_RETURN_IF_ERROR(readObject(e, path, [&](ObjectReader& h) { return parseHeaderMatcher(h, matcher); }));
    out.headers.push_back(std::move(matcher));
    return okStatus();
  });
}

Status parseRouteAction(ObjectReader& r, LoadContext& ctx, RouteAction& out) {
  WG_RETURN_IF_ERROR(r.unsupported("cluster_header", "use cluster"));
  WG_RETURN_IF_ERROR(r.unsupported("weighted_clusters", "use cluster"));
  WG_RETURN_IF_ERROR(r.unsupported("cluster_specifier_plugin", "use cluster"));
  WG_RETURN_IF_ERROR(r.unsupported("inline_cluster_specifier_plugin", "use cluster"));
  WG_RETURN_IF_ERROR(r.requireString("cluster", out.cluster));
  ctx.cluster_refs.push_back({out.cluster, r.pathOf("cluster")});
  if (r.has("prefix_rewrite") && r.has("regex_rewrite"))
    return fieldError(r.pathOf("regex_rewrite"), "cannot be combined with prefix_rewrite");
  WG_RETURN_IF_ERROR(r.getString("prefix_rewrite", out.prefix_rewrite));
  WG_RETURN_IF_ERROR(r.getObject("regex_rewrite", [&](ObjectReader& rr) -> Status {
    RegexRewrite rewrite;
    if (!rr.has("pattern"))
      return rr.missing("pattern");
    WG_RETURN_IF_ERROR(rr.getObject("pattern", [&](ObjectReader& p) { return parseSafeRegex(p, rewrite.pattern); }));
    if (!rr.has("substitution"))
      return rr.missing("substitution");
    WG_RETURN_IF_ERROR(rr.getString("substitution", rewrite.substitution));
    out.regex_rewrite = std::move(rewrite);
    return okStatus();
  }));
  WG_RETURN_IF_ERROR(r.getString("host_rewrite_literal", out.host_rewrite_literal));
  bool auto_host_rewrite = false;
  WG_RETURN_IF_ERROR(r.getBool("auto_host_rewrite", auto_host_rewrite));
  if (auto_host_rewrite)
    return r.unsupportedValue("auto_host_rewrite", "true", "use host_rewrite_literal");
  WG_RETURN_IF_ERROR(r.unsupported("host_rewrite_header", "use host_rewrite_literal"));
  WG_RETURN_IF_ERROR(r.unsupported("host_rewrite_path_regex", "use host_rewrite_literal"));
  WG_RETURN_IF_ERROR(r.getDuration("timeout", out.timeout));
  WG_RETURN_IF_ERROR(r.unsupported("idle_timeout", "per-route idle timeouts are not implemented yet; "
                                                    "use the connection manager's stream_idle_timeout"));
  WG_RETURN_IF_ERROR(r.getObject("retry_policy", [&](ObjectReader& rp) {
    RetryPolicy policy;
    WG_RETURN_IF_ERROR(parseRetryPolicy(rp, policy));
    out.retry_policy = std::move(policy);
    return okStatus();
  }));
  enum class Priority { Default };
  Priority priority = Priority::Default;
  WG_RETURN_IF_ERROR(r.getEnum<Priority>("priority", priority,
                                         {{"DEFAULT", Priority::Default},
                                          {"HIGH", std::nullopt, "only DEFAULT priority is implemented"}}));
  // Hash policies only feed RING_HASH/MAGLEV load balancers, which are rejected on clusters,
  // so they can never change where a request goes.
  r.ignore("hash_policy");
  for (std::string_view key : {"cors", "rate_limits", "request_mirror_policies", "max_stream_duration",
                               "upgrade_configs", "hedge_policy", "internal_redirect_policy",
                               "max_grpc_timeout", "grpc_timeout_offset", "early_data_policy"})
    WG_RETURN_IF_ERROR(r.unsupported(key, "not implemented yet"));
  return okStatus();
}

Status parseRedirect(ObjectReader& r, RedirectAction& out) {
  WG_RETURN_IF_ERROR(r.getString("host_redirect", out.host_redirect));
  WG_RETURN_IF_ERROR(r.getUint32("port_redirect", out.port_redirect, 0, 65535));
  if (r.has("scheme_redirect") && r.has("https_redirect"))
    return fieldError(r.pathOf("https_redirect"), "cannot be combined with scheme_redirect");
  WG_RETURN_IF_ERROR(r.getString("scheme_redirect", out.scheme_redirect));
  bool https = false;
  WG_RETURN_IF_ERROR(r.getBool("https_redirect", https));
  if (https)
    out.scheme_redirect = "https";
  if (r.has("path_redirect") && r.has("prefix_rewrite"))
    return fieldError(r.pathOf("prefix_rewrite"), "cannot be combined with path_redirect");
  WG_RETURN_IF_ERROR(r.getString("path_redirect", out.path_redirect));
  WG_RETURN_IF_ERROR(r.getString("prefix_rewrite", out.prefix_rewrite));
  WG_RETURN_IF_ERROR(r.unsupported("regex_rewrite", "use path_redirect or prefix_rewrite"));
  WG_RETURN_IF_ERROR(r.getEnum<uint32_t>("response_code", out.response_code,
                                         {{"MOVED_PERMANENTLY", 301u},
                                          {"FOUND", 302u},
                                          {"SEE_OTHER", 303u},
                                          {"TEMPORARY_REDIRECT", 307u},
                                          {"PERMANENT_REDIRECT", 308u}}));
  return r.getBool("strip_query", out.strip_query);
}

Status parseRoute(ObjectReader& r, LoadContext& ctx, Route& out) {
  WG_RETURN_IF_ERROR(r.getString("name", out.name));
  if (!r.has("match"))
    return r.missing("match");
  WG_RETURN_IF_ERROR(r.getObject("match", [&](ObjectReader& m) { return parseRouteMatch(m, out.match); }));
  WG_RETURN_IF_ERROR(r.unsupported("filter_action", "not implemented"));
  WG_RETURN_IF_ERROR(r.unsupported("non_forwarding_action", "not implemented"));
  int actions = (r.has("route") ? 1 : 0) + (r.has("direct_response") ? 1 : 0) + (r.has("redirect") ? 1 : 0);
  if (actions == 0)
    return fieldError(r.path(), "one of route, direct_response, redirect is required");
  if (actions > 1)
    return fieldError(r.path(), "only one of route, direct_response, redirect may be set");
  if (r.has("route")) {
    out.action = Route::ActionKind::Route;
    WG_RETURN_IF_ERROR(r.getObject("route", [&](ObjectReader& a) { return parseRouteAction(a, ctx, out.route); }));
  } else if (r.has("direct_response")) {
    out.action = Route::ActionKind::DirectResponse;
    WG_RETURN_IF_ERROR(r.getObject("direct_response", [&](ObjectReader& d) -> Status {
      if (!d.has("status"))
        return d.missing("status");
      WG_RETURN_IF_ERROR(d.getUint32("status", out.direct_response.status, 200, 599));
      return d.getObject("body", [&](ObjectReader& b) { return parseDataSource(b, out.direct_response.body); });
    }));
  } else {
    out.action = Route::ActionKind::Redirect;
    WG_RETURN_IF_ERROR(r.getObject("redirect", [&](ObjectReader& d) { return parseRedirect(d, out.redirect); }));
  }
  WG_RETURN_IF_ERROR(parseHeadersToAdd(r, "request_headers_to_add", out.request_headers_to_add, out.request_headers_to_add_action));
  WG_RETURN_IF_ERROR(parseHeadersToAdd(r, "response_headers_to_add", out.response_headers_to_add, out.response_headers_to_add_action));
  WG_RETURN_IF_ERROR(parseHeadersToRemove(r, "request_headers_to_remove", out.request_headers_to_remove));
  WG_RETURN_IF_ERROR(parseHeadersToRemove(r, "response_headers_to_remove", out.response_headers_to_remove));
  WG_RETURN_IF_ERROR(parseTypedPerFilterConfig(r, out.typed_per_filter_config));
  // decorator only names tracing spans and metadata is only read by filters wasmgate lacks;
  // neither changes how a request is handled.
  r.ignore("decorator");
  r.ignore("metadata");
  return okStatus();
}

Status checkDomain(const std::string& domain, const std::string& path) {
  if (domain.empty())
    return fieldError(path, "must not be empty");
  if (domain == "*")
    return okStatus();
  size_t stars = std::count(domain.begin(), domain.end(), '*');
  if (stars == 0)
    return okStatus();
  if (stars == 1 && (domain.front() == '*' || domain.back() == '*'))
    return okStatus();
  return fieldError(path, "invalid domain '" + domain +
                              "' (a wildcard is only allowed as the first or last character)");
}

Status parseVirtualHost(ObjectReader& r, LoadContext& ctx, VirtualHost& out, PerFilterConfig& inherited) {
  WG_RETURN_IF_ERROR(r.requireString("name", out.name));
  if (!r.has("domains"))
    return r.missing("domains");
  WG_RETURN_IF_ERROR(r.getList("domains", [&](const YAML::Node& e, const std::string& path, size_t) {
    auto domain = nodeString(e, path);
    if (!domain.ok())
      return domain.status();
    WG_RETURN_IF_ERROR(checkDomain(*domain, path));
    out.domains.push_back(toLower(*domain)); // Host matching is case-insensitive
    return okStatus();
  }));
  if (out.domains.empty())
    return fieldError(r.pathOf("domains"), "at least one domain is required");
  WG_RETURN_IF_ERROR(r.getList("routes", [&](const YAML::Node& e, const std::string& path, size_t) {
    Route route;
    WG_RETURN_IF_ERROR(readObject(e, path, [&](ObjectReader& rr) { return parseRoute(rr, ctx, route); }));
    out.routes.push_back(std::move(route));
    return okStatus();
  }));
  WG_RETURN_IF_ERROR(parseHeadersToAdd(r, "request_headers_to_add", out.request_headers_to_add, out.request_headers_to_add_action));
  WG_RETURN_IF_ERROR(parseHeadersToAdd(r, "response_headers_to_add", out.response_headers_to_add, out.response_headers_to_add_action));
  WG_RETURN_IF_ERROR(parseHeadersToRemove(r, "request_headers_to_remove", out.request_headers_to_remove));
  WG_RETURN_IF_ERROR(parseHeadersToRemove(r, "response_headers_to_remove", out.response_headers_to_remove));
  std::optional<RetryPolicy> retry_policy;
  WG_RETURN_IF_ERROR(r.getObject("retry_policy", [&](ObjectReader& rp) {
    RetryPolicy policy;
    WG_RETURN_IF_ERROR(parseRetryPolicy(rp, policy));
    retry_policy = std::move(policy);
    return okStatus();
  }));
  enum class RequireTls { None };
  RequireTls require_tls = RequireTls::None;
  WG_RETURN_IF_ERROR(r.getEnum<RequireTls>("require_tls", require_tls,
                                           {{"NONE", RequireTls::None},
                                            {"EXTERNAL_ONLY", std::nullopt, "TLS is not implemented yet"},
                                            {"ALL", std::nullopt, "TLS is not implemented yet"}}));
  PerFilterConfig per_filter;
  WG_RETURN_IF_ERROR(parseTypedPerFilterConfig(r, per_filter));
  inheritPerFilterConfig(inherited, per_filter);
  for (std::string_view key : {"cors", "rate_limits", "virtual_clusters", "hedge_policy", "vhds",
                               "request_mirror_policies", "matcher"})
    WG_RETURN_IF_ERROR(r.unsupported(key, "not implemented yet"));
  // Virtual-host-wide settings are pushed down into the routes, where the router reads them;
  // a route's own setting wins, as in Envoy.
  for (auto& route : out.routes) {
    if (route.action == Route::ActionKind::Route && !route.route.retry_policy && retry_policy)
      route.route.retry_policy = retry_policy;
    inheritPerFilterConfig(per_filter, route.typed_per_filter_config);
  }
  return okStatus();
}

} // namespace

Status parseRouteConfiguration(ObjectReader& r, LoadContext& ctx, RouteConfiguration& out) {
  WG_RETURN_IF_ERROR(r.getString("name", out.name));
  WG_RETURN_IF_ERROR(r.unsupported("vhds", "dynamic virtual host discovery is not implemented"));
  PerFilterConfig per_filter;
  WG_RETURN_IF_ERROR(parseTypedPerFilterConfig(r, per_filter));
  std::map<std::string, std::string> domain_owner; // domain -> virtual host name
  WG_RETURN_IF_ERROR(r.getList("virtual_hosts", [&](const YAML::Node& e, const std::string& path, size_t) {
    VirtualHost vhost;
    WG_RETURN_IF_ERROR(readObject(e, path, [&](ObjectReader& v) { return parseVirtualHost(v, ctx, vhost, per_filter); }));
    for (size_t i = 0; i < vhost.domains.size(); ++i) {
      auto [it, inserted] = domain_owner.emplace(vhost.domains[i], vhost.name);
      if (!inserted)
        return fieldError(indexPath(joinPath(path, "domains"), i),
                          "duplicate domain '" + vhost.domains[i] + "' (already used by virtual host '" +
                              it->second + "'); domains must be unique across a route_config");
    }
    out.virtual_hosts.push_back(std::move(vhost));
    return okStatus();
  }));
  WG_RETURN_IF_ERROR(parseHeadersToAdd(r, "request_headers_to_add", out.request_headers_to_add, out.request_headers_to_add_action));
  WG_RETURN_IF_ERROR(parseHeadersToAdd(r, "response_headers_to_add", out.response_headers_to_add, out.response_headers_to_add_action));
  WG_RETURN_IF_ERROR(parseHeadersToRemove(r, "request_headers_to_remove", out.request_headers_to_remove));
  WG_RETURN_IF_ERROR(parseHeadersToRemove(r, "response_headers_to_remove", out.response_headers_to_remove));
  // Clusters are static, so referenced clusters are always checked; turning that off could
  // only hide a typo.
  r.ignore("validate_clusters");
  return r.unsupported("internal_only_headers", "not implemented yet");
}

} // namespace wasmgate::config::detail
