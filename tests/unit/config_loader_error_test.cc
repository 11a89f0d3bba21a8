// Error paths of the bootstrap loader: each test breaks one thing in a minimal valid config
// and checks the exact "<path>: <what>" message.

#include "config/loader.h"

#include <fstream>
#include <functional>

#include <gtest/gtest.h>

namespace wasmgate::config {
namespace {

// A minimal valid config; error tests break one thing in it.
constexpr const char* kMinimal = R"yaml(
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 9901}}
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: vh
              domains: ["*"]
              routes:
              - match: {prefix: /}
                route: {cluster: backend}
          http_filters:
          - name: envoy.filters.http.router
  clusters:
  - name: backend
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9000}}}
)yaml";

const std::string kListener = "static_resources.listeners[0]";
const std::string kFilter = kListener + ".filter_chains[0].filters[0]";
const std::string kHcm = kFilter + ".typed_config";
const std::string kVhost = kHcm + ".route_config.virtual_hosts[0]";
const std::string kRoute = kVhost + ".routes[0]";
const std::string kCluster = "static_resources.clusters[0]";
const std::string kEndpoint = kCluster + ".load_assignment.endpoints[0].lb_endpoints[0].endpoint";

struct Tree {
  YAML::Node root = YAML::Load(kMinimal);
  YAML::Node listener() { return root["static_resources"]["listeners"][0]; }
  YAML::Node chain() { return listener()["filter_chains"][0]; }
  YAML::Node filter() { return chain()["filters"][0]; }
  YAML::Node hcm() { return filter()["typed_config"]; }
  YAML::Node vhost() { return hcm()["route_config"]["virtual_hosts"][0]; }
  YAML::Node route() { return vhost()["routes"][0]; }
  YAML::Node cluster() { return root["static_resources"]["clusters"][0]; }
  YAML::Node endpoint() { return cluster()["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]; }
};

// Applies `edit` to the minimal config and returns the load error ("" if it loaded).
std::string errorAfter(const std::function<void(Tree&)>& edit) {
  Tree t;
  edit(t);
  YAML::Emitter emitter;
  emitter << t.root;
  auto r = loadBootstrapFromString(emitter.c_str());
  return r.ok() ? std::string() : r.error();
}

YAML::Node y(const std::string& text) { return YAML::Load(text); }

TEST(ConfigLoaderErrorTest, MinimalConfigLoads) {
  EXPECT_EQ(errorAfter([](Tree&) {}), "");
}

TEST(ConfigLoaderErrorTest, EmptyDocument) {
  EXPECT_EQ(loadBootstrapFromString("").error(), "empty configuration");
  EXPECT_EQ(loadBootstrapFromString("# just a comment\n").error(), "empty configuration");
  EXPECT_EQ(loadBootstrapFromString("[1, 2]").error(), "configuration must be a map, got a list");
}

TEST(ConfigLoaderErrorTest, YamlSyntaxErrorHasLineAndColumn) {
  auto r = loadBootstrapFromString("admin:\n  address: {socket_address: [\n");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().starts_with("line 3, column 1: invalid YAML: ")) << r.error();
}

TEST(ConfigLoaderErrorTest, FileErrorsNameTheFile) {
  auto missing = loadBootstrapFromFile("/nonexistent/envoy.yaml");
  EXPECT_EQ(missing.error(), "/nonexistent/envoy.yaml: cannot read file: No such file or directory");
  const std::string path = ::testing::TempDir() + "/wasmgate_loader_bad.yaml";
  {
    std::ofstream out(path);
    out << "static_resources:\n  clusters: [\n";
  }
  auto bad = loadBootstrapFromFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().starts_with(path + ":3:1: invalid YAML: ")) << bad.error();
}

TEST(ConfigLoaderErrorTest, UnknownTopLevelField) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["statics_resources"] = y("{}"); }),
            "statics_resources: unknown field (did you mean 'static_resources'?)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["frobnicate"] = 1; }), "frobnicate: unknown field");
}

