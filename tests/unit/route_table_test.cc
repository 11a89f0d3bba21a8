#include "router/route_table.h"

#include <gtest/gtest.h>

namespace wasmgate::router {
namespace {

using config::HeaderMatcher;
using config::Route;
using config::RouteConfiguration;
using config::RouteMatch;
using config::VirtualHost;

// ---- builders ---------------------------------------------------------------------------------

Route makeRoute(RouteMatch::Kind kind, std::string value, std::string cluster = "backend",
                std::string name = "") {
  Route r;
  r.name = std::move(name);
  r.match.kind = kind;
  r.match.value = std::move(value);
  r.action = Route::ActionKind::Route;
  r.route.cluster = std::move(cluster);
  return r;
}
Route prefixRoute(std::string prefix, std::string cluster = "backend", std::string name = "") {
  return makeRoute(RouteMatch::Kind::Prefix, std::move(prefix), std::move(cluster), std::move(name));
}
Route pathRoute(std::string path, std::string cluster = "backend") {
  return makeRoute(RouteMatch::Kind::Path, std::move(path), std::move(cluster));
}
Route regexRoute(std::string regex, std::string cluster = "backend") {
  return makeRoute(RouteMatch::Kind::SafeRegex, std::move(regex), std::move(cluster));
}
Route redirectRoute(std::string prefix = "/") {
  Route r = prefixRoute(std::move(prefix), "");
  r.action = Route::ActionKind::Redirect;
  return r;
}

VirtualHost makeVhost(std::string name, std::vector<std::string> domains,
                      std::vector<Route> routes = {}) {
  VirtualHost vh;
  vh.name = std::move(name);
  vh.domains = std::move(domains);
  if (routes.empty())
    routes.push_back(prefixRoute("/", vh.name));
  vh.routes = std::move(routes);
  return vh;
}

RouteConfiguration singleVhost(std::vector<Route> routes, std::vector<std::string> domains = {"*"}) {
  RouteConfiguration cfg;
  cfg.name = "local_route";
  cfg.virtual_hosts.push_back(makeVhost("vh", std::move(domains), std::move(routes)));
  return cfg;
}

HeaderMatcher headerMatcher(std::string name, HeaderMatcher::Kind kind, std::string value = "") {
  HeaderMatcher m;
  m.name = std::move(name);
  m.kind = kind;
  m.value = std::move(value);
  return m;
}

http::HeaderMap request(std::string_view authority, std::string_view path,
                        std::string_view method = "GET", std::string_view scheme = "http") {
  http::HeaderMap h;
  h.addCopy(":method", method);
  h.addCopy(":scheme", scheme);
  h.addCopy(":authority", authority);
  h.addCopy(":path", path);
  return h;
}

std::shared_ptr<const RouteTable> build(const RouteConfiguration& cfg) {
  auto table = RouteTable::create(cfg, "route_config");
  EXPECT_TRUE(table.ok()) << table.error();
  return table.ok() ? *table : nullptr;
}

std::string buildError(const RouteConfiguration& cfg, const std::string& prefix = "route_config") {
  auto table = RouteTable::create(cfg, prefix);
  EXPECT_FALSE(table.ok());
  return table.error();
}

// Name of the virtual host chosen for `authority`, or "<none>".
std::string vhostFor(const RouteTable& table, std::string_view authority) {
  const VirtualHostEntry* vh = table.virtualHost(authority);
  return vh ? vh->name() : "<none>";
}

// Cluster of the route chosen for the request, or "<none>".
std::string clusterFor(const RouteTable& table, const http::HeaderMap& headers) {
  const RouteEntry* r = table.route(headers);
  return r ? r->clusterName() : "<none>";
}
std::string clusterFor(const RouteTable& table, std::string_view path) {
  return clusterFor(table, request("example.com", path));
}

std::vector<std::string> values(const http::HeaderMap& h, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : h)
    if (k == name)
      out.push_back(v);
  return out;
}

// ---- virtual host selection -------------------------------------------------------------------

RouteConfiguration domainPrecedenceConfig() {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("default", {"*"}));
  cfg.virtual_hosts.push_back(makeVhost("prefix", {"foo.*"}));
  cfg.virtual_hosts.push_back(makeVhost("suffix_short", {"*.example.com"}));
  cfg.virtual_hosts.push_back(makeVhost("suffix_long", {"*-bar.example.com"}));
  cfg.virtual_hosts.push_back(makeVhost("exact", {"foo.example.com", "www.example.com"}));
  return cfg;
}

TEST(RouteTableDomains, ExactBeatsEveryWildcard) {
  auto table = build(domainPrecedenceConfig());
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, "foo.example.com"), "exact");
  EXPECT_EQ(vhostFor(*table, "www.example.com"), "exact");
  EXPECT_EQ(clusterFor(*table, request("www.example.com", "/x")), "exact");
}

TEST(RouteTableDomains, LongestSuffixWildcardFirst) {
  auto table = build(domainPrecedenceConfig());
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, "baz-bar.example.com"), "suffix_long");
  EXPECT_EQ(vhostFor(*table, "baz.example.com"), "suffix_short");
  EXPECT_EQ(vhostFor(*table, "a.b.example.com"), "suffix_short");
  // Suffix wildcards beat prefix wildcards: "foo.*" also matches this one.
  EXPECT_EQ(vhostFor(*table, "foo.bar.example.com"), "suffix_short");
}

TEST(RouteTableDomains, WildcardMustMatchAtLeastOneCharacter) {
  auto table = build(domainPrecedenceConfig());
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, ".example.com"), "default");
  EXPECT_EQ(vhostFor(*table, "-bar.example.com"), "suffix_short");
  EXPECT_EQ(vhostFor(*table, "foo."), "default");
  EXPECT_EQ(vhostFor(*table, "foo.x"), "prefix");
}

TEST(RouteTableDomains, PrefixWildcardThenDefault) {
  auto table = build(domainPrecedenceConfig());
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, "foo.internal"), "prefix");
  EXPECT_EQ(vhostFor(*table, "other.org"), "default");
  EXPECT_EQ(vhostFor(*table, "example.com"), "default");
}

TEST(RouteTableDomains, LongestPrefixWildcardFirst) {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("short", {"api.*"}));
  cfg.virtual_hosts.push_back(makeVhost("long", {"api.v2.*"}));
  auto table = build(cfg);
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, "api.v2.example.com"), "long");
  EXPECT_EQ(vhostFor(*table, "api.v1.example.com"), "short");
  EXPECT_EQ(vhostFor(*table, "web.example.com"), "<none>");
}

