#pragma once

// Plain value types for the subset of Envoy's v3 Bootstrap that wasmgate understands.
// The loader (loader.h) fills these from YAML/JSON with path-qualified errors; runtime code
// never sees YAML except the raw typed_config handed to extension factories.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace wasmgate::config {

using Duration = std::chrono::milliseconds;

struct SocketAddress {
  std::string address; // IP literal or hostname (hostnames only for *_DNS clusters)
  uint32_t port = 0;
};

// ---- access logs ----------------------------------------------------------------------------
struct AccessLogConfig {
  enum class Sink { File, Stdout, Stderr };
  Sink sink = Sink::File;
  std::string path;   // for Sink::File
  std::string format; // Envoy command-operator format; empty means Envoy's default format
  std::map<std::string, std::string> json_format; // log_format.json_format (ordered by key)
  bool omit_empty_values = false;                 // log_format.omit_empty_values
};

// HeaderValueOption.append_action (and the older `append` bool: false = OverwriteIfExistsOrAdd).
enum class HeaderAppendAction { AppendIfExistsOrAdd, AddIfAbsent, OverwriteIfExistsOrAdd, OverwriteIfExists };

// ---- routes ---------------------------------------------------------------------------------
struct HeaderMatcher {
  std::string name; // lower-cased
  enum class Kind { Present, Exact, Prefix, Suffix, Contains, SafeRegex, Range };
  Kind kind = Kind::Present;
  std::string value;        // exact/prefix/suffix/contains/regex text
  int64_t range_start = 0;  // range_match: [start, end)
  int64_t range_end = 0;
  bool present = true;      // present_match value
  bool invert_match = false;
  bool ignore_case = false; // string_match.ignore_case (exact/prefix/suffix/contains)
};

struct RetryPolicy {
  std::vector<std::string> retry_on; // e.g. "connect-failure", "reset", "5xx", "gateway-error", "retriable-status-codes"
  uint32_t num_retries = 1;
  std::optional<Duration> per_try_timeout;
  std::vector<uint32_t> retriable_status_codes;
};

struct RouteMatch {
  enum class Kind { Prefix, Path, SafeRegex };
  Kind kind = Kind::Prefix;
  std::string value; // prefix, path or regex text
  bool case_sensitive = true;
  std::vector<HeaderMatcher> headers;
};

struct RegexRewrite {
  std::string pattern;
  std::string substitution;
};

struct RouteAction {
  std::string cluster;
  std::optional<std::string> prefix_rewrite;
  std::optional<RegexRewrite> regex_rewrite;
  std::optional<std::string> host_rewrite_literal;
  Duration timeout{15000}; // Envoy default 15s; 0 disables
  std::optional<RetryPolicy> retry_policy;
};

struct DirectResponseAction {
  uint32_t status = 200;
  std::string body; // body.inline_string
};

struct RedirectAction {
  std::optional<std::string> host_redirect;
  std::optional<uint32_t> port_redirect;
  std::optional<std::string> scheme_redirect; // also https_redirect: true -> "https"
  std::optional<std::string> path_redirect;
  std::optional<std::string> prefix_rewrite;
  uint32_t response_code = 301; // MOVED_PERMANENTLY=301, FOUND=302, SEE_OTHER=303, TEMPORARY_REDIRECT=307, PERMANENT_REDIRECT=308
  bool strip_query = false;
};

struct Route {
  std::string name;
  RouteMatch match;
  enum class ActionKind { Route, DirectResponse, Redirect };
  ActionKind action = ActionKind::Route;
  RouteAction route;
  DirectResponseAction direct_response;
  RedirectAction redirect;
  std::vector<std::pair<std::string, std::string>> request_headers_to_add;
  std::vector<std::pair<std::string, std::string>> response_headers_to_add;
  // Parallel to the *_headers_to_add vectors above (same length, same order).
  std::vector<HeaderAppendAction> request_headers_to_add_action;
  std::vector<HeaderAppendAction> response_headers_to_add_action;
  std::vector<std::string> request_headers_to_remove;
  std::vector<std::string> response_headers_to_remove;
  // Raw per-filter config, keyed by filter name (handed to extensions later).
  std::map<std::string, YAML::Node> typed_per_filter_config;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;
  std::vector<Route> routes;
  std::vector<std::pair<std::string, std::string>> request_headers_to_add;
  std::vector<std::pair<std::string, std::string>> response_headers_to_add;
  // Parallel to the *_headers_to_add vectors above (same length, same order).
  std::vector<HeaderAppendAction> request_headers_to_add_action;
  std::vector<HeaderAppendAction> response_headers_to_add_action;
  std::vector<std::string> request_headers_to_remove;
  std::vector<std::string> response_headers_to_remove;
};

struct RouteConfiguration {
  std::string name;
  std::vector<VirtualHost> virtual_hosts;
  std::vector<std::pair<std::string, std::string>> request_headers_to_add;
  std::vector<std::pair<std::string, std::string>> response_headers_to_add;
  // Parallel to the *_headers_to_add vectors above (same length, same order).
  std::vector<HeaderAppendAction> request_headers_to_add_action;
  std::vector<HeaderAppendAction> response_headers_to_add_action;
  std::vector<std::string> request_headers_to_remove;
  std::vector<std::string> response_headers_to_remove;
};