TEST(ConfigLoaderErrorTest, UnsupportedTopLevelSections) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["stats_config"] = y("{stats_matcher: {reject_all: true}}"); }),
            "stats_config.stats_matcher: unsupported (every stat is kept)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["stats_config"] = y("{use_all_default_tags: false}"); }),
            "stats_config.use_all_default_tags: unsupported (false): Envoy's default tag extractors are "
            "always on");
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["stats_config"] = y("{stats_tags: [{tag_name: a, fixed_value: b}]}"); }),
            "stats_config.stats_tags[0].fixed_value: unsupported (only regex tag extractors are supported)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["stats_sinks"] = y("[{name: x}]"); }), "stats_sinks: unsupported");
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["dynamic_resources"] = y("{lds_config: {}}"); }),
            "dynamic_resources: unsupported");
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["cluster_manager"] = y("{local_cluster_name: x}"); }),
            "cluster_manager: unsupported");
}

TEST(ConfigLoaderErrorTest, DuplicateYamlKey) {
  auto r = loadBootstrapFromString("node: {id: a}\nnode: {id: b}\n");
  EXPECT_EQ(r.error(), "node: duplicate key");
}

TEST(ConfigLoaderErrorTest, AdminPortNotAnInteger) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["admin"]["address"]["socket_address"]["port_value"] = "abc"; }),
            "admin.address.socket_address.port_value: expected an integer, got 'abc'");
}

TEST(ConfigLoaderErrorTest, PortOutOfRange) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener()["address"]["socket_address"]["port_value"] = 70000; }),
            kListener + ".address.socket_address.port_value: value 70000 is out of range 0..65535");
}

TEST(ConfigLoaderErrorTest, NegativeUnsigned) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener()["per_connection_buffer_limit_bytes"] = -1; }),
            kListener + ".per_connection_buffer_limit_bytes: expected a non-negative integer, got '-1'");
}

TEST(ConfigLoaderErrorTest, BoolAcceptsOnlyTrueFalse) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["use_remote_address"] = "yes"; }),
            kHcm + ".use_remote_address: expected true or false, got 'yes'");
}

TEST(ConfigLoaderErrorTest, MapWhereStringExpected) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["stat_prefix"] = y("{a: b}"); }),
            kHcm + ".stat_prefix: expected a string, got a map");
}

TEST(ConfigLoaderErrorTest, ListWhereMapExpected) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["node"] = y("[a]"); }), "node: expected a map, got a list");
}

TEST(ConfigLoaderErrorTest, ListenerAddressMustBeIp) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener()["address"]["socket_address"]["address"] = "localhost"; }),
            kListener + ".address.socket_address.address: listener needs an IP address, got 'localhost'");
}

TEST(ConfigLoaderErrorTest, PipeAddressUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener()["address"] = y("{pipe: {path: /tmp/s}}"); }),
            kListener + ".address.pipe: unsupported (unix domain sockets are not implemented)");
}

TEST(ConfigLoaderErrorTest, UdpUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener()["address"]["socket_address"]["protocol"] = "UDP"; }),
            kListener + ".address.socket_address.protocol: unsupported value UDP (UDP is not implemented)");
}

TEST(ConfigLoaderErrorTest, ListenerNeedsAddressAndFilterChains) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener().remove("address"); }),
            kListener + ".address: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener().remove("filter_chains"); }),
            kListener + ".filter_chains: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener()["filter_chains"] = y("[]"); }),
            kListener + ".filter_chains: at least one filter chain is required");
  EXPECT_EQ(errorAfter([](Tree& t) { t.chain()["filters"] = y("[]"); }),
            kListener + ".filter_chains[0].filters: at least one filter is required");
}

TEST(ConfigLoaderErrorTest, OnlyOneFilterChain) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.listener()["filter_chains"].push_back(YAML::Clone(t.chain())); }),
            kListener + ".filter_chains[1]: only one filter chain is supported (filter_chain_match is not implemented)");
}

TEST(ConfigLoaderErrorTest, TcpProxyMustBeLastFilter) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.chain()["filters"] = y("[{name: envoy.tcp_proxy, typed_config: {stat_prefix: t, cluster: backend}},"
                                       " {name: envoy.filters.network.wasm, typed_config: {config: {}}}]");
            }),
            kFilter + ".name: 'envoy.filters.network.tcp_proxy' is a terminal filter and must be the last filter in "
                      "the chain");
}

