#include "config/loader.h"

#include <fstream>
#include <functional>

#include <gtest/gtest.h>

namespace wasmgate::config {
namespace {

using namespace std::chrono_literals;

// A realistic envoy.yaml touching every supported section.
constexpr const char* kFullConfig = R"yaml(
node:
  id: gw-1
  cluster: edge
  metadata: {team: infra}
admin:
  access_log_path: /tmp/admin_access.log
  address:
    socket_address: {address: 127.0.0.1, port_value: 9901}
layered_runtime:
  layers:
  - name: static
    static_layer: {}
bootstrap_extensions:
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: true
    config: {name: svc}
static_resources:
  listeners:
  - name: http_ingress
    per_connection_buffer_limit_bytes: 32768
    traffic_direction: INBOUND
    listener_filters: []
    address:
      socket_address: {address: 0.0.0.0, port_value: 10000, protocol: TCP}
    filter_chains:
    - name: main
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          codec_type: AUTO
          use_remote_address: true
          xff_num_trusted_hops: 0
          skip_xff_append: false
          generate_request_id: false
          server_name: edge-proxy
          max_request_headers_kb: 96
          normalize_path: true
          merge_slashes: true
          stream_idle_timeout: 300s
          request_timeout: 30s
          request_headers_timeout: 10s
          drain_timeout: 5s
          common_http_protocol_options:
            idle_timeout: 3600s
            max_headers_count: 50
          http_protocol_options:
            accept_http_10: true
            default_host_for_http_10: example.com
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /var/log/access.log
              log_format:
                text_format_source:
                  inline_string: "[%START_TIME%] %REQ(:METHOD)% %RESPONSE_CODE%\n"
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format:
                json_format: {status: "%RESPONSE_CODE%", method: "%REQ(:METHOD)%"}
          - name: envoy.file_access_log
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /dev/stdout
              format: "%PROTOCOL%\n"
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/udpa.type.v1.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              value:
                config:
                  name: my_plugin
                  vm_config: {runtime: envoy.wasm.runtime.v8}
          - name: envoy.filters.http.lua
            is_optional: true
            disabled: true
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
              inline_code: "-- nothing"
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          route_config:
            name: local_route
            request_headers_to_add:
            - header: {key: X-Gateway, value: wasmgate}
              append: false
            response_headers_to_remove: [Server]
            virtual_hosts:
            - name: api
              domains: [api.example.com, "*.example.org", "api.*", "API.Example.NET:8080"]
              request_headers_to_add:
              - header: {key: x-vhost, value: api}
                append_action: ADD_IF_ABSENT
              response_headers_to_add:
              - header: {key: x-served-by, value: "%HOSTNAME%"}
              request_headers_to_remove: [x-debug]
              retry_policy:
                retry_on: "5xx,reset"
                num_retries: 2
              typed_per_filter_config:
                envoy.filters.http.wasm:
                  "@type": type.googleapis.com/xds.type.v3.TypedStruct
                  type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                  value: {scope: vhost}
                envoy.filters.http.lua:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute
                  disabled: true
              routes:
              - name: users
                match:
                  prefix: /v1/users
                  case_sensitive: false
                  headers:
                  - {name: X-Tenant, exact_match: acme}
                  - {name: x-present, present_match: true}
                  - {name: x-prefix, prefix_match: pre}
                  - {name: x-suffix, suffix_match: suf}
                  - {name: x-contains, contains_match: mid}
                  - {name: x-regex, safe_regex_match: {google_re2: {}, regex: "^a+$"}}
                  - {name: x-range, range_match: {start: 10, end: 20}}
                  - {name: x-sm, string_match: {prefix: abc, ignore_case: true}, invert_match: true}
                  - {name: x-smre, string_match: {safe_regex: {regex: "b.*"}}}
                  - {name: x-only}
                route:
                  cluster: users_static
                  prefix_rewrite: /users
                  timeout: 2.5s
                  host_rewrite_literal: users.internal
                  auto_host_rewrite: false
                  hash_policy: [{header: {header_name: x-user}}]
                  retry_policy:
                    retry_on: "connect-failure, retriable-status-codes"
                    num_retries: 3
                    per_try_timeout: 0.5s
                    retriable_status_codes: [503, "504"]
                request_headers_to_add:
                - header: {key: x-route, value: users}
                  append_action: OVERWRITE_IF_EXISTS
                response_headers_to_remove: [x-internal]
                typed_per_filter_config:
                  envoy.filters.http.wasm:
                    "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                    type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                    value: {scope: route}
                decorator: {operation: users}
                metadata: {filter_metadata: {x: {y: z}}}
              - match: {path: /healthz}
                direct_response:
                  status: 200
                  body: {inline_string: ok}
              - match:
                  safe_regex: {google_re2: {}, regex: "^/items/([0-9]+)$"}
                route:
                  cluster: items_dns
                  timeout: 0s
                  regex_rewrite:
                    pattern: {regex: "^/items/([0-9]+)$"}
                    substitution: /item?id=\1
              - match: {prefix: /old}
                redirect:
                  host_redirect: new.example.com
                  port_redirect: 8443
                  https_redirect: true
                  prefix_rewrite: /new
                  response_code: PERMANENT_REDIRECT
                  strip_query: true
              - match: {prefix: /moved}
                redirect: {path_redirect: /here, scheme_redirect: http}
            - name: fallback
              domains: ["*"]
              routes:
              - match: {prefix: /}
                route: {cluster: legacy_logical}
  - name: tcp_passthrough
    address:
      socket_address: {address: "::", port_value: 10001, ipv4_compat: true}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: items_dns
          idle_timeout: 120s
  clusters:
  - name: users_static
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: LEAST_REQUEST
    per_connection_buffer_limit_bytes: 65536
    max_requests_per_connection: 100
    common_http_protocol_options: {idle_timeout: 90s}
    circuit_breakers:
      thresholds:
      - priority: DEFAULT
        max_connections: 10
        max_pending_requests: 20
        max_requests: 30
        max_retries: 4
        track_remaining: true
      - priority: HIGH
        max_connections: 99
    health_checks:
    - timeout: 1s
      interval: 10s
      interval_jitter: 1s
      unhealthy_threshold: 3
      healthy_threshold: 2
      http_health_check:
        path: /health
        host: users.internal
        expected_statuses: [{start: 200, end: 300}]
    load_assignment:
      cluster_name: users_static
      endpoints:
      - locality: {region: us-east-1}
        priority: 0
        lb_endpoints:
        - endpoint:
            address: {socket_address: {address: 10.0.0.1, port_value: 8080}}
            hostname: users-1
            health_check_config: {port_value: 8081, hostname: hc.users}
          load_balancing_weight: 3
          health_status: HEALTHY
        - endpoint:
            address: {socket_address: {address: "::1", port_value: 8080}}
  - name: items_dns
    type: STRICT_DNS
    lb_policy: RANDOM
    dns_lookup_family: V4_ONLY
    dns_refresh_rate: 30s
    load_assignment:
      cluster_name: items_dns
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: items.example.com, port_value: 80}}}
        - endpoint: {address: {socket_address: {address: items2.example.com, port_value: "8080"}}}
  - name: legacy_logical
    type: LOGICAL_DNS
    hosts:
    - socket_address: {address: legacy.example.com, port_value: 443}
  - name: empty
)yaml";