TEST(RouteTableDomains, CaseInsensitive) {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("exact", {"WWW.Example.COM"}));
  cfg.virtual_hosts.push_back(makeVhost("suffix", {"*.Example.ORG"}));
  cfg.virtual_hosts.push_back(makeVhost("prefix", {"API.*"}));
  auto table = build(cfg);
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, "www.example.com"), "exact");
  EXPECT_EQ(vhostFor(*table, "wWw.ExAmPlE.cOm"), "exact");
  EXPECT_EQ(vhostFor(*table, "A.EXAMPLE.org"), "suffix");
  EXPECT_EQ(vhostFor(*table, "api.foo"), "prefix");
  EXPECT_EQ(vhostFor(*table, "Api.Foo"), "prefix");
  // Domains are reported as configured.
  EXPECT_EQ(table->virtualHosts()[0]->domains()[0], "WWW.Example.COM");
}

TEST(RouteTableDomains, NoMatchingVirtualHostGivesNull) {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("only", {"example.com"}));
  auto table = build(cfg);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->virtualHost("other.com"), nullptr);
  EXPECT_EQ(table->virtualHost(""), nullptr);
  EXPECT_EQ(table->route(request("other.com", "/")), nullptr);
  EXPECT_NE(table->route(request("example.com", "/")), nullptr);
}

TEST(RouteTableDomains, PortStrippedOnlyWhenFullValueDoesNotMatch) {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("with_port", {"example.com:8080"}));
  cfg.virtual_hosts.push_back(makeVhost("plain", {"example.com"}));
  cfg.virtual_hosts.push_back(makeVhost("suffix", {"*.example.org"}));
  cfg.virtual_hosts.push_back(makeVhost("default", {"*"}));
  auto table = build(cfg);
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, "example.com:8080"), "with_port");
  EXPECT_EQ(vhostFor(*table, "example.com:9090"), "plain");
  EXPECT_EQ(vhostFor(*table, "example.com"), "plain");
  EXPECT_EQ(vhostFor(*table, "a.example.org:443"), "suffix");
  EXPECT_EQ(vhostFor(*table, "EXAMPLE.COM:9090"), "plain");
  // Not a port: left alone, so only "*" matches.
  EXPECT_EQ(vhostFor(*table, "example.com:http"), "default");
  EXPECT_EQ(vhostFor(*table, "example.com:"), "default");
}

TEST(RouteTableDomains, FullAuthorityTriedBeforeStrippedOne) {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("prefix", {"foo.*"}));
  cfg.virtual_hosts.push_back(makeVhost("suffix", {"*.example.com"}));
  auto table = build(cfg);
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, "foo.example.com"), "suffix");
  // "foo.*" matches the full value, so the port is never stripped.
  EXPECT_EQ(vhostFor(*table, "foo.example.com:8080"), "prefix");
  EXPECT_EQ(vhostFor(*table, "bar.example.com:8080"), "suffix");
}

TEST(RouteTableDomains, Ipv6Authority) {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("v6", {"[::1]"}));
  cfg.virtual_hosts.push_back(makeVhost("v6port", {"[::1]:9000"}));
  auto table = build(cfg);
  ASSERT_TRUE(table);
  EXPECT_EQ(vhostFor(*table, "[::1]"), "v6");
  EXPECT_EQ(vhostFor(*table, "[::1]:8080"), "v6");
  EXPECT_EQ(vhostFor(*table, "[::1]:9000"), "v6port");
  EXPECT_EQ(vhostFor(*table, "[::2]:8080"), "<none>");
}

TEST(RouteTableDomains, MissingAuthorityOnlyMatchesDefault) {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("exact", {"example.com"}));
  cfg.virtual_hosts.push_back(makeVhost("default", {"*"}));
  auto table = build(cfg);
  ASSERT_TRUE(table);
  http::HeaderMap h;
  h.addCopy(":path", "/");
  const RouteEntry* r = table->route(h);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->virtualHost().name(), "default");
}

TEST(RouteTableDomains, ConfigErrors) {
  RouteConfiguration dup;
  dup.virtual_hosts.push_back(makeVhost("a", {"example.com", "*.foo.com"}));
  dup.virtual_hosts.push_back(makeVhost("b", {"x.com", "Example.com"}));
  EXPECT_EQ(buildError(dup), "route_config.virtual_hosts[1].domains[1]: duplicate domain "
                             "'example.com' (already in virtual_hosts[0])");

  RouteConfiguration dup_wildcard;
  dup_wildcard.virtual_hosts.push_back(makeVhost("a", {"*.foo.com", "*.FOO.com"}));
  EXPECT_EQ(buildError(dup_wildcard), "route_config.virtual_hosts[0].domains[1]: duplicate domain "
                                      "'*.foo.com' (already in virtual_hosts[0])");

  RouteConfiguration two_defaults;
  two_defaults.virtual_hosts.push_back(makeVhost("a", {"*"}));
  two_defaults.virtual_hosts.push_back(makeVhost("b", {"*"}));
  EXPECT_EQ(buildError(two_defaults), "route_config.virtual_hosts[1].domains[0]: only one virtual "
                                      "host may use the '*' domain (already virtual_hosts[0])");

  RouteConfiguration no_domains;
  no_domains.virtual_hosts.push_back(makeVhost("a", {}));
  EXPECT_EQ(buildError(no_domains),
            "route_config.virtual_hosts[0].domains: at least one domain is required");

  RouteConfiguration empty_domain;
  empty_domain.virtual_hosts.push_back(makeVhost("a", {""}));
  EXPECT_EQ(buildError(empty_domain), "route_config.virtual_hosts[0].domains[0]: domain must not be empty");
}

TEST(RouteTable, EmptyConfigRoutesNothing) {
  auto table = build(RouteConfiguration{});
  ASSERT_TRUE(table);
  EXPECT_EQ(table->route(request("example.com", "/")), nullptr);
  EXPECT_TRUE(table->virtualHosts().empty());
}

// ---- path matching ----------------------------------------------------------------------------

TEST(RouteTableMatch, PrefixMatchSeesTheQueryString) {
  auto table = build(singleVhost({prefixRoute("/api?v=2", "v2"), prefixRoute("/api", "api"),
                                  prefixRoute("/", "root")}));
  ASSERT_TRUE(table);
  EXPECT_EQ(clusterFor(*table, "/api?v=2&x=1"), "v2");
  EXPECT_EQ(clusterFor(*table, "/api?v=1"), "api");
  EXPECT_EQ(clusterFor(*table, "/api/users"), "api");
  EXPECT_EQ(clusterFor(*table, "/apis"), "api"); // plain string prefix, not segment-aware
  EXPECT_EQ(clusterFor(*table, "/API"), "root");
  EXPECT_EQ(clusterFor(*table, "/"), "root");
}