TEST(ConfigLoaderErrorTest, DuplicateListenerNameAndAddress) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              YAML::Node copy = YAML::Clone(t.listener());
              copy["address"]["socket_address"]["port_value"] = 8081;
              t.root["static_resources"]["listeners"].push_back(copy);
            }),
            "static_resources.listeners[1].name: duplicate listener name 'main'");
  EXPECT_EQ(errorAfter([](Tree& t) {
              YAML::Node copy = YAML::Clone(t.listener());
              copy["name"] = "other";
              t.root["static_resources"]["listeners"].push_back(copy);
            }),
            "static_resources.listeners[1].address: duplicate address 0.0.0.0:8080 (also used by listener 'main')");
}

TEST(ConfigLoaderErrorTest, ListenerFiltersUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.listener()["listener_filters"] = y("[{name: envoy.filters.listener.tls_inspector}]");
            }),
            kListener + ".listener_filters[0]: unsupported (listener filters are not implemented)");
}

TEST(ConfigLoaderErrorTest, FilterChainMatchAndTlsUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.chain()["filter_chain_match"] = y("{server_names: [a]}"); }),
            kListener + ".filter_chains[0].filter_chain_match: unsupported (filter chain matching is not implemented)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.chain()["transport_socket"] = y("{name: envoy.transport_sockets.tls}"); }),
            kListener + ".filter_chains[0].transport_socket: unsupported (TLS is not implemented yet)");
}

TEST(ConfigLoaderErrorTest, UnsupportedNetworkFilter) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.filter()["name"] = "envoy.filters.network.redis_proxy"; }),
            kFilter + ".name: unsupported network filter 'envoy.filters.network.redis_proxy'");
}

TEST(ConfigLoaderErrorTest, NetworkFilterTypeMismatch) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm()["@type"] = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
            }),
            kHcm + ".@type: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy' does not "
                   "match filter 'envoy.filters.network.http_connection_manager' (expected "
                   "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager)");
}

TEST(ConfigLoaderErrorTest, HcmMustBeLastFilter) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.chain()["filters"].push_back(y("{name: envoy.filters.network.wasm, typed_config: {config: {}}}"));
            }),
            kFilter + ".name: 'envoy.filters.network.http_connection_manager' is a terminal filter and must be "
                      "the last filter in the chain");
}

TEST(ConfigLoaderErrorTest, HcmStatPrefixRequired) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm().remove("stat_prefix"); }),
            kHcm + ".stat_prefix: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm().remove("stat_prefix");
              t.hcm()["stat_prefx"] = "x";
            }),
            kHcm + ".stat_prefx: unknown field (did you mean 'stat_prefix'?)");
}

TEST(ConfigLoaderErrorTest, CodecHttp2Unsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["codec_type"] = "HTTP2"; }),
            kHcm + ".codec_type: unsupported value HTTP2 (HTTP/2 is not implemented yet)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["codec_type"] = "SPDY"; }),
            kHcm + ".codec_type: invalid value 'SPDY' (expected one of AUTO, HTTP1)");
}

TEST(ConfigLoaderErrorTest, RdsUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm().remove("route_config");
              t.hcm()["rds"] = y("{route_config_name: r}");
            }),
            kHcm + ".rds: unsupported (dynamic route discovery is not implemented; use route_config)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm().remove("route_config"); }),
            kHcm + ".route_config: required field is missing");
}

TEST(ConfigLoaderErrorTest, RouterMustBePresentAndLast) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["http_filters"] = y("[]"); }),
            kHcm + ".http_filters: the last HTTP filter must be envoy.filters.http.router");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["http_filters"].push_back(y("{name: envoy.filters.http.lua}")); }),
            kHcm + ".http_filters[0].name: envoy.filters.http.router must be the last HTTP filter");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["http_filters"][0] = y("{typed_config: {}}"); }),
            kHcm + ".http_filters[0].name: required field is missing");
}