Bootstrap mustLoad(const std::string& text) {
  auto r = loadBootstrapFromString(text);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? std::move(*r) : Bootstrap{};
}

void checkFullConfig(const Bootstrap& b) {
  EXPECT_EQ(b.node_id, "gw-1");
  EXPECT_EQ(b.node_cluster, "edge");
  ASSERT_TRUE(b.admin.address.has_value());
  EXPECT_EQ(b.admin.address->address, "127.0.0.1");
  EXPECT_EQ(b.admin.address->port, 9901u);
  EXPECT_EQ(b.admin.access_log_path, "/tmp/admin_access.log");

  ASSERT_EQ(b.bootstrap_extensions.size(), 1u);
  EXPECT_EQ(b.bootstrap_extensions[0].name, "envoy.bootstrap.wasm");
  EXPECT_EQ(b.bootstrap_extensions[0].type_url, "type.googleapis.com/envoy.extensions.wasm.v3.WasmService");
  EXPECT_EQ(b.bootstrap_extensions[0].typed_config["config"]["name"].Scalar(), "svc");
  EXPECT_FALSE(b.bootstrap_extensions[0].typed_config["@type"].IsDefined());
  EXPECT_EQ(b.bootstrap_extensions[0].path, "bootstrap_extensions[0]");
  EXPECT_EQ(b.bootstrap_extensions[0].typed_config_path, "bootstrap_extensions[0].typed_config");

  ASSERT_EQ(b.listeners.size(), 2u);
  const Listener& l0 = b.listeners[0];
  EXPECT_EQ(l0.name, "http_ingress");
  EXPECT_EQ(l0.address.address, "0.0.0.0");
  EXPECT_EQ(l0.address.port, 10000u);
  EXPECT_EQ(l0.per_connection_buffer_limit_bytes, 32768u);
  ASSERT_EQ(l0.filter_chains.size(), 1u);
  ASSERT_EQ(l0.filter_chains[0].filters.size(), 1u);
  const NetworkFilterConfig& nf = l0.filter_chains[0].filters[0];
  EXPECT_EQ(nf.name, "envoy.filters.network.http_connection_manager");
  EXPECT_EQ(nf.path, "static_resources.listeners[0].filter_chains[0].filters[0]");
  EXPECT_EQ(nf.typed_config_path, "static_resources.listeners[0].filter_chains[0].filters[0].typed_config");
  EXPECT_FALSE(nf.tcp_proxy.has_value());
  ASSERT_TRUE(nf.http_connection_manager.has_value());
  const HttpConnectionManagerConfig& hcm = *nf.http_connection_manager;
  EXPECT_EQ(hcm.stat_prefix, "ingress_http");
  EXPECT_EQ(hcm.codec_type, HttpConnectionManagerConfig::CodecType::Auto);
  EXPECT_TRUE(hcm.use_remote_address);
  EXPECT_EQ(hcm.xff_num_trusted_hops, 0u);
  EXPECT_FALSE(hcm.skip_xff_append);
  EXPECT_FALSE(hcm.generate_request_id);
  EXPECT_EQ(hcm.server_name, "edge-proxy");
  EXPECT_EQ(hcm.max_request_headers_kb, 96u);
  EXPECT_TRUE(hcm.normalize_path);
  EXPECT_TRUE(hcm.merge_slashes);
  EXPECT_EQ(hcm.stream_idle_timeout, 300s);
  EXPECT_EQ(hcm.request_timeout, 30s);
  EXPECT_EQ(hcm.request_headers_timeout, 10s);
  EXPECT_EQ(hcm.drain_timeout, 5s);
  EXPECT_EQ(hcm.idle_timeout, 3600s);
  EXPECT_EQ(hcm.max_headers_count, 50u);
  EXPECT_TRUE(hcm.accept_http_10);
  EXPECT_EQ(hcm.default_host_for_http_10, "example.com");

  ASSERT_EQ(hcm.access_log.size(), 3u);
  EXPECT_EQ(hcm.access_log[0].sink, AccessLogConfig::Sink::File);
  EXPECT_EQ(hcm.access_log[0].path, "/var/log/access.log");
  EXPECT_EQ(hcm.access_log[0].format, "[%START_TIME%] %REQ(:METHOD)% %RESPONSE_CODE%\n");
  EXPECT_EQ(hcm.access_log[1].sink, AccessLogConfig::Sink::Stdout);
  EXPECT_FALSE(hcm.access_log[1].omit_empty_values);
  EXPECT_EQ(hcm.access_log[1].json_format,
            (std::map<std::string, std::string>{{"method", "%REQ(:METHOD)%"}, {"status", "%RESPONSE_CODE%"}}));
  EXPECT_EQ(hcm.access_log[2].sink, AccessLogConfig::Sink::Stdout); // path /dev/stdout
  EXPECT_EQ(hcm.access_log[2].format, "%PROTOCOL%\n");

  ASSERT_EQ(hcm.http_filters.size(), 3u);
  const std::string hcm_path = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
  EXPECT_EQ(hcm.http_filters[0].name, "envoy.filters.http.wasm");
  EXPECT_EQ(hcm.http_filters[0].type_url, "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm");
  EXPECT_EQ(hcm.http_filters[0].typed_config["config"]["name"].Scalar(), "my_plugin");
  EXPECT_EQ(hcm.http_filters[0].path, hcm_path + ".http_filters[0]");
  EXPECT_EQ(hcm.http_filters[0].typed_config_path, hcm_path + ".http_filters[0].typed_config.value");
  EXPECT_FALSE(hcm.http_filters[0].is_optional);
  EXPECT_EQ(hcm.http_filters[1].name, "envoy.filters.http.lua");
  EXPECT_TRUE(hcm.http_filters[1].is_optional);
  EXPECT_TRUE(hcm.http_filters[1].disabled);
  EXPECT_EQ(hcm.http_filters[1].typed_config["inline_code"].Scalar(), "-- nothing");
  EXPECT_EQ(hcm.http_filters[2].name, "envoy.filters.http.router");

  const RouteConfiguration& rc = hcm.route_config;
  EXPECT_EQ(rc.name, "local_route");
  ASSERT_EQ(rc.request_headers_to_add.size(), 1u);
  EXPECT_EQ(rc.request_headers_to_add[0], (std::pair<std::string, std::string>{"x-gateway", "wasmgate"}));
  ASSERT_EQ(rc.request_headers_to_add_action.size(), 1u);
  EXPECT_EQ(rc.request_headers_to_add_action[0], HeaderAppendAction::OverwriteIfExistsOrAdd);
  EXPECT_EQ(rc.response_headers_to_remove, std::vector<std::string>{"server"});
  ASSERT_EQ(rc.virtual_hosts.size(), 2u);

  const VirtualHost& api = rc.virtual_hosts[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.domains, (std::vector<std::string>{"api.example.com", "*.example.org", "api.*", "api.example.net:8080"}));
  ASSERT_EQ(api.request_headers_to_add.size(), 1u);
  EXPECT_EQ(api.request_headers_to_add_action[0], HeaderAppendAction::AddIfAbsent);
  ASSERT_EQ(api.response_headers_to_add.size(), 1u);
  EXPECT_EQ(api.response_headers_to_add[0].second, "%HOSTNAME%");
  EXPECT_EQ(api.response_headers_to_add_action[0], HeaderAppendAction::AppendIfExistsOrAdd);
  EXPECT_EQ(api.request_headers_to_remove, std::vector<std::string>{"x-debug"});
  ASSERT_EQ(api.routes.size(), 5u);

  const Route& users = api.routes[0];
  EXPECT_EQ(users.name, "users");
  EXPECT_EQ(users.action, Route::ActionKind::Route);
  EXPECT_EQ(users.match.kind, RouteMatch::Kind::Prefix);
  EXPECT_EQ(users.match.value, "/v1/users");
  EXPECT_FALSE(users.match.case_sensitive);
  ASSERT_EQ(users.match.headers.size(), 10u);
  using HK = HeaderMatcher::Kind;
  EXPECT_EQ(users.match.headers[0].name, "x-tenant");
  EXPECT_EQ(users.match.headers[0].kind, HK::Exact);
  EXPECT_EQ(users.match.headers[0].value, "acme");
  EXPECT_EQ(users.match.headers[1].kind, HK::Present);
  EXPECT_TRUE(users.match.headers[1].present);
  EXPECT_EQ(users.match.headers[2].kind, HK::Prefix);
  EXPECT_EQ(users.match.headers[3].kind, HK::Suffix);
  EXPECT_EQ(users.match.headers[4].kind, HK::Contains);
  EXPECT_EQ(users.match.headers[4].value, "mid");
  EXPECT_EQ(users.match.headers[5].kind, HK::SafeRegex);
  EXPECT_EQ(users.match.headers[5].value, "^a+$");
  EXPECT_EQ(users.match.headers[6].kind, HK::Range);
  EXPECT_EQ(users.match.headers[6].range_start, 10);
  EXPECT_EQ(users.match.headers[6].range_end, 20);
  EXPECT_EQ(users.match.headers[7].kind, HK::Prefix);
  EXPECT_EQ(users.match.headers[7].value, "abc");
  EXPECT_TRUE(users.match.headers[7].ignore_case);
  EXPECT_TRUE(users.match.headers[7].invert_match);
  EXPECT_EQ(users.match.headers[8].kind, HK::SafeRegex);
  EXPECT_EQ(users.match.headers[8].value, "b.*");
  EXPECT_EQ(users.match.headers[9].kind, HK::Present);
  EXPECT_EQ(users.route.cluster, "users_static");
  EXPECT_EQ(users.route.prefix_rewrite, "/users");
  EXPECT_EQ(users.route.timeout, 2500ms);
  EXPECT_EQ(users.route.host_rewrite_literal, "users.internal");
  ASSERT_TRUE(users.route.retry_policy.has_value());
  EXPECT_EQ(users.route.retry_policy->retry_on,
            (std::vector<std::string>{"connect-failure", "retriable-status-codes"}));
  EXPECT_EQ(users.route.retry_policy->num_retries, 3u);
  EXPECT_EQ(users.route.retry_policy->per_try_timeout, 500ms);
  EXPECT_EQ(users.route.retry_policy->retriable_status_codes, (std::vector<uint32_t>{503, 504}));
  EXPECT_EQ(users.request_headers_to_add[0].first, "x-route");
  EXPECT_EQ(users.request_headers_to_add_action[0], HeaderAppendAction::OverwriteIfExists);
  EXPECT_EQ(users.response_headers_to_remove, std::vector<std::string>{"x-internal"});
  // Route-level per-filter config wins over the virtual host's; the rest is inherited.
  ASSERT_EQ(users.typed_per_filter_config.size(), 2u);
  EXPECT_EQ(users.typed_per_filter_config.at("envoy.filters.http.wasm")["scope"].Scalar(), "route");
  EXPECT_EQ(users.typed_per_filter_config.at("envoy.filters.http.lua")["disabled"].Scalar(), "true");

  const Route& health = api.routes[1];
  EXPECT_EQ(health.action, Route::ActionKind::DirectResponse);
  EXPECT_EQ(health.match.kind, RouteMatch::Kind::Path);
  EXPECT_EQ(health.match.value, "/healthz");
  EXPECT_TRUE(health.match.case_sensitive);
  EXPECT_EQ(health.direct_response.status, 200u);
  EXPECT_EQ(health.direct_response.body, "ok");
  EXPECT_EQ(health.typed_per_filter_config.at("envoy.filters.http.wasm")["scope"].Scalar(), "vhost");

  const Route& items = api.routes[2];
  EXPECT_EQ(items.match.kind, RouteMatch::Kind::SafeRegex);
  EXPECT_EQ(items.match.value, "^/items/([0-9]+)$");
  EXPECT_EQ(items.route.cluster, "items_dns");
  EXPECT_EQ(items.route.timeout, 0ms);
  ASSERT_TRUE(items.route.regex_rewrite.has_value());
  EXPECT_EQ(items.route.regex_rewrite->pattern, "^/items/([0-9]+)$");
  EXPECT_EQ(items.route.regex_rewrite->substitution, "/item?id=\\1");
  // The virtual host's retry policy applies to routes without their own.
  ASSERT_TRUE(items.route.retry_policy.has_value());
  EXPECT_EQ(items.route.retry_policy->retry_on, (std::vector<std::string>{"5xx", "reset"}));
  EXPECT_EQ(items.route.retry_policy->num_retries, 2u);

  const Route& old_redirect = api.routes[3];
  EXPECT_EQ(old_redirect.action, Route::ActionKind::Redirect);
  EXPECT_EQ(old_redirect.redirect.host_redirect, "new.example.com");
  EXPECT_EQ(old_redirect.redirect.port_redirect, 8443u);
  EXPECT_EQ(old_redirect.redirect.scheme_redirect, "https");
  EXPECT_EQ(old_redirect.redirect.prefix_rewrite, "/new");
  EXPECT_FALSE(old_redirect.redirect.path_redirect.has_value());
  EXPECT_EQ(old_redirect.redirect.response_code, 308u);
  EXPECT_TRUE(old_redirect.redirect.strip_query);
  const Route& moved = api.routes[4];
  EXPECT_EQ(moved.redirect.path_redirect, "/here");
  EXPECT_EQ(moved.redirect.scheme_redirect, "http");
  EXPECT_EQ(moved.redirect.response_code, 301u);
  EXPECT_FALSE(moved.redirect.strip_query);

  const VirtualHost& fallback = rc.virtual_hosts[1];
  EXPECT_EQ(fallback.domains, std::vector<std::string>{"*"});
  ASSERT_EQ(fallback.routes.size(), 1u);
  EXPECT_EQ(fallback.routes[0].route.cluster, "legacy_logical");
  EXPECT_EQ(fallback.routes[0].route.timeout, 15s);
  EXPECT_FALSE(fallback.routes[0].route.retry_policy.has_value());
  EXPECT_TRUE(fallback.routes[0].typed_per_filter_config.empty());

  const Listener& l1 = b.listeners[1];
  EXPECT_EQ(l1.name, "tcp_passthrough");
  EXPECT_EQ(l1.address.address, "::");
  EXPECT_EQ(l1.per_connection_buffer_limit_bytes, 1024u * 1024u);
  ASSERT_TRUE(l1.filter_chains[0].filters[0].tcp_proxy.has_value());
  const TcpProxyConfig& tcp = *l1.filter_chains[0].filters[0].tcp_proxy;
  EXPECT_EQ(tcp.stat_prefix, "tcp");
  EXPECT_EQ(tcp.cluster, "items_dns");
  EXPECT_EQ(tcp.idle_timeout, 120s);

  ASSERT_EQ(b.clusters.size(), 4u);
  const Cluster& cs = b.clusters[0];
  EXPECT_EQ(cs.name, "users_static");
  EXPECT_EQ(cs.connect_timeout, 250ms);
  EXPECT_EQ(cs.type, Cluster::Type::Static);
  EXPECT_EQ(cs.lb_policy, Cluster::LbPolicy::LeastRequest);
  EXPECT_EQ(cs.per_connection_buffer_limit_bytes, 65536u);
  EXPECT_EQ(cs.max_requests_per_connection, 100u);
  EXPECT_EQ(cs.idle_timeout, 90s);
  EXPECT_EQ(cs.circuit_breakers.max_connections, 10u);
  EXPECT_EQ(cs.circuit_breakers.max_pending_requests, 20u);
  EXPECT_EQ(cs.circuit_breakers.max_requests, 30u);
  EXPECT_EQ(cs.circuit_breakers.max_retries, 4u);
  ASSERT_EQ(cs.health_checks.size(), 1u);
  EXPECT_EQ(cs.health_checks[0].timeout, 1s);
  EXPECT_EQ(cs.health_checks[0].interval, 10s);
  EXPECT_EQ(cs.health_checks[0].unhealthy_threshold, 3u);
  EXPECT_EQ(cs.health_checks[0].healthy_threshold, 2u);
  EXPECT_EQ(cs.health_checks[0].path, "/health");
  EXPECT_EQ(cs.health_checks[0].host, "users.internal");
  EXPECT_EQ(cs.health_checks[0].expected_statuses, (std::vector<std::pair<uint32_t, uint32_t>>{{200, 300}}));
  ASSERT_EQ(cs.endpoints.size(), 2u);
  EXPECT_EQ(cs.endpoints[0].address.address, "10.0.0.1");
  EXPECT_EQ(cs.endpoints[0].address.port, 8080u);
  EXPECT_EQ(cs.endpoints[0].load_balancing_weight, 3u);
  EXPECT_EQ(cs.endpoints[0].hostname, "users-1");
  EXPECT_EQ(cs.endpoints[0].health_check_port, 8081u);
  EXPECT_EQ(cs.endpoints[0].health_check_hostname, "hc.users");
  EXPECT_EQ(cs.endpoints[1].address.address, "::1");
  EXPECT_EQ(cs.endpoints[1].load_balancing_weight, 1u);

  const Cluster& dns = b.clusters[1];
  EXPECT_EQ(dns.type, Cluster::Type::StrictDns);
  EXPECT_EQ(dns.lb_policy, Cluster::LbPolicy::Random);
  EXPECT_EQ(dns.dns_lookup_family, Cluster::DnsLookupFamily::V4Only);
  EXPECT_EQ(dns.dns_refresh_rate, 30s);
  EXPECT_EQ(dns.connect_timeout, 5s);
  ASSERT_EQ(dns.endpoints.size(), 2u);
  EXPECT_EQ(dns.endpoints[0].address.address, "items.example.com");
  EXPECT_EQ(dns.endpoints[1].address.port, 8080u);
  EXPECT_EQ(dns.circuit_breakers.max_connections, 1024u);

  const Cluster& logical = b.clusters[2];
  EXPECT_EQ(logical.type, Cluster::Type::LogicalDns);
  EXPECT_EQ(logical.lb_policy, Cluster::LbPolicy::RoundRobin);
  ASSERT_EQ(logical.endpoints.size(), 1u);
  EXPECT_EQ(logical.endpoints[0].address.address, "legacy.example.com");
  EXPECT_EQ(logical.endpoints[0].address.port, 443u);

  EXPECT_EQ(b.clusters[3].name, "empty");
  EXPECT_TRUE(b.clusters[3].endpoints.empty());
}