TEST(RouteTableMatch, PathMatchIsExactAndIgnoresQuery) {
  auto table = build(singleVhost({pathRoute("/health", "health")}));
  ASSERT_TRUE(table);
  EXPECT_EQ(clusterFor(*table, "/health"), "health");
  EXPECT_EQ(clusterFor(*table, "/health?verbose=1"), "health");
  EXPECT_EQ(clusterFor(*table, "/health#frag"), "health");
  EXPECT_EQ(clusterFor(*table, "/health/"), "<none>");
  EXPECT_EQ(clusterFor(*table, "/healthz"), "<none>");
  EXPECT_EQ(clusterFor(*table, "/Health"), "<none>");
  EXPECT_EQ(clusterFor(*table, "/heal"), "<none>");
}

TEST(RouteTableMatch, RegexMustMatchWholePathWithoutQuery) {
  auto table = build(singleVhost({regexRoute("/users/[0-9]+", "users")}));
  ASSERT_TRUE(table);
  EXPECT_EQ(clusterFor(*table, "/users/42"), "users");
  EXPECT_EQ(clusterFor(*table, "/users/42?expand=true"), "users");
  EXPECT_EQ(clusterFor(*table, "/users/42/posts"), "<none>");
  EXPECT_EQ(clusterFor(*table, "/v1/users/42"), "<none>");
  EXPECT_EQ(clusterFor(*table, "/users/abc"), "<none>");
}

TEST(RouteTableMatch, CaseInsensitivePrefixAndPath) {
  Route prefix = prefixRoute("/Api/", "api");
  prefix.match.case_sensitive = false;
  Route path = pathRoute("/Login", "login");
  path.match.case_sensitive = false;
  // case_sensitive does not apply to regex routes.
  Route regex = regexRoute("/static/.*", "static");
  regex.match.case_sensitive = false;
  auto table = build(singleVhost({prefix, path, regex}));
  ASSERT_TRUE(table);
  EXPECT_EQ(clusterFor(*table, "/api/x"), "api");
  EXPECT_EQ(clusterFor(*table, "/API/x"), "api");
  EXPECT_EQ(clusterFor(*table, "/apI"), "<none>");
  EXPECT_EQ(clusterFor(*table, "/login"), "login");
  EXPECT_EQ(clusterFor(*table, "/LOGIN?next=/"), "login");
  EXPECT_EQ(clusterFor(*table, "/static/a.css"), "static");
  EXPECT_EQ(clusterFor(*table, "/STATIC/a.css"), "<none>");
}

TEST(RouteTableMatch, FirstMatchWins) {
  auto table = build(singleVhost({prefixRoute("/", "catch_all", "first"),
                                  pathRoute("/exact", "never")}));
  ASSERT_TRUE(table);
  const RouteEntry* r = table->route(request("example.com", "/exact"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->clusterName(), "catch_all");
  EXPECT_EQ(r->name(), "first");

  auto ordered = build(singleVhost({pathRoute("/exact", "exact"), prefixRoute("/", "catch_all")}));
  ASSERT_TRUE(ordered);
  EXPECT_EQ(clusterFor(*ordered, "/exact"), "exact");
  EXPECT_EQ(clusterFor(*ordered, "/other"), "catch_all");
}

TEST(RouteTableMatch, NoMatchingRouteInVirtualHost) {
  auto table = build(singleVhost({prefixRoute("/api", "api")}));
  ASSERT_TRUE(table);
  EXPECT_EQ(table->route(request("example.com", "/web")), nullptr);
  EXPECT_NE(table->virtualHost("example.com"), nullptr);
}

TEST(RouteTableMatch, EntryAccessors) {
  RouteConfiguration cfg = singleVhost({prefixRoute("/a", "cluster_a", "route_a")}, {"a.com"});
  cfg.name = "rc";
  auto table = build(cfg);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->name(), "rc");
  const RouteEntry* r = table->route(request("a.com", "/a"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name(), "route_a");
  EXPECT_EQ(r->clusterName(), "cluster_a");
  EXPECT_EQ(r->config().match.value, "/a");
  EXPECT_EQ(r->action(), Route::ActionKind::Route);
  EXPECT_EQ(r->virtualHost().name(), "vh");
  EXPECT_EQ(&r->virtualHost().routeTable(), table.get());
  EXPECT_EQ(r->virtualHost().routes().size(), 1u);
  EXPECT_TRUE(r->matches(request("whatever", "/abc")));
  EXPECT_FALSE(r->matches(request("a.com", "/b")));
}

// ---- header matchers --------------------------------------------------------------------------

std::shared_ptr<const RouteTable> headerTable(std::vector<HeaderMatcher> matchers) {
  Route r = prefixRoute("/", "matched");
  r.match.headers = std::move(matchers);
  return build(singleVhost({r}));
}

bool headersMatch(const RouteTable& table, std::vector<std::pair<std::string, std::string>> extra) {
  http::HeaderMap h = request("example.com", "/");
  for (auto& [k, v] : extra)
    h.add(k, v);
  return table.route(h) != nullptr;
}

TEST(RouteTableHeaders, StringMatchers) {
  auto exact = headerTable({headerMatcher("x-env", HeaderMatcher::Kind::Exact, "prod")});
  ASSERT_TRUE(exact);
  EXPECT_TRUE(headersMatch(*exact, {{"x-env", "prod"}}));
  EXPECT_FALSE(headersMatch(*exact, {{"x-env", "prod2"}}));
  EXPECT_FALSE(headersMatch(*exact, {{"x-env", "PROD"}}));
  EXPECT_FALSE(headersMatch(*exact, {}));

  auto prefix = headerTable({headerMatcher("user-agent", HeaderMatcher::Kind::Prefix, "curl/")});
  ASSERT_TRUE(prefix);
  EXPECT_TRUE(headersMatch(*prefix, {{"user-agent", "curl/8.0"}}));
  EXPECT_FALSE(headersMatch(*prefix, {{"user-agent", "Mozilla curl/8.0"}}));

  auto suffix = headerTable({headerMatcher("x-file", HeaderMatcher::Kind::Suffix, ".json")});
  ASSERT_TRUE(suffix);
  EXPECT_TRUE(headersMatch(*suffix, {{"x-file", "a.json"}}));
  EXPECT_FALSE(headersMatch(*suffix, {{"x-file", "a.json.gz"}}));

  auto contains = headerTable({headerMatcher("cookie", HeaderMatcher::Kind::Contains, "beta=1")});
  ASSERT_TRUE(contains);
  EXPECT_TRUE(headersMatch(*contains, {{"cookie", "a=b; beta=1; c=d"}}));
  EXPECT_FALSE(headersMatch(*contains, {{"cookie", "beta=0"}}));
}

TEST(RouteTableHeaders, RegexMatcherIsFullMatch) {
  auto table = headerTable({headerMatcher("x-version", HeaderMatcher::Kind::SafeRegex, "v[0-9]+")});
  ASSERT_TRUE(table);
  EXPECT_TRUE(headersMatch(*table, {{"x-version", "v12"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-version", "v12-beta"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-version", "xv1"}}));
  EXPECT_FALSE(headersMatch(*table, {}));
}

TEST(RouteTableHeaders, RangeMatcherIsHalfOpen) {
  HeaderMatcher m = headerMatcher("x-shard", HeaderMatcher::Kind::Range);
  m.range_start = -10;
  m.range_end = 20;
  auto table = headerTable({m});
  ASSERT_TRUE(table);
  EXPECT_TRUE(headersMatch(*table, {{"x-shard", "-10"}}));
  EXPECT_TRUE(headersMatch(*table, {{"x-shard", "0"}}));
  EXPECT_TRUE(headersMatch(*table, {{"x-shard", "19"}}));
  EXPECT_TRUE(headersMatch(*table, {{"x-shard", " +7 "}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-shard", "20"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-shard", "-11"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-shard", "5x"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-shard", "1.5"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-shard", ""}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-shard", "99999999999999999999"}}));
  EXPECT_FALSE(headersMatch(*table, {}));
}