TEST(ConfigLoaderErrorTest, UpgradeConfigsUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["upgrade_configs"] = y("[{upgrade_type: websocket}]"); }),
            kHcm + ".upgrade_configs: unsupported (protocol upgrades (WebSocket) are not implemented yet)");
}

TEST(ConfigLoaderErrorTest, MaxRequestHeadersKbRange) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["max_request_headers_kb"] = 0; }),
            kHcm + ".max_request_headers_kb: value 0 is out of range 1..8192");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["max_request_headers_kb"] = 9000; }),
            kHcm + ".max_request_headers_kb: value 9000 is out of range 1..8192");
}

TEST(ConfigLoaderErrorTest, HttpProtocolOptionsUnknownField) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["http_protocol_options"] = y("{header_key_format: {}}"); }),
            kHcm + ".http_protocol_options.header_key_format: unknown field");
}

TEST(ConfigLoaderErrorTest, AccessLogErrors) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["access_log"] = y("[{name: envoy.access_loggers.http_grpc}]"); }),
            kHcm + ".access_log[0].name: unsupported access logger 'envoy.access_loggers.http_grpc'");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm()["access_log"] = y("[{name: envoy.access_loggers.stdout, filter: {status_code_filter: {}}}]");
            }),
            kHcm + ".access_log[0].filter: unsupported (access log filters are not implemented)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["access_log"] = y("[{name: envoy.access_loggers.file, typed_config: {}}]"); }),
            kHcm + ".access_log[0].typed_config.path: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm()["access_log"] = y("[{name: envoy.access_loggers.stdout, typed_config: {log_format: "
                                        "{json_format: {a: {b: c}}}}}]");
            }),
            kHcm + ".access_log[0].typed_config.log_format.json_format.a: unsupported (nested json_format values "
                   "are not implemented)");
}

TEST(ConfigLoaderErrorTest, DomainsRequired) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.vhost().remove("domains"); }), kVhost + ".domains: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) { t.vhost()["domains"] = y("[]"); }),
            kVhost + ".domains: at least one domain is required");
}

TEST(ConfigLoaderErrorTest, WildcardInMiddleOfDomain) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.vhost()["domains"] = y("[\"foo.*.com\"]"); }),
            kVhost + ".domains[0]: invalid domain 'foo.*.com' (a wildcard is only allowed as the first or last character)");
}

TEST(ConfigLoaderErrorTest, DuplicateDomainAcrossVirtualHosts) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              YAML::Node copy = YAML::Clone(t.vhost());
              copy["name"] = "second";
              t.hcm()["route_config"]["virtual_hosts"].push_back(copy);
            }),
            kHcm + ".route_config.virtual_hosts[1].domains[0]: duplicate domain '*' (already used by virtual host "
                   "'vh'); domains must be unique across a route_config");
}

TEST(ConfigLoaderErrorTest, RequireTlsUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.vhost()["require_tls"] = "ALL"; }),
            kVhost + ".require_tls: unsupported value ALL (TLS is not implemented yet)");
}

TEST(ConfigLoaderErrorTest, ReservedHeaderCannotBeAdded) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.vhost()["request_headers_to_add"] = y("[{header: {key: ':path', value: /x}}]"); }),
            kVhost + ".request_headers_to_add[0].header.key: ':path' may not be modified (pseudo-headers and host are "
                     "reserved)");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.vhost()["request_headers_to_add"] = y("[{header: {key: a, value: b}, append: true, append_action: ADD_IF_ABSENT}]");
            }),
            kVhost + ".request_headers_to_add[0].append_action: cannot be combined with append");
}

TEST(ConfigLoaderErrorTest, RouteMatchRequiresOneKind) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["match"] = y("{case_sensitive: false}"); }),
            kRoute + ".match: one of prefix, path, safe_regex is required");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["match"] = y("{prefix: /, path: /x}"); }),
            kRoute + ".match: only one of prefix, path, safe_regex may be set");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route().remove("match"); }), kRoute + ".match: required field is missing");
}

TEST(ConfigLoaderErrorTest, SecondRouteMatchError) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.vhost()["routes"].push_back(y("{match: {}, route: {cluster: backend}}")); }),
            kVhost + ".routes[1].match: one of prefix, path, safe_regex is required");
}