TEST(ConfigLoaderTest, FullYaml) { checkFullConfig(mustLoad(kFullConfig)); }

// Re-emits a YAML tree as strict JSON (numbers and booleans unquoted, as a JSON author would).
void toJson(const YAML::Node& n, std::string& out) {
  auto quote = [&](const std::string& s) {
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\')
        out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  };
  if (n.IsMap()) {
    out += "{";
    bool first = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      out += first ? "\n" : ",\n";
      first = false;
      quote(it->first.Scalar());
      out += ": ";
      toJson(it->second, out);
    }
    out += "}";
  } else if (n.IsSequence()) {
    out += "[";
    for (size_t i = 0; i < n.size(); ++i) {
      out += i ? ", " : "";
      toJson(n[i], out);
    }
    out += "]";
  } else if (n.IsNull()) {
    out += "null";
  } else {
    const std::string& s = n.Scalar();
    bool plain = n.Tag() != "!" && (s == "true" || s == "false" ||
                                    (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos));
    if (plain)
      out += s;
    else
      quote(s);
  }
}

TEST(ConfigLoaderTest, FullJson) {
  std::string json;
  toJson(YAML::Load(kFullConfig), json);
  ASSERT_EQ(json.front(), '{');
  ASSERT_NE(json.find("\"@type\": \"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager"),
            std::string::npos);
  checkFullConfig(mustLoad(json));
}

