// Clusters: discovery type, load balancing, endpoints, circuit breakers, health checks.

#include "config/loader_internal.h"

namespace wasmgate::config::detail {
namespace {

constexpr std::string_view kNoHttp2Upstream = "HTTP/2 upstream is not implemented yet";

Status positive(ObjectReader& r, std::string_view key, Duration value) {
  if (r.has(key) && value.count() <= 0)
    return fieldError(r.pathOf(key), "must be greater than 0");
  return okStatus();
}

Status parseLbEndpoint(ObjectReader& r, const Cluster& cluster, LbEndpoint& out) {
  if (!r.has("endpoint"))
    return r.missing("endpoint");
  WG_RETURN_IF_ERROR(r.getObject("endpoint", [&](ObjectReader& e) -> Status {
    if (!e.has("address"))
      return e.missing("address");
    AddressRules rules{.need_ip = cluster.type == Cluster::Type::Static, .need_port = true, .who = "STATIC cluster"};
    WG_RETURN_IF_ERROR(parseAddress(e.take("address"), e.pathOf("address"), rules, out.address));
    WG_RETURN_IF_ERROR(e.getString("hostname", out.hostname));
    WG_RETURN_IF_ERROR(e.unsupported("additional_addresses", "not implemented"));
    return e.getObject("health_check_config", [&](ObjectReader& hc) -> Status {
      WG_RETURN_IF_ERROR(hc.getUint32("port_value", out.health_check_port, 0, 65535));
      WG_RETURN_IF_ERROR(hc.getString("hostname", out.health_check_hostname));
      WG_RETURN_IF_ERROR(hc.unsupported("address", "use port_value"));
      return hc.unsupported("disable_active_health_check", "not implemented");
    });
  }));
  WG_RETURN_IF_ERROR(r.getUint32("load_balancing_weight", out.load_balancing_weight, 1));
  enum class Health { Unknown };
  Health health = Health::Unknown;
  WG_RETURN_IF_ERROR(r.getEnum<Health>("health_status", health,
                                       {{"UNKNOWN", Health::Unknown},
                                        {"HEALTHY", Health::Unknown},
                                        {"UNHEALTHY", std::nullopt, "static health status is not implemented"},
                                        {"DRAINING", std::nullopt, "static health status is not implemented"},
                                        {"TIMEOUT", std::nullopt, "static health status is not implemented"},
                                        {"DEGRADED", std::nullopt, "static health status is not implemented"}}));
  // Endpoint metadata is only read by subset load balancing, which is not implemented.
  r.ignore("metadata");
  return r.unsupported("endpoint_name", "named endpoints are not implemented");
}

Status parseLoadAssignment(ObjectReader& r, Cluster& out) {
  // cluster_name is required by EDS; for static assignments Envoy ignores it as well.
  r.ignore("cluster_name");
  WG_RETURN_IF_ERROR(r.unsupported("policy", "not implemented yet"));
  WG_RETURN_IF_ERROR(r.unsupported("named_endpoints", "not implemented"));
  return r.getList("endpoints", [&](const YAML::Node& node, const std::string& path, size_t) {
    return readObject(node, path, [&](ObjectReader& le) -> Status {
      uint32_t priority = 0;
      WG_RETURN_IF_ERROR(le.getUint32("priority", priority));
      if (priority != 0)
        return le.unsupportedValue("priority", std::to_string(priority), "only priority 0 is implemented");
      // Locality and its weight only matter for zone-aware / locality-weighted balancing,
      // which is not implemented; every endpoint is treated as local.
      le.ignore("locality");
      le.ignore("load_balancing_weight");
      WG_RETURN_IF_ERROR(le.unsupported("leds_cluster_locality_config", "not implemented"));
      return le.getList("lb_endpoints", [&](const YAML::Node& e, const std::string& epath, size_t) {
        LbEndpoint endpoint;
        WG_RETURN_IF_ERROR(readObject(e, epath, [&](ObjectReader& lb) { return parseLbEndpoint(lb, out, endpoint); }));
        out.endpoints.push_back(std::move(endpoint));
        return okStatus();
      });
    });
  });
}

Status parseCircuitBreakers(ObjectReader& r, CircuitBreakerThresholds& out) {
  WG_RETURN_IF_ERROR(r.unsupported("per_host_thresholds", "not implemented yet"));
  return r.getList("thresholds", [&](const YAML::Node& node, const std::string& path, size_t) {
    return readObject(node, path, [&](ObjectReader& t) -> Status {
      enum class Priority { Default, High };
      Priority priority = Priority::Default;
      WG_RETURN_IF_ERROR(t.getEnum<Priority>("priority", priority,
                                             {{"DEFAULT", Priority::Default}, {"HIGH", Priority::High}}));
      // Routes can only use DEFAULT priority (HIGH is rejected there), so HIGH thresholds
      // would never apply: validate them and drop them.
      CircuitBreakerThresholds scratch;
      CircuitBreakerThresholds& into = priority == Priority::Default ? out : scratch;
      WG_RETURN_IF_ERROR(t.getUint32("max_connections", into.max_connections));
      WG_RETURN_IF_ERROR(t.getUint32("max_pending_requests", into.max_pending_requests));
      WG_RETURN_IF_ERROR(t.getUint32("max_requests", into.max_requests));
      WG_RETURN_IF_ERROR(t.getUint32("max_retries", into.max_retries));
      WG_RETURN_IF_ERROR(t.unsupported("retry_budget", "not implemented yet"));
      WG_RETURN_IF_ERROR(t.unsupported("max_connection_pools", "not implemented yet"));
      // Only controls extra "remaining" stats gauges.
      t.ignore("track_remaining");
      return okStatus();
    });
  });
}

Status parseHealthCheck(ObjectReader& r, HealthCheck& out) {
  for (std::string_view key : {"timeout", "interval", "unhealthy_threshold", "healthy_threshold"})
    WG_RETURN_IF_ERROR(r.require(key));
  WG_RETURN_IF_ERROR(r.getDuration("timeout", out.timeout));
  WG_RETURN_IF_ERROR(positive(r, "timeout", out.timeout));
  WG_RETURN_IF_ERROR(r.getDuration("interval", out.interval));
  WG_RETURN_IF_ERROR(positive(r, "interval", out.interval));
  WG_RETURN_IF_ERROR(r.getUint32("unhealthy_threshold", out.unhealthy_threshold));
  WG_RETURN_IF_ERROR(r.getUint32("healthy_threshold", out.healthy_threshold));
  WG_RETURN_IF_ERROR(r.unsupported("tcp_health_check", "only http_health_check is implemented"));
  WG_RETURN_IF_ERROR(r.unsupported("grpc_health_check", "only http_health_check is implemented"));
  WG_RETURN_IF_ERROR(r.unsupported("custom_health_check", "only http_health_check is implemented"));
  if (!r.has("http_health_check"))
    return r.missing("http_health_check");
  WG_RETURN_IF_ERROR(r.getObject("http_health_check", [&](ObjectReader& h) -> Status {
    WG_RETURN_IF_ERROR(h.requireString("path", out.path));
    WG_RETURN_IF_ERROR(h.getString("host", out.host));
    WG_RETURN_IF_ERROR(h.getList("expected_statuses", [&](const YAML::Node& node, const std::string& path, size_t) {
      return readObject(node, path, [&](ObjectReader& range) -> Status {
        WG_RETURN_IF_ERROR(range.require("start"));
        WG_RETURN_IF_ERROR(range.require("end"));
        uint32_t start = 0;
        uint32_t end = 0;
        WG_RETURN_IF_ERROR(range.getUint32("start", start, 100, 599));
        WG_RETURN_IF_ERROR(range.getUint32("end", end, 101, 600));
        if (start >= end)
          return fieldError(range.path(), "start must be less than end (the range is [start, end))");
        out.expected_statuses.emplace_back(start, end);
        return okStatus();
      });
    }));
    enum class Codec { Http1 };
    Codec codec = Codec::Http1;
    WG_RETURN_IF_ERROR(h.getEnum<Codec>("codec_client_type", codec,
                                        {{"HTTP1", Codec::Http1},
                                         {"HTTP2", std::nullopt, std::string_view(kNoHttp2Upstream)},
                                         {"HTTP3", std::nullopt, "HTTP/3 is not implemented"}}));
    for (std::string_view key : {"request_headers_to_add", "request_headers_to_remove", "send",
                                 "receive", "retriable_statuses", "service_name_matcher", "method"})
      WG_RETURN_IF_ERROR(h.unsupported(key, "not implemented yet"));
    return okStatus();
  }));
  // Jitter only spreads probes out in time; checks run at the plain interval.
  r.ignore("interval_jitter");
  r.ignore("interval_jitter_percent");
  r.ignore("initial_jitter");
  for (std::string_view key : {"no_traffic_interval", "no_traffic_healthy_interval", "unhealthy_interval",
                               "unhealthy_edge_interval", "healthy_edge_interval", "event_log_path",
                               "transport_socket_match_criteria"})
    WG_RETURN_IF_ERROR(r.unsupported(key, "not implemented yet"));
  return okStatus();
}

} // namespace

Status parseCluster(const YAML::Node& node, const std::string& path, Cluster& out) {
  return readObject(node, path, [&](ObjectReader& r) -> Status {
    WG_RETURN_IF_ERROR(r.requireString("name", out.name));
    // Only renames the cluster's stats.
    r.ignore("alt_stat_name");
    WG_RETURN_IF_ERROR(r.getDuration("connect_timeout", out.connect_timeout));
    WG_RETURN_IF_ERROR(positive(r, "connect_timeout", out.connect_timeout));
    using Type = Cluster::Type;
    WG_RETURN_IF_ERROR(r.getEnum<Type>("type", out.type,
                                       {{"STATIC", Type::Static},
                                        {"STRICT_DNS", Type::StrictDns},
                                        {"LOGICAL_DNS", Type::LogicalDns},
                                        {"EDS", std::nullopt, "xDS is not implemented"},
                                        {"ORIGINAL_DST", std::nullopt, "not implemented"}}));
    WG_RETURN_IF_ERROR(r.unsupported("cluster_type", "custom cluster types are not implemented"));
    using Lb = Cluster::LbPolicy;
    WG_RETURN_IF_ERROR(r.getEnum<Lb>("lb_policy", out.lb_policy,
                                     {{"ROUND_ROBIN", Lb::RoundRobin},
                                      {"LEAST_REQUEST", Lb::LeastRequest},
                                      {"RANDOM", Lb::Random},
                                      {"RING_HASH", std::nullopt},
                                      {"MAGLEV", std::nullopt},
                                      {"CLUSTER_PROVIDED", std::nullopt},
                                      {"LOAD_BALANCING_POLICY_CONFIG", std::nullopt}}));
    for (std::string_view key : {"load_balancing_policy", "round_robin_lb_config", "least_request_lb_config",
                                 "ring_hash_lb_config", "maglev_lb_config", "common_lb_config",
                                 "outlier_detection", "upstream_connection_options", "lb_subset_config"})
      WG_RETURN_IF_ERROR(r.unsupported(key, "not implemented yet"));
    WG_RETURN_IF_ERROR(r.unsupported("transport_socket", "TLS is not implemented yet"));
    WG_RETURN_IF_ERROR(r.unsupported("transport_socket_matches", "TLS is not implemented yet"));
    WG_RETURN_IF_ERROR(r.unsupported("http2_protocol_options", kNoHttp2Upstream));
    WG_RETURN_IF_ERROR(r.unsupported("typed_extension_protocol_options", kNoHttp2Upstream));

    if (r.has("load_assignment") && r.has("hosts"))
      return fieldError(r.pathOf("hosts"), "cannot be combined with load_assignment");
    WG_RETURN_IF_ERROR(r.getObject("load_assignment", [&](ObjectReader& la) { return parseLoadAssignment(la, out); }));
    // The v2 `hosts` list: bare addresses, weight 1.
    WG_RETURN_IF_ERROR(r.getList("hosts", [&](const YAML::Node& e, const std::string& hpath, size_t) {
      LbEndpoint endpoint;
      AddressRules rules{.need_ip = out.type == Type::Static, .need_port = true, .who = "STATIC cluster"};
      WG_RETURN_IF_ERROR(parseAddress(e, hpath, rules, endpoint.address));
      out.endpoints.push_back(std::move(endpoint));
      return okStatus();
    }));
    if (out.type == Type::LogicalDns && out.endpoints.size() > 1)
      return fieldError(r.pathOf(r.has("hosts") ? "hosts" : "load_assignment"),
                        "LOGICAL_DNS clusters must have exactly one endpoint");

    WG_RETURN_IF_ERROR(r.getObject("circuit_breakers", [&](ObjectReader& cb) {
      return parseCircuitBreakers(cb, out.circuit_breakers);
    }));
    WG_RETURN_IF_ERROR(r.getList("health_checks", [&](const YAML::Node& e, const std::string& hpath, size_t) {
      HealthCheck hc;
      WG_RETURN_IF_ERROR(readObject(e, hpath, [&](ObjectReader& h) { return parseHealthCheck(h, hc); }));
      out.health_checks.push_back(std::move(hc));
      return okStatus();
    }));
    WG_RETURN_IF_ERROR(r.getUint32("max_requests_per_connection", out.max_requests_per_connection, 1));
    WG_RETURN_IF_ERROR(r.getObject("common_http_protocol_options", [&](ObjectReader& o) -> Status {
      WG_RETURN_IF_ERROR(o.getDuration("idle_timeout", out.idle_timeout));
      WG_RETURN_IF_ERROR(o.getUint32("max_requests_per_connection", out.max_requests_per_connection, 1));
      WG_RETURN_IF_ERROR(o.unsupported("max_connection_duration", "not implemented yet"));
      WG_RETURN_IF_ERROR(o.unsupported("max_stream_duration", "not implemented yet"));
      WG_RETURN_IF_ERROR(o.unsupported("max_headers_count", "not implemented for upstream responses"));
      return o.unsupported("headers_with_underscores_action", "not implemented for upstream responses");
    }));
    WG_RETURN_IF_ERROR(r.getDuration("dns_refresh_rate", out.dns_refresh_rate));
    WG_RETURN_IF_ERROR(positive(r, "dns_refresh_rate", out.dns_refresh_rate));
    using Family = Cluster::DnsLookupFamily;
    WG_RETURN_IF_ERROR(r.getEnum<Family>("dns_lookup_family", out.dns_lookup_family,
                                         {{"AUTO", Family::Auto},
                                          {"V4_ONLY", Family::V4Only},
                                          {"V6_ONLY", Family::V6Only},
                                          {"V4_PREFERRED", Family::V4Preferred},
                                          {"ALL", Family::All}}));
    WG_RETURN_IF_ERROR(r.getUint32("per_connection_buffer_limit_bytes", out.per_connection_buffer_limit_bytes));
    return okStatus();
  });
}

} // namespace wasmgate::config::detail