TEST(ConfigLoaderErrorTest, PathSeparatedPrefixUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["match"] = y("{path_separated_prefix: /api}"); }),
            kRoute + ".match.path_separated_prefix: unsupported (use prefix)");
}

TEST(ConfigLoaderErrorTest, QueryParametersUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["match"]["query_parameters"] = y("[{name: a}]"); }),
            kRoute + ".match.query_parameters: unsupported (query parameter matching is not implemented yet)");
}

TEST(ConfigLoaderErrorTest, InvalidRegex) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["match"] = y("{safe_regex: {regex: '('}}"); }),
            kRoute + ".match.safe_regex.regex: invalid regex '(': missing )");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route()["match"]["headers"] = y("[{name: x, safe_regex_match: {regex: 'a**'}}]");
            }),
            kRoute + ".match.headers[0].safe_regex_match.regex: invalid regex 'a**': bad repetition operator");
}

TEST(ConfigLoaderErrorTest, HeaderMatcherErrors) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["match"]["headers"] = y("[{name: x, exact_match: a, prefix_match: b}]"); }),
            kRoute + ".match.headers[0]: only one of exact_match, safe_regex_match, range_match, present_match, "
                     "prefix_match, suffix_match, contains_match, string_match may be set");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["match"]["headers"] = y("[{exact_match: a}]"); }),
            kRoute + ".match.headers[0].name: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route()["match"]["headers"] = y("[{name: x, string_match: {safe_regex: {regex: a}, ignore_case: true}}]");
            }),
            kRoute + ".match.headers[0].string_match.ignore_case: has no effect with safe_regex; use (?i) in the regex");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["match"]["headers"] = y("[{name: x, range_match: {start: 5, end: 5}}]"); }),
            kRoute + ".match.headers[0].range_match: start must be less than end (the range is [start, end))");
}

TEST(ConfigLoaderErrorTest, RouteNeedsExactlyOneAction) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route().remove("route"); }),
            kRoute + ": one of route, direct_response, redirect is required");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["direct_response"] = y("{status: 200}"); }),
            kRoute + ": only one of route, direct_response, redirect may be set");
}

TEST(ConfigLoaderErrorTest, UnknownClusterReferences) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"]["cluster"] = "foo"; }),
            kRoute + ".route.cluster: unknown cluster 'foo'");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.filter() = y("{name: envoy.filters.network.tcp_proxy, typed_config: {stat_prefix: t, cluster: nope}}");
            }),
            kFilter + ".typed_config.cluster: unknown cluster 'nope'");
}

TEST(ConfigLoaderErrorTest, ClusterSpecifiersUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"] = y("{cluster_header: x-cluster}"); }),
            kRoute + ".route.cluster_header: unsupported (use cluster)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"] = y("{weighted_clusters: {clusters: []}}"); }),
            kRoute + ".route.weighted_clusters: unsupported (use cluster)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"] = y("{timeout: 1s}"); }),
            kRoute + ".route.cluster: required field is missing");
}

TEST(ConfigLoaderErrorTest, AutoHostRewriteUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"]["auto_host_rewrite"] = true; }),
            kRoute + ".route.auto_host_rewrite: unsupported value true (use host_rewrite_literal)");
}

TEST(ConfigLoaderErrorTest, PrefixAndRegexRewriteExclusive) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route()["route"]["prefix_rewrite"] = "/a";
              t.route()["route"]["regex_rewrite"] = y("{pattern: {regex: a}, substitution: b}");
            }),
            kRoute + ".route.regex_rewrite: cannot be combined with prefix_rewrite");
}

TEST(ConfigLoaderErrorTest, RetryOnUnknownToken) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"]["retry_policy"] = y("{retry_on: '5xx,sometimes'}"); }),
            kRoute + ".route.retry_policy.retry_on: unknown retry condition 'sometimes'");
  EXPECT_EQ(errorAfter([](Tree& t) { t.vhost()["retry_policy"] = y("{retry_on: 'reset', retry_back_off: {base_interval: 1s}}"); }),
            kVhost + ".retry_policy.retry_back_off: unsupported (not implemented yet)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"]["retry_policy"] = y("{retriable_status_codes: [99]}"); }),
            kRoute + ".route.retry_policy.retriable_status_codes[0]: value 99 is out of range 100..599");
}