TEST(RouteTableHeaders, PresentMatcher) {
  auto present = headerTable({headerMatcher("x-debug", HeaderMatcher::Kind::Present)});
  ASSERT_TRUE(present);
  EXPECT_TRUE(headersMatch(*present, {{"x-debug", ""}}));
  EXPECT_TRUE(headersMatch(*present, {{"x-debug", "1"}}));
  EXPECT_FALSE(headersMatch(*present, {}));

  HeaderMatcher absent_matcher = headerMatcher("x-debug", HeaderMatcher::Kind::Present);
  absent_matcher.present = false;
  auto absent = headerTable({absent_matcher});
  ASSERT_TRUE(absent);
  EXPECT_TRUE(headersMatch(*absent, {}));
  EXPECT_FALSE(headersMatch(*absent, {{"x-debug", "1"}}));

  absent_matcher.invert_match = true;
  auto inverted_absent = headerTable({absent_matcher});
  ASSERT_TRUE(inverted_absent);
  EXPECT_FALSE(headersMatch(*inverted_absent, {}));
  EXPECT_TRUE(headersMatch(*inverted_absent, {{"x-debug", "1"}}));
}

TEST(RouteTableHeaders, InvertMatch) {
  HeaderMatcher m = headerMatcher("x-env", HeaderMatcher::Kind::Exact, "prod");
  m.invert_match = true;
  auto table = headerTable({m});
  ASSERT_TRUE(table);
  EXPECT_FALSE(headersMatch(*table, {{"x-env", "prod"}}));
  EXPECT_TRUE(headersMatch(*table, {{"x-env", "staging"}}));
  EXPECT_TRUE(headersMatch(*table, {})); // absent header: inverted matcher passes

  HeaderMatcher present = headerMatcher("x-debug", HeaderMatcher::Kind::Present);
  present.invert_match = true;
  auto not_present = headerTable({present});
  ASSERT_TRUE(not_present);
  EXPECT_TRUE(headersMatch(*not_present, {}));
  EXPECT_FALSE(headersMatch(*not_present, {{"x-debug", "1"}}));

  HeaderMatcher range = headerMatcher("x-n", HeaderMatcher::Kind::Range);
  range.range_start = 0;
  range.range_end = 10;
  range.invert_match = true;
  auto not_in_range = headerTable({range});
  ASSERT_TRUE(not_in_range);
  EXPECT_TRUE(headersMatch(*not_in_range, {{"x-n", "10"}}));
  EXPECT_TRUE(headersMatch(*not_in_range, {{"x-n", "abc"}}));
  EXPECT_FALSE(headersMatch(*not_in_range, {{"x-n", "3"}}));
}

TEST(RouteTableHeaders, RepeatedHeaderValuesAreJoinedWithComma) {
  auto exact = headerTable({headerMatcher("x-tag", HeaderMatcher::Kind::Exact, "a,b")});
  ASSERT_TRUE(exact);
  EXPECT_TRUE(headersMatch(*exact, {{"x-tag", "a"}, {"x-tag", "b"}}));
  EXPECT_FALSE(headersMatch(*exact, {{"x-tag", "a"}}));
  EXPECT_FALSE(headersMatch(*exact, {{"x-tag", "b"}, {"x-tag", "a"}}));

  auto regex = headerTable({headerMatcher("x-tag", HeaderMatcher::Kind::SafeRegex, "a,b,c")});
  ASSERT_TRUE(regex);
  EXPECT_TRUE(headersMatch(*regex, {{"x-tag", "a"}, {"x-other", "z"}, {"x-tag", "b,c"}}));
}

TEST(RouteTableHeaders, PseudoHeadersAndAllMatchersMustMatch) {
  auto table = headerTable({headerMatcher(":method", HeaderMatcher::Kind::Exact, "POST"),
                            headerMatcher(":authority", HeaderMatcher::Kind::Suffix, ".com"),
                            headerMatcher(":path", HeaderMatcher::Kind::Contains, "upload")});
  ASSERT_TRUE(table);
  EXPECT_NE(table->route(request("a.com", "/upload", "POST")), nullptr);
  EXPECT_EQ(table->route(request("a.com", "/upload", "GET")), nullptr);
  EXPECT_EQ(table->route(request("a.org", "/upload", "POST")), nullptr);
  EXPECT_EQ(table->route(request("a.com", "/download", "POST")), nullptr);
}