TEST(ConfigLoaderTest, HandWrittenJsonWithTabs) {
  Bootstrap b = mustLoad(
      "{\n\t\"static_resources\": {\n\t\t\"clusters\": [{\"name\": \"c\", \"connect_timeout\": \"1s\","
      " \"type\": \"STATIC\", \"load_assignment\": {\"cluster_name\": \"c\", \"endpoints\": [{\"lb_endpoints\":"
      " [{\"endpoint\": {\"address\": {\"socket_address\": {\"address\": \"127.0.0.1\", \"port_value\": 81}}}}]}]}}]"
      "\n\t},\n\t\"admin\": {\"address\": {\"socket_address\": {\"address\": \"0.0.0.0\", \"port_value\": \"9901\"}}}\n}");
  ASSERT_EQ(b.clusters.size(), 1u);
  EXPECT_EQ(b.clusters[0].connect_timeout, 1s);
  EXPECT_EQ(b.clusters[0].endpoints[0].address.port, 81u);
  EXPECT_EQ(b.admin.address->port, 9901u);
}

// Old-style names plus a TypedStruct-wrapped connection manager.
TEST(ConfigLoaderTest, TypedStructAndLegacyNames) {
  Bootstrap b = mustLoad(R"yaml(
static_resources:
  listeners:
  - address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
    filter_chains:
    - filters:
      - name: envoy.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/udpa.type.v1.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          value:
            stat_prefix: legacy
            codec_type: HTTP1
            route_config:
              virtual_hosts:
              - name: all
                domains: ["*"]
                routes: [{match: {prefix: /}, route: {cluster: c}}]
            http_filters:
            - name: envoy.router
  - address: {socket_address: {address: 127.0.0.1, port_value: 8081}}
    filter_chains:
    - filters:
      - name: envoy.tcp_proxy
        typed_config: {stat_prefix: t, cluster: c}
  clusters:
  - name: c
    hosts: [{socket_address: {address: 127.0.0.1, port_value: 80}}]
)yaml");
  ASSERT_EQ(b.listeners.size(), 2u);
  EXPECT_EQ(b.listeners[0].name, "listener_0");
  EXPECT_EQ(b.listeners[0].filter_chains[0].filters[0].name, "envoy.filters.network.http_connection_manager");
  EXPECT_EQ(b.listeners[1].filter_chains[0].filters[0].name, "envoy.filters.network.tcp_proxy");
  EXPECT_EQ(b.listeners[1].name, "listener_1");
  const auto& f = b.listeners[0].filter_chains[0].filters[0];
  EXPECT_EQ(f.type_url,
            "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
  EXPECT_EQ(f.typed_config_path, "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.value");
  ASSERT_TRUE(f.http_connection_manager.has_value());
  EXPECT_EQ(f.http_connection_manager->stat_prefix, "legacy");
  EXPECT_EQ(f.http_connection_manager->codec_type, HttpConnectionManagerConfig::CodecType::Http1);
  EXPECT_EQ(f.http_connection_manager->http_filters.back().name, "envoy.filters.http.router");
  EXPECT_EQ(f.http_connection_manager->server_name, "wasmgate");
  EXPECT_TRUE(f.http_connection_manager->generate_request_id);
  ASSERT_TRUE(b.listeners[1].filter_chains[0].filters[0].tcp_proxy.has_value());
  EXPECT_EQ(b.clusters[0].endpoints.size(), 1u);
}

TEST(ConfigLoaderTest, WasmNetworkFilterKeptRaw) {
  Bootstrap b = mustLoad(R"yaml(
static_resources:
  listeners:
  - address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config: {name: net, vm_config: {runtime: envoy.wasm.runtime.v8}}
      - name: envoy.filters.network.tcp_proxy
        typed_config: {stat_prefix: t, cluster: c}
  clusters: [{name: c}]
)yaml");
  const auto& f = b.listeners[0].filter_chains[0].filters[0];
  EXPECT_EQ(f.name, "envoy.filters.network.wasm");
  EXPECT_EQ(f.typed_config["config"]["name"].Scalar(), "net");
  EXPECT_FALSE(f.http_connection_manager.has_value());
  EXPECT_FALSE(f.tcp_proxy.has_value());
}

TEST(ConfigLoaderTest, YamlAnchorsMergeKeysAndIgnoreTag) {
  Bootstrap b = mustLoad(R"yaml(
defaults: !ignore &defaults
  connect_timeout: 2s
  lb_policy: RANDOM
static_resources:
  clusters:
  - <<: *defaults
    name: a
  - <<: *defaults
    name: b
    lb_policy: ROUND_ROBIN
)yaml");
  ASSERT_EQ(b.clusters.size(), 2u);
  EXPECT_EQ(b.clusters[0].connect_timeout, 2s);
  EXPECT_EQ(b.clusters[0].lb_policy, Cluster::LbPolicy::Random);
  EXPECT_EQ(b.clusters[1].lb_policy, Cluster::LbPolicy::RoundRobin);
}

TEST(ConfigLoaderTest, FromFile) {
  const std::string path = ::testing::TempDir() + "/wasmgate_loader_test.yaml";
  {
    std::ofstream out(path);
    out << kFullConfig;
  }
  auto r = loadBootstrapFromFile(path);
  ASSERT_TRUE(r.ok()) << r.error();
  checkFullConfig(*r);
}

TEST(ConfigLoaderTest, DirectResponseBodyFromFile) {
  const std::string path = ::testing::TempDir() + "/wasmgate_loader_body.txt";
  {
    std::ofstream out(path);
    out << "from file";
  }
  Bootstrap b = mustLoad(R"yaml(
static_resources:
  listeners:
  - address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          stat_prefix: s
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{match: {prefix: /}, direct_response: {status: 503, body: {filename: ")yaml" +
                         path + R"yaml("}}}]
          http_filters: [{name: envoy.filters.http.router}]
)yaml");
  const auto& route = b.listeners[0].filter_chains[0].filters[0].http_connection_manager->route_config.virtual_hosts[0].routes[0];
  EXPECT_EQ(route.direct_response.status, 503u);
  EXPECT_EQ(route.direct_response.body, "from file");
}

} // namespace
} // namespace wasmgate::config