TEST(ConfigLoaderErrorTest, RouteTimeoutInvalid) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"]["timeout"] = "15"; }),
            kRoute + ".route.timeout: invalid duration '15' (expected e.g. \"0.25s\" or {seconds, nanos})");
}

TEST(ConfigLoaderErrorTest, DirectResponseStatus) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route().remove("route");
              t.route()["direct_response"] = y("{status: 600}");
            }),
            kRoute + ".direct_response.status: value 600 is out of range 200..599");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route().remove("route");
              t.route()["direct_response"] = y("{body: {inline_string: x}}");
            }),
            kRoute + ".direct_response.status: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route().remove("route");
              t.route()["direct_response"] = y("{status: 200, body: {filename: /nonexistent/body}}");
            }),
            kRoute + ".direct_response.body.filename: cannot read file '/nonexistent/body': No such file or directory");
}

TEST(ConfigLoaderErrorTest, RedirectErrors) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route().remove("route");
              t.route()["redirect"] = y("{response_code: 302}");
            }),
            kRoute + ".redirect.response_code: invalid value '302' (expected one of MOVED_PERMANENTLY, FOUND, "
                     "SEE_OTHER, TEMPORARY_REDIRECT, PERMANENT_REDIRECT)");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route().remove("route");
              t.route()["redirect"] = y("{path_redirect: /a, prefix_rewrite: /b}");
            }),
            kRoute + ".redirect.prefix_rewrite: cannot be combined with path_redirect");
}

TEST(ConfigLoaderErrorTest, FilterConfigWrapperUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.route()["typed_per_filter_config"] = y(
                  "{envoy.filters.http.lua: {'@type': type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: true}}");
            }),
            kRoute + ".typed_per_filter_config.envoy.filters.http.lua.@type: unsupported (the FilterConfig wrapper is "
                     "not implemented; give the filter's config directly)");
}

TEST(ConfigLoaderErrorTest, ClusterUnknownField) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["conect_timeout"] = "1s"; }),
            kCluster + ".conect_timeout: unknown field (did you mean 'connect_timeout'?)");
}

TEST(ConfigLoaderErrorTest, ClusterConnectTimeout) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["connect_timeout"] = "5 seconds"; }),
            kCluster + ".connect_timeout: invalid duration '5 seconds' (expected e.g. \"0.25s\" or {seconds, nanos})");
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["connect_timeout"] = "0s"; }),
            kCluster + ".connect_timeout: must be greater than 0");
}

TEST(ConfigLoaderErrorTest, ClusterNameRequiredAndUnique) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster().remove("name"); }), kCluster + ".name: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["static_resources"]["clusters"].push_back(y("{name: backend}")); }),
            "static_resources.clusters[1].name: duplicate cluster name 'backend'");
}

TEST(ConfigLoaderErrorTest, ClusterTypeValues) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["type"] = "EDS"; }),
            kCluster + ".type: unsupported value EDS (xDS is not implemented)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["type"] = "ORIGINAL_DST"; }),
            kCluster + ".type: unsupported value ORIGINAL_DST (not implemented)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["type"] = "static"; }),
            kCluster + ".type: invalid value 'static' (expected one of STATIC, STRICT_DNS, LOGICAL_DNS)");
}

TEST(ConfigLoaderErrorTest, LbPolicyUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["lb_policy"] = "MAGLEV"; }), kCluster + ".lb_policy: unsupported value MAGLEV");
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["lb_policy"] = "RING_HASH"; }),
            kCluster + ".lb_policy: unsupported value RING_HASH");
}

TEST(ConfigLoaderErrorTest, StaticClusterNeedsIp) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.endpoint()["address"]["socket_address"]["address"] = "example.com"; }),
            kEndpoint + ".address.socket_address.address: STATIC cluster needs an IP address, got 'example.com'");
  // Fine once the cluster resolves names.
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.cluster()["type"] = "STRICT_DNS";
              t.endpoint()["address"]["socket_address"]["address"] = "example.com";
            }),
            "");
}

