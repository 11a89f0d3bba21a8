// Listeners, their network filters, and the HTTP connection manager.

#include "config/loader_internal.h"

namespace wasmgate::config::detail {
namespace {

constexpr std::string_view kHcmName = "envoy.filters.network.http_connection_manager";
constexpr std::string_view kHcmType =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
constexpr std::string_view kTcpProxyName = "envoy.filters.network.tcp_proxy";
constexpr std::string_view kTcpProxyType = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
constexpr std::string_view kWasmName = "envoy.filters.network.wasm";
constexpr std::string_view kWasmType = "envoy.extensions.filters.network.wasm.v3.Wasm";
constexpr std::string_view kRouterName = "envoy.filters.http.router";
constexpr std::string_view kRouterType = "envoy.extensions.filters.http.router.v3.Router";

Status typeMismatch(const TypedConfig& tc, const std::string& typed_config_path,
                    const std::string& name, std::string_view expected) {
  return fieldError(joinPath(typed_config_path, "@type"),
                    "'" + tc.type_url + "' does not match filter '" + name +
                        "' (expected type.googleapis.com/" + std::string(expected) + ")");
}

Status parseHttpFilter(const YAML::Node& node, const std::string& path, HttpFilterConfig& out) {
  return readObject(node, path, [&](ObjectReader& r) -> Status {
    out.path = path;
    WG_RETURN_IF_ERROR(r.requireString("name", out.name));
    WG_RETURN_IF_ERROR(r.unsupported("config", "the v2 'config' field was removed; use typed_config"));
    WG_RETURN_IF_ERROR(r.unsupported("config_discovery", "dynamic filter config is not implemented"));
    const std::string tc_path = r.pathOf("typed_config");
    auto tc = parseTypedConfig(r.take("typed_config"), tc_path);
    if (!tc.ok())
      return tc.status();
    out.type_url = tc->type_url;
    out.typed_config = tc->body;
    out.typed_config_path = tc->body_path;
    WG_RETURN_IF_ERROR(r.getBool("is_optional", out.is_optional));
    WG_RETURN_IF_ERROR(r.getBool("disabled", out.disabled));
    // The filter registry checks the other names; the router is special because the
    // connection manager depends on it being last.
    if (out.name == "envoy.router")
      out.name = std::string(kRouterName); // pre-v3 spelling; registries see one name
    if (out.name == kRouterName) {
      if (!typeMatches(out.type_url, kRouterType))
        return typeMismatch(*tc, tc_path, out.name, kRouterType);
      if (out.disabled)
        return fieldError(r.pathOf("disabled"), "the router filter cannot be disabled");
    }
    return okStatus();
  });
}

Status parseHcmBody(ObjectReader& r, LoadContext& ctx, HttpConnectionManagerConfig& out) {
  WG_RETURN_IF_ERROR(r.requireString("stat_prefix", out.stat_prefix));
  using Codec = HttpConnectionManagerConfig::CodecType;
  WG_RETURN_IF_ERROR(r.getEnum<Codec>("codec_type", out.codec_type,
                                      {{"AUTO", Codec::Auto},
                                       {"HTTP1", Codec::Http1},
                                       {"HTTP2", std::nullopt, "HTTP/2 is not implemented yet"},
                                       {"HTTP3", std::nullopt, "HTTP/3 is not implemented yet"}}));
  WG_RETURN_IF_ERROR(r.unsupported("rds", "dynamic route discovery is not implemented; use route_config"));
  WG_RETURN_IF_ERROR(r.unsupported("scoped_routes", "scoped routes are not implemented; use route_config"));
  if (!r.has("route_config"))
    return r.missing("route_config");
  WG_RETURN_IF_ERROR(r.getObject("route_config", [&](ObjectReader& rc) {
    return parseRouteConfiguration(rc, ctx, out.route_config);
  }));

  WG_RETURN_IF_ERROR(r.getList("http_filters", [&](const YAML::Node& e, const std::string& path, size_t) {
    HttpFilterConfig filter;
    WG_RETURN_IF_ERROR(parseHttpFilter(e, path, filter));
    out.http_filters.push_back(std::move(filter));
    return okStatus();
  }));
  const std::string filters_path = r.pathOf("http_filters");
  for (size_t i = 0; i + 1 < out.http_filters.size(); ++i)
    if (out.http_filters[i].name == kRouterName)
      return fieldError(joinPath(indexPath(filters_path, i), "name"),
                        std::string(kRouterName) + " must be the last HTTP filter");
  if (out.http_filters.empty() || out.http_filters.back().name != kRouterName)
    return fieldError(filters_path, "the last HTTP filter must be " + std::string(kRouterName));

  WG_RETURN_IF_ERROR(r.getList("access_log", [&](const YAML::Node& e, const std::string& path, size_t) {
    AccessLogConfig log;
    WG_RETURN_IF_ERROR(parseAccessLog(e, path, log));
    out.access_log.push_back(std::move(log));
    return okStatus();
  }));
  WG_RETURN_IF_ERROR(r.getDuration("stream_idle_timeout", out.stream_idle_timeout));
  WG_RETURN_IF_ERROR(r.getDuration("request_timeout", out.request_timeout));
  WG_RETURN_IF_ERROR(r.getDuration("request_headers_timeout", out.request_headers_timeout));
  WG_RETURN_IF_ERROR(r.getDuration("drain_timeout", out.drain_timeout));
  WG_RETURN_IF_ERROR(r.getObject("common_http_protocol_options", [&](ObjectReader& o) -> Status {
    WG_RETURN_IF_ERROR(o.getDuration("idle_timeout", out.idle_timeout));
    WG_RETURN_IF_ERROR(o.getUint32("max_headers_count", out.max_headers_count, 1));
    enum class Underscores { Allow };
    Underscores underscores = Underscores::Allow;
    WG_RETURN_IF_ERROR(o.getEnum<Underscores>(
        "headers_with_underscores_action", underscores,
        {{"ALLOW", Underscores::Allow},
         {"REJECT_REQUEST", std::nullopt, "only ALLOW is implemented"},
         {"DROP_HEADER", std::nullopt, "only ALLOW is implemented"}}));
    WG_RETURN_IF_ERROR(o.unsupported("max_connection_duration", "not implemented yet"));
    WG_RETURN_IF_ERROR(o.unsupported("max_stream_duration", "not implemented yet"));
    return o.unsupported("max_requests_per_connection", "not implemented for downstream connections");
  }));
  WG_RETURN_IF_ERROR(r.getObject("http_protocol_options", [&](ObjectReader& o) -> Status {
    WG_RETURN_IF_ERROR(o.getBool("accept_http_10", out.accept_http_10));
    return o.getString("default_host_for_http_10", out.default_host_for_http_10);
  }));
  WG_RETURN_IF_ERROR(r.unsupported("http2_protocol_options", "HTTP/2 is not implemented yet"));
  WG_RETURN_IF_ERROR(r.unsupported("http3_protocol_options", "HTTP/3 is not implemented yet"));
  WG_RETURN_IF_ERROR(r.unsupported("upgrade_configs", "protocol upgrades (WebSocket) are not implemented yet"));
  WG_RETURN_IF_ERROR(r.unsupported("tracing", "tracing is not implemented"));
  WG_RETURN_IF_ERROR(r.unsupported("forward_client_cert_details", "TLS is not implemented yet"));
  WG_RETURN_IF_ERROR(r.unsupported("set_current_client_cert_details", "TLS is not implemented yet"));
  // Real Envoy fields that change behavior and have no implementation yet: a precise error
  // beats "unknown field".
  for (std::string_view key : {"local_reply_config", "internal_address_config", "server_header_transformation",
                               "delayed_close_timeout", "preserve_external_request_id",
                               "always_set_request_id_in_response", "add_user_agent",
                               "path_with_escaped_slashes_action", "strip_matching_host_port",
                               "strip_any_host_port"})
    WG_RETURN_IF_ERROR(r.unsupported(key, "not implemented yet"));
  WG_RETURN_IF_ERROR(r.getBool("use_remote_address", out.use_remote_address));
  WG_RETURN_IF_ERROR(r.getBool("generate_request_id", out.generate_request_id));
  WG_RETURN_IF_ERROR(r.getUint32("xff_num_trusted_hops", out.xff_num_trusted_hops));
  if (out.xff_num_trusted_hops != 0)
    return fieldError(r.pathOf("xff_num_trusted_hops"),
                      "unsupported value " + std::to_string(out.xff_num_trusted_hops) +
                          " (trusting x-forwarded-for hops is not implemented yet)");
  WG_RETURN_IF_ERROR(r.getString("server_name", out.server_name));
  WG_RETURN_IF_ERROR(r.getBool("skip_xff_append", out.skip_xff_append));
  WG_RETURN_IF_ERROR(r.getUint32("max_request_headers_kb", out.max_request_headers_kb, 1, 8192));
  WG_RETURN_IF_ERROR(r.getBool("normalize_path", out.normalize_path));
  WG_RETURN_IF_ERROR(r.getBool("merge_slashes", out.merge_slashes));
  return okStatus();
}

Status parseTcpProxy(const TypedConfig& tc, LoadContext& ctx, TcpProxyConfig& out) {
  return readObject(tc.body, tc.body_path, [&](ObjectReader& r) -> Status {
    WG_RETURN_IF_ERROR(r.requireString("stat_prefix", out.stat_prefix));
    WG_RETURN_IF_ERROR(r.unsupported("weighted_clusters", "use cluster"));
    WG_RETURN_IF_ERROR(r.requireString("cluster", out.cluster));
    ctx.cluster_refs.push_back({out.cluster, r.pathOf("cluster")});
    WG_RETURN_IF_ERROR(r.getDuration("idle_timeout", out.idle_timeout));
    return r.unsupported("access_log", "tcp_proxy access logs are not implemented yet");
  });
}

Status parseNetworkFilter(const YAML::Node& node, const std::string& path, LoadContext& ctx,
                          NetworkFilterConfig& out) {
  return readObject(node, path, [&](ObjectReader& r) -> Status {
    out.path = path;
    WG_RETURN_IF_ERROR(r.requireString("name", out.name));
    WG_RETURN_IF_ERROR(r.unsupported("config", "the v2 'config' field was removed; use typed_config"));
    WG_RETURN_IF_ERROR(r.unsupported("config_discovery", "dynamic filter config is not implemented"));
    // Pre-v3 names are rewritten to the v3 ones so later code only sees one spelling.
    if (out.name == "envoy.http_connection_manager")
      out.name = std::string(kHcmName);
    else if (out.name == "envoy.tcp_proxy")
      out.name = std::string(kTcpProxyName);
    std::string_view expected;
    if (out.name == kHcmName)
      expected = kHcmType;
    else if (out.name == kTcpProxyName)
      expected = kTcpProxyType;
    else if (out.name == kWasmName)
      expected = kWasmType;
    else
      return fieldError(r.pathOf("name"), "unsupported network filter '" + out.name + "'");

    const std::string tc_path = r.pathOf("typed_config");
    if (!r.has("typed_config"))
      return r.missing("typed_config");
    auto tc = parseTypedConfig(r.take("typed_config"), tc_path);
    if (!tc.ok())
      return tc.status();
    if (!typeMatches(tc->type_url, expected))
      return typeMismatch(*tc, tc_path, out.name, expected);
    out.type_url = tc->type_url;
    out.typed_config = tc->body;
    out.typed_config_path = tc->body_path;
    if (expected == kHcmType) {
      HttpConnectionManagerConfig hcm;
      WG_RETURN_IF_ERROR(readObject(tc->body, tc->body_path,
                                    [&](ObjectReader& b) { return parseHcmBody(b, ctx, hcm); }));
      out.http_connection_manager = std::move(hcm);
    } else if (expected == kTcpProxyType) {
      TcpProxyConfig tcp;
      WG_RETURN_IF_ERROR(parseTcpProxy(*tc, ctx, tcp));
      out.tcp_proxy = std::move(tcp);
    }
    // The wasm filter's body is validated by the wasm extension.
    return okStatus();
  });
}

Status parseFilterChain(const YAML::Node& node, const std::string& path, LoadContext& ctx,
                        FilterChain& out) {
  return readObject(node, path, [&](ObjectReader& r) -> Status {
    WG_RETURN_IF_ERROR(r.unsupported("filter_chain_match", "filter chain matching is not implemented"));
    WG_RETURN_IF_ERROR(r.unsupported("transport_socket", "TLS is not implemented yet"));
    // The name only keys filter_chain_matcher and stats, neither of which exists here.
    r.ignore("name");
    if (!r.has("filters"))
      return r.missing("filters");
    WG_RETURN_IF_ERROR(r.getList("filters", [&](const YAML::Node& e, const std::string& fpath, size_t) {
      NetworkFilterConfig filter;
      WG_RETURN_IF_ERROR(parseNetworkFilter(e, fpath, ctx, filter));
      out.filters.push_back(std::move(filter));
      return okStatus();
    }));
    if (out.filters.empty())
      return fieldError(r.pathOf("filters"), "at least one filter is required");
    // HCM and tcp_proxy consume the connection; nothing after them would ever run.
    for (size_t i = 0; i + 1 < out.filters.size(); ++i) {
      const auto& f = out.filters[i];
      if (f.http_connection_manager || f.tcp_proxy)
        return fieldError(joinPath(f.path, "name"),
                          "'" + f.name + "' is a terminal filter and must be the last filter in the chain");
    }
    return okStatus();
  });
}

} // namespace

Status parseListener(const YAML::Node& node, const std::string& path, size_t index,
                     LoadContext& ctx, Listener& out) {
  return readObject(node, path, [&](ObjectReader& r) -> Status {
    out.name = "listener_" + std::to_string(index);
    WG_RETURN_IF_ERROR(r.getString("name", out.name));
    if (!r.has("address"))
      return r.missing("address");
    WG_RETURN_IF_ERROR(parseAddress(r.take("address"), r.pathOf("address"),
                                    {.need_ip = true, .need_port = false, .who = "listener"}, out.address));
    WG_RETURN_IF_ERROR(r.unsupported("default_filter_chain", "filter chain matching is not implemented"));
    WG_RETURN_IF_ERROR(r.unsupported("filter_chain_matcher", "filter chain matching is not implemented"));
    if (!r.has("filter_chains"))
      return r.missing("filter_chains");
    WG_RETURN_IF_ERROR(r.getList("filter_chains", [&](const YAML::Node& e, const std::string& cpath, size_t i) {
      // Without filter_chain_match every chain matches everything, which Envoy rejects too.
      if (i > 0)
        return fieldError(cpath, "only one filter chain is supported (filter_chain_match is not implemented)");
      FilterChain chain;
      WG_RETURN_IF_ERROR(parseFilterChain(e, cpath, ctx, chain));
      out.filter_chains.push_back(std::move(chain));
      return okStatus();
    }));
    if (out.filter_chains.empty())
      return fieldError(r.pathOf("filter_chains"), "at least one filter chain is required");
    WG_RETURN_IF_ERROR(r.getUint32("per_connection_buffer_limit_bytes", out.per_connection_buffer_limit_bytes));
    WG_RETURN_IF_ERROR(r.getList("listener_filters", [&](const YAML::Node&, const std::string& lpath, size_t) {
      return fieldError(lpath, "unsupported (listener filters are not implemented)");
    }));
    // Only a hint for tracing and stats about whether traffic is inbound or outbound.
    r.ignore("traffic_direction");
    // Only renames the listener's stats.
    r.ignore("stat_prefix");
    return okStatus();
  });
}

} // namespace wasmgate::config::detail