// ---- HTTP connection manager ------------------------------------------------------------------
struct HttpFilterConfig {
  std::string name;       // e.g. "envoy.filters.http.router"
  std::string type_url;   // the "@type" of typed_config (TypedStruct unwrapped), may be empty
  YAML::Node typed_config; // the message body (TypedStruct "value" already unwrapped); may be null
  std::string path;       // config path of this filter, for error messages
  std::string typed_config_path; // config path of the typed_config body (e.g. "...typed_config.value")
  bool is_optional = false;
  bool disabled = false;
};

struct HttpConnectionManagerConfig {
  std::string stat_prefix;
  enum class CodecType { Auto, Http1, Http2 };
  CodecType codec_type = CodecType::Auto;
  RouteConfiguration route_config;
  std::vector<HttpFilterConfig> http_filters;
  std::vector<AccessLogConfig> access_log;
  std::optional<Duration> stream_idle_timeout;   // default 5 min; 0 disables
  std::optional<Duration> request_timeout;       // default disabled
  std::optional<Duration> request_headers_timeout; // default disabled
  std::optional<Duration> idle_timeout;          // common_http_protocol_options.idle_timeout (downstream), default 1h
  std::optional<Duration> drain_timeout;
  bool use_remote_address = false;
  bool generate_request_id = true;
  uint32_t xff_num_trusted_hops = 0;
  std::string server_name = "wasmgate";
  bool skip_xff_append = false;
  uint32_t max_request_headers_kb = 60;
  uint32_t max_headers_count = 100;   // common_http_protocol_options.max_headers_count
  bool accept_http_10 = false;        // http_protocol_options.accept_http_10
  std::string default_host_for_http_10; // http_protocol_options.default_host_for_http_10
  bool normalize_path = false;
  bool merge_slashes = false;
};

// ---- listeners --------------------------------------------------------------------------------
struct TcpProxyConfig {
  std::string stat_prefix;
  std::string cluster;
  std::optional<Duration> idle_timeout;
};

struct NetworkFilterConfig {
  std::string name;
  std::string type_url;
  YAML::Node typed_config;
  std::string path;
  std::string typed_config_path; // config path of the typed_config body
  // Filled for the built-in kinds:
  std::optional<HttpConnectionManagerConfig> http_connection_manager;
  std::optional<TcpProxyConfig> tcp_proxy;
};

struct FilterChain {
  std::vector<NetworkFilterConfig> filters;
};

struct Listener {
  std::string name;
  SocketAddress address;
  std::vector<FilterChain> filter_chains;
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
};

// ---- clusters ---------------------------------------------------------------------------------
struct CircuitBreakerThresholds {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
};

struct HealthCheck {
  Duration timeout{1000};
  Duration interval{5000};
  uint32_t unhealthy_threshold = 2;
  uint32_t healthy_threshold = 1;
  std::string path = "/"; // http_health_check.path
  std::string host;       // http_health_check.host; empty -> cluster name
  std::vector<std::pair<uint32_t, uint32_t>> expected_statuses; // [start, end); default 200-201
};

struct LbEndpoint {
  SocketAddress address;
  uint32_t load_balancing_weight = 1;
  std::string hostname;              // endpoint.hostname (used as the health check Host if set)
  uint32_t health_check_port = 0;    // endpoint.health_check_config.port_value; 0 = address port
  std::string health_check_hostname; // endpoint.health_check_config.hostname
};

struct Cluster {
  std::string name;
  Duration connect_timeout{5000};
  enum class Type { Static, StrictDns, LogicalDns };
  Type type = Type::Static;
  enum class LbPolicy { RoundRobin, LeastRequest, Random };
  LbPolicy lb_policy = LbPolicy::RoundRobin;
  std::vector<LbEndpoint> endpoints; // flattened load_assignment.endpoints[].lb_endpoints[]
  CircuitBreakerThresholds circuit_breakers; // thresholds[] with priority DEFAULT
  std::vector<HealthCheck> health_checks;
  std::optional<Duration> idle_timeout; // common_http_protocol_options.idle_timeout (upstream), default 1h
  Duration dns_refresh_rate{5000};
  enum class DnsLookupFamily { Auto, V4Only, V6Only, V4Preferred, All };
  DnsLookupFamily dns_lookup_family = DnsLookupFamily::Auto;
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  std::optional<uint32_t> max_requests_per_connection;
};

// ---- admin / top level ------------------------------------------------------------------------
struct Admin {
  std::optional<SocketAddress> address;
  std::string access_log_path;
};

struct BootstrapExtension {
  std::string name;
  std::string type_url;
  YAML::Node typed_config;
  std::string path;
  std::string typed_config_path;
};

// stats_config.stats_tags[]: a custom tag extractor (Envoy's TagSpecifier with a regex).
struct StatsTag {
  std::string tag_name;
  std::string regex;
  std::string path; // of the regex field, for errors
};

struct Bootstrap {
  std::vector<Listener> listeners;
  std::vector<Cluster> clusters;
  Admin admin;
  std::vector<BootstrapExtension> bootstrap_extensions;
  std::vector<StatsTag> stats_tags;
  std::string node_id;
  std::string node_cluster;
};

} // namespace wasmgate::config