TEST(ConfigLoaderErrorTest, EndpointPortRequired) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.endpoint()["address"]["socket_address"].remove("port_value"); }),
            kEndpoint + ".address.socket_address.port_value: required field is missing");
}

TEST(ConfigLoaderErrorTest, LocalityPriorityMustBeZero) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["load_assignment"]["endpoints"][0]["priority"] = 1; }),
            kCluster + ".load_assignment.endpoints[0].priority: unsupported value 1 (only priority 0 is implemented)");
}

TEST(ConfigLoaderErrorTest, LogicalDnsSingleEndpoint) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.cluster()["type"] = "LOGICAL_DNS";
              t.cluster()["load_assignment"]["endpoints"][0]["lb_endpoints"].push_back(
                  YAML::Clone(t.cluster()["load_assignment"]["endpoints"][0]["lb_endpoints"][0]));
            }),
            kCluster + ".load_assignment: LOGICAL_DNS clusters must have exactly one endpoint");
}

TEST(ConfigLoaderErrorTest, ClusterTlsAndHttp2Unsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["transport_socket"] = y("{name: envoy.transport_sockets.tls}"); }),
            kCluster + ".transport_socket: unsupported (TLS is not implemented yet)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["http2_protocol_options"] = y("{}"); }),
            kCluster + ".http2_protocol_options: unsupported (HTTP/2 upstream is not implemented yet)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["typed_extension_protocol_options"] = y("{a: {}}"); }),
            kCluster + ".typed_extension_protocol_options: unsupported (HTTP/2 upstream is not implemented yet)");
}

TEST(ConfigLoaderErrorTest, DnsLookupFamilyInvalid) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["dns_lookup_family"] = "V5_ONLY"; }),
            kCluster + ".dns_lookup_family: invalid value 'V5_ONLY' (expected one of AUTO, V4_ONLY, V6_ONLY, "
                       "V4_PREFERRED, ALL)");
}

TEST(ConfigLoaderErrorTest, CircuitBreakerErrors) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["circuit_breakers"] = y("{thresholds: [{max_conections: 5}]}"); }),
            kCluster + ".circuit_breakers.thresholds[0].max_conections: unknown field (did you mean 'max_connections'?)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.cluster()["circuit_breakers"] = y("{thresholds: [{priority: LOW}]}"); }),
            kCluster + ".circuit_breakers.thresholds[0].priority: invalid value 'LOW' (expected one of DEFAULT, HIGH)");
}

TEST(ConfigLoaderErrorTest, HealthCheckErrors) {
  const std::string hc = kCluster + ".health_checks[0]";
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.cluster()["health_checks"] = y("[{interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, "
                                               "http_health_check: {path: /}}]");
            }),
            hc + ".timeout: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.cluster()["health_checks"] = y("[{timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1,"
                                               " tcp_health_check: {}}]");
            }),
            hc + ".tcp_health_check: unsupported (only http_health_check is implemented)");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.cluster()["health_checks"] = y("[{timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1,"
                                               " http_health_check: {host: a}}]");
            }),
            hc + ".http_health_check.path: required field is missing");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.cluster()["health_checks"] = y("[{timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1,"
                                               " http_health_check: {path: /, expected_statuses: [{start: 300, end: 200}]}}]");
            }),
            hc + ".http_health_check.expected_statuses[0]: start must be less than end (the range is [start, end))");
}

TEST(ConfigLoaderErrorTest, TypedStructNeedsTypeUrl) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.filter()["typed_config"] = y("{'@type': type.googleapis.com/udpa.type.v1.TypedStruct, value: {}}");
            }),
            kHcm + ".type_url: required field is missing");
}

TEST(ConfigLoaderErrorTest, BootstrapExtensionNeedsTypedConfig) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.root["bootstrap_extensions"] = y("[{name: x}]"); }),
            "bootstrap_extensions[0].typed_config: required field is missing");
}

