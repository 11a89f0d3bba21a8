#pragma once

// The compiled route table of one HTTP connection manager: virtual host selection by
// :authority, first-match route selection, and the request/response header finalization
// (path and host rewrites, header mutations) and redirect URLs that routes imply, following
// Envoy's v3 RouteConfiguration semantics. Everything is compiled once in create(); route()
// runs per request and does not allocate in the common case.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "config/bootstrap.h"
#include "accesslog/formatter.h"
#include "http/header_map.h"
#include "http/stream_info.h"

namespace re2 {
class RE2;
}

namespace wasmgate::router {

class RouteEntry;
class VirtualHostEntry;
class RouteTable;

namespace detail {

// The header additions/removals of one config level (route config, virtual host or route).
struct HeaderMutations {
  struct Addition {
    std::string name; // lower-cased
    std::string value;
    config::HeaderAppendAction action = config::HeaderAppendAction::AppendIfExistsOrAdd;
    // Values with %OPERATOR% variables (Envoy's header formatter) are rendered per request.
    std::shared_ptr<const accesslog::Formatter> formatter;
  };
  std::vector<std::string> remove; // lower-cased
  std::vector<Addition> add;

  // Removals first, then additions (Envoy's order within one level). `info` (may be null)
  // supplies the values of %OPERATOR% variables.
  void apply(http::HeaderMap& headers, const http::StreamInfo* info) const;
};

struct CompiledHeaderMatcher {
  CompiledHeaderMatcher();
  CompiledHeaderMatcher(CompiledHeaderMatcher&&) noexcept;
  ~CompiledHeaderMatcher();

  bool matches(const http::HeaderMap& headers) const;

  config::HeaderMatcher config;          // name lower-cased
  std::unique_ptr<const re2::RE2> regex; // for Kind::SafeRegex
};

// ASCII case-insensitive hashing, so a lookup needs no lower-cased copy of the authority.
struct CaseInsensitiveHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept;
};
struct CaseInsensitiveEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept {
    return http::equalsIgnoreCase(a, b);
  }
};
// Domain (or wildcard remainder) -> index into RouteTable's virtual hosts.
using DomainMap = std::unordered_map<std::string, uint32_t, CaseInsensitiveHash, CaseInsensitiveEqual>;

// Wildcard domains of one remainder length ("*.foo.com" -> ".foo.com", length 8).
struct WildcardGroup {
  size_t length = 0;
  DomainMap domains;
};

} // namespace detail

// One compiled route: a copy of its config plus precompiled regexes and header mutations.
class RouteEntry {
public:
  ~RouteEntry();
  RouteEntry(const RouteEntry&) = delete;
  RouteEntry& operator=(const RouteEntry&) = delete;

  const config::Route& config() const { return config_; }
  const VirtualHostEntry& virtualHost() const { return *vhost_; }
  const std::string& name() const { return config_.name; }
  // The target cluster; empty for redirect and direct-response routes.
  const std::string& clusterName() const { return config_.route.cluster; }
  config::Route::ActionKind action() const { return config_.action; }

  // Whether this route's path and header matchers accept the request (ignores :authority).
  bool matches(const http::HeaderMap& request_headers) const;

  // Applies header mutations (route config, then virtual host, then route level, so the most
  // specific level wins; each level removes before it adds, honouring its append actions;
  // values are literal, %VARIABLES% are not expanded), then for Route actions host_rewrite_literal and the path rewrite
  // (prefix_rewrite or regex_rewrite), saving the original :path in x-envoy-original-path.
  void finalizeRequestHeaders(http::HeaderMap& headers, const http::StreamInfo* info = nullptr) const;
  // Applies response header mutations of all three levels, least specific first.
  void finalizeResponseHeaders(http::HeaderMap& headers, const http::StreamInfo* info = nullptr) const;

  // The Location for a redirect route, built from the request; empty for other actions.
  // The status code is config().redirect.response_code.
  std::string redirectUrl(const http::HeaderMap& request_headers) const;

private:
  friend class RouteTable;
  friend class VirtualHostEntry;