TEST(RouteTableHeaders, IgnoreCase) {
  HeaderMatcher exact = headerMatcher("x-env", HeaderMatcher::Kind::Exact, "Prod");
  exact.ignore_case = true;
  HeaderMatcher prefix = headerMatcher("x-p", HeaderMatcher::Kind::Prefix, "AB");
  prefix.ignore_case = true;
  HeaderMatcher suffix = headerMatcher("x-s", HeaderMatcher::Kind::Suffix, ".JSON");
  suffix.ignore_case = true;
  HeaderMatcher contains = headerMatcher("x-c", HeaderMatcher::Kind::Contains, "Beta");
  contains.ignore_case = true;
  auto table = headerTable({exact, prefix, suffix, contains});
  ASSERT_TRUE(table);
  EXPECT_TRUE(headersMatch(*table, {{"x-env", "PROD"}, {"x-p", "abc"}, {"x-s", "a.json"},
                                    {"x-c", "is-BETA-on"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-env", "prod1"}, {"x-p", "abc"}, {"x-s", "a.json"},
                                     {"x-c", "is-BETA-on"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-env", "prod"}, {"x-p", "xab"}, {"x-s", "a.json"},
                                     {"x-c", "is-BETA-on"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-env", "prod"}, {"x-p", "ab"}, {"x-s", "a.jso"},
                                     {"x-c", "is-BETA-on"}}));
  EXPECT_FALSE(headersMatch(*table, {{"x-env", "prod"}, {"x-p", "ab"}, {"x-s", ".json"},
                                     {"x-c", "bet"}}));
  EXPECT_TRUE(headersMatch(*table, {{"x-env", "prod"}, {"x-p", "ab"}, {"x-s", ".json"},
                                    {"x-c", "beta"}}));
}

TEST(RouteTableHeaders, MatcherNamesAreLowerCased) {
  auto table = headerTable({headerMatcher("X-Env", HeaderMatcher::Kind::Exact, "prod")});
  ASSERT_TRUE(table);
  EXPECT_TRUE(headersMatch(*table, {{"x-env", "prod"}}));
}

TEST(RouteTableHeaders, HeaderMatchersFallThroughToNextRoute) {
  Route canary = prefixRoute("/", "canary");
  canary.match.headers.push_back(headerMatcher("x-canary", HeaderMatcher::Kind::Exact, "1"));
  auto table = build(singleVhost({canary, prefixRoute("/", "stable")}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/");
  EXPECT_EQ(clusterFor(*table, h), "stable");
  h.addCopy("x-canary", "1");
  EXPECT_EQ(clusterFor(*table, h), "canary");
}

// ---- request finalization: rewrites -----------------------------------------------------------

TEST(RouteTableRewrite, PrefixRewriteOnPrefixMatchKeepsQuery) {
  Route r = prefixRoute("/api/v1/", "api");
  r.route.prefix_rewrite = "/v1/";
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/api/v1/users?limit=10");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "/v1/users?limit=10");
  EXPECT_EQ(h.getView("x-envoy-original-path"), "/api/v1/users?limit=10");
  EXPECT_EQ(values(h, ":path").size(), 1u);
}

TEST(RouteTableRewrite, PrefixRewriteToRoot) {
  Route r = prefixRoute("/prefix", "api");
  r.route.prefix_rewrite = "/";
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/prefix/foo");
  table->route(h)->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "//foo"); // Envoy's documented trailing-slash caveat
  http::HeaderMap h2 = request("example.com", "/prefix");
  table->route(h2)->finalizeRequestHeaders(h2);
  EXPECT_EQ(h2.path(), "/");
}

TEST(RouteTableRewrite, PrefixRewriteOnPathMatchReplacesWholePath) {
  Route r = pathRoute("/old/page", "web");
  r.route.prefix_rewrite = "/new";
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/old/page?a=1&b=2");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "/new?a=1&b=2");
  EXPECT_EQ(h.getView("x-envoy-original-path"), "/old/page?a=1&b=2");
}

TEST(RouteTableRewrite, PrefixRewriteCaseInsensitivePrefix) {
  Route r = prefixRoute("/API/", "api");
  r.match.case_sensitive = false;
  r.route.prefix_rewrite = "/internal/";
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/api/Users");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "/internal/Users");
}

TEST(RouteTableRewrite, RegexRewriteWithCapturesKeepsQuery) {
  Route r = prefixRoute("/service/", "svc");
  r.route.regex_rewrite = config::RegexRewrite{"^/service/([^/]+)(/.*)$", "\\2/instance/\\1"};
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/service/foo/v1/api?x=/service/a/b");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "/v1/api/instance/foo?x=/service/a/b");
  EXPECT_EQ(h.getView("x-envoy-original-path"), "/service/foo/v1/api?x=/service/a/b");
}

TEST(RouteTableRewrite, RegexRewriteReplacesAllOccurrences) {
  Route r = regexRoute("/aaa/.*", "svc");
  r.route.regex_rewrite = config::RegexRewrite{"a", "b"};
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/aaa/xa?a=a");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "/bbb/xb?a=a");
}

TEST(RouteTableRewrite, PrefixRewriteOnRegexMatchReplacesWholePath) {
  Route r = regexRoute("/v[0-9]+/items");
  r.route.prefix_rewrite = "/items";
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/v3/items?id=1");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "/items?id=1");
}

TEST(RouteTableRewrite, HostRewriteLiteral) {
  Route r = prefixRoute("/", "svc");
  r.route.host_rewrite_literal = "internal.svc.local";
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com:8080", "/x");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(h.authority(), "internal.svc.local");
  EXPECT_EQ(values(h, ":authority").size(), 1u);
  EXPECT_EQ(h.path(), "/x");
  EXPECT_FALSE(h.has("x-envoy-original-path"));
}

TEST(RouteTableRewrite, NoRewriteLeavesPathAlone) {
  auto table = build(singleVhost({prefixRoute("/", "svc")}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/a?b=c");
  const size_t before = h.size();
  table->route(h)->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "/a?b=c");
  EXPECT_EQ(h.authority(), "example.com");
  EXPECT_FALSE(h.has("x-envoy-original-path"));
  EXPECT_EQ(h.size(), before);
}

TEST(RouteTableRewrite, OriginalPathOverwritesClientValue) {
  Route r = prefixRoute("/a", "svc");
  r.route.prefix_rewrite = "/b";
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/a/1");
  h.addCopy("x-envoy-original-path", "/spoofed");
  table->route(h)->finalizeRequestHeaders(h);
  EXPECT_EQ(values(h, "x-envoy-original-path"), std::vector<std::string>{"/a/1"});
  EXPECT_EQ(h.path(), "/b/1");
}

// ---- header mutations -------------------------------------------------------------------------

RouteConfiguration mutationConfig() {
  Route r = prefixRoute("/", "svc");
  r.request_headers_to_add = {{"x-level", "route"}, {"X-Route", "r"}};
  r.request_headers_to_remove = {"x-from-vhost"};
  r.response_headers_to_add = {{"x-resp-level", "route"}};
  r.response_headers_to_remove = {"x-resp-vhost-only"};

  RouteConfiguration cfg = singleVhost({r});
  VirtualHost& vh = cfg.virtual_hosts[0];
  vh.request_headers_to_add = {{"x-level", "vhost"}, {"x-from-vhost", "v"}};
  vh.request_headers_to_remove = {"x-level"};
  vh.response_headers_to_add = {{"x-resp-level", "vhost"}, {"x-resp-vhost-only", "v"}};
  vh.response_headers_to_remove = {"Server"};

  cfg.request_headers_to_add = {{"x-level", "config"}, {"x-config", "c"}};
  cfg.request_headers_to_remove = {"x-secret"};
  cfg.response_headers_to_add = {{"x-resp-level", "config"}};
  cfg.response_headers_to_remove = {"x-internal"};
  return cfg;
}

TEST(RouteTableMutations, RequestHeadersThreeLevelsLeastSpecificFirst) {
  auto table = build(mutationConfig());
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/");
  h.addCopy("x-secret", "token");
  h.addCopy("x-level", "client");
  table->route(h)->finalizeRequestHeaders(h);
  EXPECT_FALSE(h.has("x-secret"));
  EXPECT_EQ(h.getView("x-config"), "c");
  // Config level appends to the client's value; the vhost removes x-level then adds its own,
  // and the route appends last.
  EXPECT_EQ(values(h, "x-level"), (std::vector<std::string>{"vhost", "route"}));
  // Route-level removal runs after the vhost added the header.
  EXPECT_FALSE(h.has("x-from-vhost"));
  EXPECT_EQ(h.getView("x-route"), "r"); // name lower-cased at compile time
}

TEST(RouteTableMutations, ResponseHeadersThreeLevels) {
  auto table = build(mutationConfig());
  ASSERT_TRUE(table);
  http::HeaderMap req = request("example.com", "/");
  const RouteEntry* entry = table->route(req);
  ASSERT_NE(entry, nullptr);
  http::HeaderMap resp;
  resp.addCopy(":status", "200");
  resp.addCopy("server", "upstream");
  resp.addCopy("x-internal", "1");
  entry->finalizeResponseHeaders(resp);
  EXPECT_FALSE(resp.has("server"));
  EXPECT_FALSE(resp.has("x-internal"));
  EXPECT_FALSE(resp.has("x-resp-vhost-only"));
  EXPECT_EQ(values(resp, "x-resp-level"), (std::vector<std::string>{"config", "vhost", "route"}));
  EXPECT_EQ(resp.status(), 200u);
}

TEST(RouteTableMutations, AppendActions) {
  using Action = config::HeaderAppendAction;
  Route r = prefixRoute("/", "svc");
  r.request_headers_to_add = {{"x-append", "2"},    {"x-set", "new"},       {"x-empty", ""},
                              {"x-drop", "re-added"}, {"x-if-absent", "no"}, {"x-new-if-absent", "yes"},
                              {"x-only-existing", "no"}, {"x-existing", "replaced"}};
  r.request_headers_to_add_action = {Action::AppendIfExistsOrAdd, Action::OverwriteIfExistsOrAdd,
                                     Action::AppendIfExistsOrAdd, Action::AppendIfExistsOrAdd,
                                     Action::AddIfAbsent,         Action::AddIfAbsent,
                                     Action::OverwriteIfExists,   Action::OverwriteIfExists};
  r.request_headers_to_remove = {"x-drop"};
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/");
  h.addCopy("x-append", "1");
  h.addCopy("x-set", "old1");
  h.addCopy("x-set", "old2");
  h.addCopy("x-drop", "gone");
  h.addCopy("x-if-absent", "client");
  h.addCopy("x-existing", "a");
  h.addCopy("x-existing", "b");
  table->route(h)->finalizeRequestHeaders(h);
  EXPECT_EQ(values(h, "x-append"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(values(h, "x-set"), std::vector<std::string>{"new"});
  EXPECT_FALSE(h.has("x-empty")); // Envoy drops empty values (keep_empty_value is false)
  EXPECT_EQ(values(h, "x-drop"), std::vector<std::string>{"re-added"}); // removals run first
  EXPECT_EQ(values(h, "x-if-absent"), std::vector<std::string>{"client"});
  EXPECT_EQ(values(h, "x-new-if-absent"), std::vector<std::string>{"yes"});
  EXPECT_FALSE(h.has("x-only-existing"));
  EXPECT_EQ(values(h, "x-existing"), std::vector<std::string>{"replaced"});
}

TEST(RouteTableMutations, MostSpecificOverwriteWins) {
  using Action = config::HeaderAppendAction;
  Route r = prefixRoute("/", "svc");
  r.request_headers_to_add = {{"x-owner", "route"}};
  r.request_headers_to_add_action = {Action::OverwriteIfExistsOrAdd};
  r.response_headers_to_add = {{"cache-control", "no-store"}};
  r.response_headers_to_add_action = {Action::OverwriteIfExistsOrAdd};
  RouteConfiguration cfg = singleVhost({r});
  cfg.virtual_hosts[0].request_headers_to_add = {{"x-owner", "vhost"}, {"x-vhost", "1"}};
  cfg.virtual_hosts[0].request_headers_to_add_action = {Action::OverwriteIfExistsOrAdd,
                                                        Action::AddIfAbsent};
  cfg.request_headers_to_add = {{"x-owner", "config"}};
  cfg.request_headers_to_add_action = {Action::OverwriteIfExistsOrAdd};
  cfg.response_headers_to_add = {{"cache-control", "max-age=60"}};
  auto table = build(cfg);
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/");
  h.addCopy("x-owner", "client");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(values(h, "x-owner"), std::vector<std::string>{"route"});
  EXPECT_EQ(h.getView("x-vhost"), "1");
  http::HeaderMap resp;
  resp.addCopy("cache-control", "private");
  entry->finalizeResponseHeaders(resp);
  EXPECT_EQ(values(resp, "cache-control"), std::vector<std::string>{"no-store"});
}

TEST(RouteTableMutations, MutationsAppliedBeforeRewrite) {
  Route r = prefixRoute("/a", "svc");
  r.route.prefix_rewrite = "/b";
  r.request_headers_to_remove = {"x-envoy-original-path"};
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("example.com", "/a");
  table->route(h)->finalizeRequestHeaders(h);
  EXPECT_EQ(h.getView("x-envoy-original-path"), "/a");
}

TEST(RouteTableMutations, PseudoAndHostHeadersAreRejected) {
  RouteConfiguration add_path = singleVhost({prefixRoute("/")});
  add_path.virtual_hosts[0].routes[0].request_headers_to_add = {{":path", "/x"}};
  EXPECT_EQ(buildError(add_path), "route_config.virtual_hosts[0].routes[0].request_headers_to_add[0]"
                                  ".header.key: ':'-prefixed or host headers may not be modified "
                                  "(':path')");

  RouteConfiguration remove_host = singleVhost({prefixRoute("/")});
  remove_host.virtual_hosts[0].request_headers_to_remove = {"x-ok", "Host"};
  EXPECT_EQ(buildError(remove_host), "route_config.virtual_hosts[0].request_headers_to_remove[1]: "
                                     "':'-prefixed or host headers may not be removed ('Host')");

  RouteConfiguration response_status = singleVhost({prefixRoute("/")});
  response_status.response_headers_to_add = {{":status", "500"}};
  EXPECT_EQ(buildError(response_status), "route_config.response_headers_to_add[0].header.key: "
                                         "':'-prefixed or host headers may not be modified "
                                         "(':status')");
}

TEST(RouteTableMutations, DirectResponseRoutesGetResponseMutations) {
  Route r = prefixRoute("/", "");
  r.action = Route::ActionKind::DirectResponse;
  r.direct_response = {403, "denied"};
  r.response_headers_to_add = {{"x-denied", "1"}};
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  const RouteEntry* entry = table->route(request("example.com", "/"));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->action(), Route::ActionKind::DirectResponse);
  EXPECT_EQ(entry->config().direct_response.status, 403u);
  EXPECT_EQ(entry->config().direct_response.body, "denied");
  EXPECT_EQ(entry->clusterName(), "");
  http::HeaderMap resp;
  entry->finalizeResponseHeaders(resp);
  EXPECT_EQ(resp.getView("x-denied"), "1");
  EXPECT_EQ(entry->redirectUrl(request("example.com", "/")), "");
}

// ---- redirects --------------------------------------------------------------------------------

std::string redirectFor(const Route& r, const http::HeaderMap& h) {
  auto table = build(singleVhost({r}));
  if (!table)
    return "<build failed>";
  const RouteEntry* entry = table->route(h);
  if (!entry)
    return "<no route>";
  return entry->redirectUrl(h);
}

TEST(RouteTableRedirect, HttpsRedirect) {
  Route r = redirectRoute();
  r.redirect.scheme_redirect = "https";
  EXPECT_EQ(redirectFor(r, request("example.com", "/a/b?c=d")), "https://example.com/a/b?c=d");
  // The old scheme's default port is dropped with the scheme change; other ports stay.
  EXPECT_EQ(redirectFor(r, request("example.com:80", "/")), "https://example.com/");
  EXPECT_EQ(redirectFor(r, request("example.com:8080", "/")), "https://example.com:8080/");
  EXPECT_EQ(redirectFor(r, request("[::1]:80", "/")), "https://[::1]/");
}

TEST(RouteTableRedirect, SchemeFollowsRequestByDefault) {
  Route r = redirectRoute();
  r.redirect.host_redirect = "new.example.com";
  EXPECT_EQ(redirectFor(r, request("old.example.com", "/x", "GET", "https")),
            "https://new.example.com/x");
  http::HeaderMap no_scheme;
  no_scheme.addCopy(":authority", "old.example.com");
  no_scheme.addCopy(":path", "/x");
  EXPECT_EQ(redirectFor(r, no_scheme), "http://new.example.com/x");
}

TEST(RouteTableRedirect, HostAndPortRedirect) {
  Route r = redirectRoute();
  r.redirect.host_redirect = "new.example.com";
  r.redirect.port_redirect = 8443;
  EXPECT_EQ(redirectFor(r, request("old.example.com:8080", "/p?q=1")),
            "http://new.example.com:8443/p?q=1");

  // A default port for the resulting scheme is omitted.
  r.redirect.scheme_redirect = "https";
  r.redirect.port_redirect = 443;
  EXPECT_EQ(redirectFor(r, request("old.example.com", "/p")), "https://new.example.com/p");
  r.redirect.scheme_redirect.reset();
  r.redirect.port_redirect = 80;
  EXPECT_EQ(redirectFor(r, request("old.example.com", "/p")), "http://new.example.com/p");
  r.redirect.port_redirect = 443;
  EXPECT_EQ(redirectFor(r, request("old.example.com", "/p")), "http://new.example.com:443/p");
}

TEST(RouteTableRedirect, PortRedirectReplacesRequestPort) {
  Route r = redirectRoute();
  r.redirect.port_redirect = 9000;
  EXPECT_EQ(redirectFor(r, request("example.com:8080", "/")), "http://example.com:9000/");
  EXPECT_EQ(redirectFor(r, request("example.com", "/")), "http://example.com:9000/");
  EXPECT_EQ(redirectFor(r, request("[::1]:8080", "/")), "http://[::1]:9000/");
  // A port inside host_redirect is replaced too.
  r.redirect.host_redirect = "other.com:1234";
  EXPECT_EQ(redirectFor(r, request("example.com", "/")), "http://other.com:9000/");
}

TEST(RouteTableRedirect, KeepsRequestAuthorityWithoutChanges) {
  Route r = redirectRoute();
  r.redirect.path_redirect = "/moved";
  EXPECT_EQ(redirectFor(r, request("example.com:8080", "/old")), "http://example.com:8080/moved");
}

TEST(RouteTableRedirect, PathRedirectQueryHandling) {
  Route r = redirectRoute();
  r.redirect.path_redirect = "/new/path";
  EXPECT_EQ(redirectFor(r, request("a.com", "/old?x=1")), "http://a.com/new/path?x=1");
  EXPECT_EQ(redirectFor(r, request("a.com", "/old")), "http://a.com/new/path");

  r.redirect.strip_query = true;
  EXPECT_EQ(redirectFor(r, request("a.com", "/old?x=1")), "http://a.com/new/path");

  // A query in path_redirect replaces the request's and survives strip_query.
  r.redirect.path_redirect = "/new?from=old";
  EXPECT_EQ(redirectFor(r, request("a.com", "/old?x=1")), "http://a.com/new?from=old");
  r.redirect.strip_query = false;
  EXPECT_EQ(redirectFor(r, request("a.com", "/old?x=1")), "http://a.com/new?from=old");

  r.redirect.path_redirect = "relative";
  EXPECT_EQ(redirectFor(r, request("a.com", "/old")), "http://a.com/relative");
}

TEST(RouteTableRedirect, PrefixRewriteRedirect) {
  Route r = redirectRoute("/old/");
  r.redirect.prefix_rewrite = "/new/";
  EXPECT_EQ(redirectFor(r, request("a.com", "/old/page?x=1")), "http://a.com/new/page?x=1");
  r.redirect.strip_query = true;
  EXPECT_EQ(redirectFor(r, request("a.com", "/old/page?x=1")), "http://a.com/new/page");

  Route p = redirectRoute();
  p.match.kind = RouteMatch::Kind::Path;
  p.match.value = "/exact";
  p.redirect.prefix_rewrite = "/replaced";
  EXPECT_EQ(redirectFor(p, request("a.com", "/exact?y=2")), "http://a.com/replaced?y=2");
}

TEST(RouteTableRedirect, StripQueryOnRequestPath) {
  Route r = redirectRoute();
  r.redirect.strip_query = true;
  EXPECT_EQ(redirectFor(r, request("a.com", "/keep/this?drop=that")), "http://a.com/keep/this");
  r.redirect.strip_query = false;
  EXPECT_EQ(redirectFor(r, request("a.com", "/keep/this?q")), "http://a.com/keep/this?q");
}

TEST(RouteTableRedirect, ResponseCodeAndAccessors) {
  Route r = redirectRoute();
  r.redirect.scheme_redirect = "https";
  r.redirect.response_code = 308;
  auto table = build(singleVhost({r}));
  ASSERT_TRUE(table);
  http::HeaderMap h = request("a.com", "/");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->action(), Route::ActionKind::Redirect);
  EXPECT_EQ(entry->config().redirect.response_code, 308u);
  EXPECT_EQ(entry->clusterName(), "");
  EXPECT_EQ(entry->redirectUrl(h), "https://a.com/");

  // Route actions have no redirect URL.
  auto plain = build(singleVhost({prefixRoute("/")}));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->route(h)->redirectUrl(h), "");
}

TEST(RouteTableRedirect, ConfigErrors) {
  Route both = redirectRoute();
  both.redirect.path_redirect = "/a";
  both.redirect.prefix_rewrite = "/b";
  EXPECT_EQ(buildError(singleVhost({both})), "route_config.virtual_hosts[0].routes[0].redirect: "
                                             "cannot specify both path_redirect and prefix_rewrite");
  Route bad_code = redirectRoute();
  bad_code.redirect.response_code = 200;
  EXPECT_EQ(buildError(singleVhost({bad_code})),
            "route_config.virtual_hosts[0].routes[0].redirect.response_code: unsupported redirect "
            "response code 200");
}

// ---- config errors ----------------------------------------------------------------------------

TEST(RouteTableErrors, InvalidRouteRegexNamesThePath) {
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("vh", {"*"},
                                        {prefixRoute("/a"), prefixRoute("/b"), regexRoute("(")}));
  EXPECT_EQ(buildError(cfg, "static_resources.listeners[0].filter_chains[0].filters[0]"
                            ".typed_config.route_config"),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config"
            ".virtual_hosts[0].routes[2].match.safe_regex.regex: invalid regex '(': missing )");
}

TEST(RouteTableErrors, InvalidHeaderRegexNamesThePath) {
  Route r = prefixRoute("/");
  r.match.headers = {headerMatcher("x-a", HeaderMatcher::Kind::Exact, "a"),
                     headerMatcher("x-b", HeaderMatcher::Kind::SafeRegex, "a**")};
  RouteConfiguration cfg;
  cfg.virtual_hosts.push_back(makeVhost("first", {"a.com"}));
  cfg.virtual_hosts.push_back(makeVhost("second", {"b.com"}, {r}));
  EXPECT_EQ(buildError(cfg), "route_config.virtual_hosts[1].routes[0].match.headers[1]"
                             ".safe_regex_match.regex: invalid regex 'a**': bad repetition "
                             "operator: **");
}

TEST(RouteTableErrors, InvalidRegexRewrite) {
  Route bad_pattern = prefixRoute("/");
  bad_pattern.route.regex_rewrite = config::RegexRewrite{"[a-", "x"};
  const std::string error = buildError(singleVhost({bad_pattern}));
  EXPECT_EQ(error.rfind("route_config.virtual_hosts[0].routes[0].route.regex_rewrite.pattern.regex: "
                        "invalid regex '[a-': ",
                        0),
            0u)
      << error;

  Route bad_substitution = prefixRoute("/");
  bad_substitution.route.regex_rewrite = config::RegexRewrite{"/(a)", "/\\2"};
  const std::string sub_error = buildError(singleVhost({bad_substitution}));
  EXPECT_EQ(sub_error.rfind("route_config.virtual_hosts[0].routes[0].route.regex_rewrite."
                            "substitution: invalid substitution '/\\2': ",
                            0),
            0u)
      << sub_error;

  Route both = prefixRoute("/");
  both.route.prefix_rewrite = "/x";
  both.route.regex_rewrite = config::RegexRewrite{"a", "b"};
  EXPECT_EQ(buildError(singleVhost({both})), "route_config.virtual_hosts[0].routes[0].route: "
                                             "cannot specify both prefix_rewrite and regex_rewrite");
}

TEST(RouteTableErrors, OtherRouteErrors) {
  Route no_cluster = prefixRoute("/", "");
  EXPECT_EQ(buildError(singleVhost({no_cluster})),
            "route_config.virtual_hosts[0].routes[0].route.cluster: a cluster is required");

  Route bad_status = prefixRoute("/", "");
  bad_status.action = Route::ActionKind::DirectResponse;
  bad_status.direct_response.status = 42;
  EXPECT_EQ(buildError(singleVhost({bad_status})),
            "route_config.virtual_hosts[0].routes[0].direct_response.status: status 42 is not in "
            "[100, 599]");

  Route empty_header = prefixRoute("/");
  empty_header.match.headers = {headerMatcher("", HeaderMatcher::Kind::Present)};
  EXPECT_EQ(buildError(singleVhost({empty_header})),
            "route_config.virtual_hosts[0].routes[0].match.headers[0].name: header name must not "
            "be empty");
}

TEST(RouteTableErrors, EmptyPathPrefixHasNoLeadingDot) {
  RouteConfiguration cfg = singleVhost({regexRoute("(")});
  EXPECT_EQ(buildError(cfg, ""),
            "virtual_hosts[0].routes[0].match.safe_regex.regex: invalid regex '(': missing )");
}

TEST(RouteTable, TableOutlivesConfigAndIsShareable) {
  std::shared_ptr<const RouteTable> table;
  {
    RouteConfiguration cfg = singleVhost({regexRoute("/r/(\\d+)", "regex")}, {"*.example.com"});
    cfg.virtual_hosts[0].routes[0].route.regex_rewrite = config::RegexRewrite{"/r/(\\d+)", "/id/\\1"};
    table = build(cfg);
  }
  ASSERT_TRUE(table);
  http::HeaderMap h = request("www.example.com", "/r/7");
  const RouteEntry* entry = table->route(h);
  ASSERT_NE(entry, nullptr);
  entry->finalizeRequestHeaders(h);
  EXPECT_EQ(h.path(), "/id/7");
}

} // namespace
} // namespace wasmgate::router