TEST(ConfigLoaderErrorTest, UnimplementedHcmFeatures) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["local_reply_config"] = y("{mappers: []}"); }),
            kHcm + ".local_reply_config: unsupported (not implemented yet)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["codec_type"] = "HTTP3"; }),
            kHcm + ".codec_type: unsupported value HTTP3 (HTTP/3 is not implemented yet)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["common_http_protocol_options"] = y("{headers_with_underscores_action: DROP_HEADER}"); }),
            kHcm + ".common_http_protocol_options.headers_with_underscores_action: unsupported value DROP_HEADER (only "
                   "ALLOW is implemented)");
}

TEST(ConfigLoaderErrorTest, VirtualHostNameRequired) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.vhost().remove("name"); }), kVhost + ".name: required field is missing");
}

TEST(ConfigLoaderErrorTest, InvalidHeaderName) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["response_headers_to_remove"] = y("['bad header']"); }),
            kRoute + ".response_headers_to_remove[0]: invalid header name 'bad header'");
}

TEST(ConfigLoaderErrorTest, TextFormatSourceNeedsContent) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm()["access_log"] = y("[{name: envoy.access_loggers.stdout, typed_config: {log_format: "
                                        "{text_format_source: {}}}}]");
            }),
            kHcm + ".access_log[0].typed_config.log_format.text_format_source: one of inline_string, filename is required");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm()["access_log"] = y("[{name: envoy.access_loggers.stdout, typed_config: {log_format: "
                                        "{text_format: a, json_format: {a: b}}}}]");
            }),
            kHcm + ".access_log[0].typed_config.log_format: only one of text_format, text_format_source, json_format "
                   "may be set");
}

TEST(ConfigLoaderErrorTest, AccessLogTypeMismatch) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm()["access_log"] = y("[{name: envoy.access_loggers.stdout, typed_config: {'@type': "
                                        "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog}}]");
            }),
            kHcm + ".access_log[0].typed_config.@type: 'type.googleapis.com/envoy.extensions.access_loggers.file.v3."
                   "FileAccessLog' does not match access logger 'envoy.access_loggers.stdout' (expected "
                   "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog)");
}

TEST(ConfigLoaderErrorTest, GrpcHealthCheckUnsupported) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.cluster()["health_checks"] = y("[{timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1,"
                                               " grpc_health_check: {}}]");
            }),
            kCluster + ".health_checks[0].grpc_health_check: unsupported (only http_health_check is implemented)");
}

TEST(ConfigLoaderErrorTest, IgnoredFieldsAreAccepted) {
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.listener()["stat_prefix"] = "l";
              t.listener()["traffic_direction"] = "OUTBOUND";
              t.chain()["name"] = "chain";
              t.route()["decorator"] = y("{operation: op}");
              t.cluster()["alt_stat_name"] = "b";
              t.root["layered_runtime"] = y("{layers: []}");
            }),
            "");
}

// Fields that Envoy has and wasmgate parses but does not implement are refused, not ignored.
TEST(ConfigLoaderErrorTest, UnimplementedValuesAreRefused) {
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["xff_num_trusted_hops"] = 2; }),
            kHcm + ".xff_num_trusted_hops: unsupported value 2 (trusting x-forwarded-for hops is not "
                   "implemented yet)");
  EXPECT_EQ(errorAfter([](Tree& t) { t.hcm()["xff_num_trusted_hops"] = 0; }), "");
  EXPECT_EQ(errorAfter([](Tree& t) { t.route()["route"]["idle_timeout"] = "5s"; }),
            kRoute + ".route.idle_timeout: unsupported (per-route idle timeouts are not implemented yet; "
                     "use the connection manager's stream_idle_timeout)");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.root["admin"]["access_log_path"] = "/dev/null";
              t.root["admin"]["access_log"] = y("[{name: envoy.access_loggers.stdout}]");
            }),
            "admin.access_log: unsupported (admin access logs go to access_log_path)");
  EXPECT_EQ(errorAfter([](Tree& t) {
              t.hcm()["access_log"] = y(R"([{name: envoy.access_loggers.file, typed_config: {
                  "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog,
                  path: /dev/null, log_format: {text_format: "x", omit_empty_values: true}}}])");
            }),
            kHcm + ".access_log[0].typed_config.log_format.omit_empty_values: unsupported value true (not "
                   "implemented yet)");
}

} // namespace
} // namespace wasmgate::config