  RouteEntry(const config::Route& route, const VirtualHostEntry& vhost);
  static Result<std::unique_ptr<RouteEntry>> create(const config::Route& route,
                                                    const VirtualHostEntry& vhost,
                                                    const std::string& path);
  bool matches(const http::HeaderMap& headers, std::string_view path,
               std::string_view path_only) const;
  // `path` with the part this route matched replaced by `rewrite`, query kept; nullopt when
  // the path no longer starts with a matched prefix.
  std::optional<std::string> replaceMatchedPrefix(std::string_view path,
                                                  std::string_view rewrite) const;

  config::Route config_;
  const VirtualHostEntry* vhost_;
  std::unique_ptr<const re2::RE2> path_regex_;    // match.safe_regex
  std::unique_ptr<const re2::RE2> rewrite_regex_; // route.regex_rewrite.pattern
  std::vector<detail::CompiledHeaderMatcher> header_matchers_;
  detail::HeaderMutations request_mutations_;
  detail::HeaderMutations response_mutations_;
};

class VirtualHostEntry {
public:
  ~VirtualHostEntry();
  VirtualHostEntry(const VirtualHostEntry&) = delete;
  VirtualHostEntry& operator=(const VirtualHostEntry&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& domains() const { return domains_; } // as configured
  const std::vector<std::unique_ptr<RouteEntry>>& routes() const { return routes_; }
  const RouteTable& routeTable() const { return *table_; }

  // The first route of this virtual host that matches, or nullptr.
  const RouteEntry* route(const http::HeaderMap& request_headers) const;

private:
  friend class RouteTable;
  friend class RouteEntry;

  VirtualHostEntry(const RouteTable& table, const config::VirtualHost& vhost);

  const RouteTable* table_;
  std::string name_;
  std::vector<std::string> domains_;
  std::vector<std::unique_ptr<RouteEntry>> routes_;
  detail::HeaderMutations request_mutations_;
  detail::HeaderMutations response_mutations_;
};

class RouteTable {
public:
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Compiles the config (RE2 regexes, lower-cased domains and header names). Errors name the
  // config path under `path_prefix`, e.g.
  // "<path_prefix>.virtual_hosts[0].routes[2].match.safe_regex.regex: invalid regex '(': missing )".
  static Result<std::shared_ptr<const RouteTable>> create(const config::RouteConfiguration& cfg,
                                                          const std::string& path_prefix);

  // Picks the virtual host by :authority and its first matching route, or nullptr.
  const RouteEntry* route(const http::HeaderMap& request_headers) const;
  // Domain search order (case-insensitive): exact, longest suffix wildcard, longest prefix
  // wildcard, each first against the full authority and then, if nothing matched, against
  // the authority without its ":port"; finally the "*" virtual host. nullptr if none.
  const VirtualHostEntry* virtualHost(std::string_view authority) const;

  const std::string& name() const { return name_; }
  const std::vector<std::unique_ptr<VirtualHostEntry>>& virtualHosts() const { return vhosts_; }

private:
  friend class RouteEntry;

  RouteTable() = default;
  const VirtualHostEntry* matchDomain(std::string_view host) const;
  const VirtualHostEntry* matchWildcard(std::string_view host,
                                        const std::vector<detail::WildcardGroup>& groups,
                                        bool suffix) const;

  std::string name_;
  std::vector<std::unique_ptr<VirtualHostEntry>> vhosts_;
  detail::DomainMap exact_domains_;
  std::vector<detail::WildcardGroup> suffix_wildcards_; // longest first
  std::vector<detail::WildcardGroup> prefix_wildcards_; // longest first
  const VirtualHostEntry* default_vhost_ = nullptr;     // the "*" domain
  detail::HeaderMutations request_mutations_;
  detail::HeaderMutations response_mutations_;
};

} // namespace wasmgate::router
