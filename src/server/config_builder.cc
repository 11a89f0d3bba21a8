#include "server/config_builder.h"

#include <algorithm>

#include "config/loader_internal.h"
#include "extensions/registry.h"
#include "router/route_table.h"

namespace wasmgate::server {

namespace {

std::string listenerStatPrefix(const network::Address& a) {
  // Envoy names listener stats by address: listener.127.0.0.1_10000.
  return "listener." + a.ip + "_" + std::to_string(a.port) + ".";
}

Result<http::HcmConfigConstSharedPtr> buildHcm(const config::HttpConnectionManagerConfig& c,
                                               const std::string& path, const config::Listener& l,
                                               stats::Store& store, upstream::ClusterManager* cm,
                                               bool validate_only) {
  auto hcm = std::make_shared<http::HcmConfig>();
  hcm->cfg = c;
  auto routes = router::RouteTable::create(c.route_config, path + ".route_config");
  if (!routes.ok())
    return routes.status();
  hcm->route_table = *routes;
  extensions::FactoryContext ctx{store, cm, c.stat_prefix, validate_only, &hcm->worker_initializers};
  for (size_t i = 0; i < c.http_filters.size(); ++i) {
    const auto& f = c.http_filters[i];
    std::string fpath = f.path.empty() ? path + ".http_filters[" + std::to_string(i) + "]" : f.path;
    if (f.disabled)
      continue;
    extensions::HttpFilterFactory* factory = extensions::findHttpFilterFactory(f.name);
    if (factory == nullptr) {
      if (f.is_optional)
        continue;
      std::string known;
      for (const auto& n : extensions::registeredHttpFilterNames())
        known += (known.empty() ? "" : ", ") + n;
      return Status::error(fpath + ".name: unsupported HTTP filter '" + f.name + "' (this build has: " +
                           known + ")");
    }
    // Compare message names: Any URLs may use any host before the last '/'.
    using config::detail::messageName;
    auto types = factory->typeUrls();
    if (!f.type_url.empty() && !types.empty() &&
        std::none_of(types.begin(), types.end(),
                     [&](const std::string& t) { return messageName(t) == messageName(f.type_url); }))
      return Status::error(fpath + ".typed_config: type '" + f.type_url + "' does not match filter '" +
                           f.name + "' (expected " + types[0] + ")");
    config::HttpFilterConfig fc = f;
    fc.path = fpath;
    auto cb = factory->createFilterFactory(fc, ctx);
    if (!cb.ok())
      return cb.status();
    hcm->filter_factories.push_back(std::move(*cb));
    if (factory->isTerminal() && i + 1 != c.http_filters.size())
      return Status::error(fpath + ": terminal filter '" + f.name + "' must be the last HTTP filter");
  }
  for (size_t i = 0; i < c.access_log.size(); ++i) {
    auto logger = accesslog::AccessLogger::create(c.access_log[i]);
    if (!logger.ok())
      return Status::error(path + ".access_log[" + std::to_string(i) + "]: " + logger.error());
    hcm->access_logs.push_back(std::move(*logger));
  }
  hcm->stats = std::make_unique<http::HcmStats>(store, "http." + c.stat_prefix + ".");
  hcm->buffer_limit = l.per_connection_buffer_limit_bytes;
  if (c.stream_idle_timeout)
    hcm->stream_idle_timeout = *c.stream_idle_timeout;
  if (c.request_timeout)
    hcm->request_timeout = *c.request_timeout;
  if (c.request_headers_timeout)
    hcm->request_headers_timeout = *c.request_headers_timeout;
  if (c.idle_timeout)
    hcm->idle_timeout = *c.idle_timeout;
  return http::HcmConfigConstSharedPtr(std::move(hcm));
}

// A chain of network filters ending in tcp_proxy.
Result<tcp::TcpProxyConfigConstSharedPtr> buildTcpProxy(const std::vector<config::NetworkFilterConfig>& filters,
                                                        const std::string& fprefix, const config::Listener& l,
                                                        stats::Store& store, upstream::ClusterManager* cm,
                                                        bool validate_only) {
  const config::TcpProxyConfig& tp = *filters.back().tcp_proxy;
  auto out = std::make_shared<tcp::TcpProxyConfig>();
  out->cluster = tp.cluster;
  // Envoy's default idle timeout is one hour; an explicit 0s disables it.
  if (!tp.idle_timeout)
    out->idle_timeout = std::chrono::hours(1);
  else if (tp.idle_timeout->count() > 0)
    out->idle_timeout = *tp.idle_timeout;
  out->stats = std::make_unique<tcp::TcpProxyStats>(store, "tcp." + tp.stat_prefix + ".");
  out->buffer_limit = l.per_connection_buffer_limit_bytes;
  extensions::FactoryContext ctx{store, cm, tp.stat_prefix, validate_only, &out->worker_initializers};
  for (size_t i = 0; i + 1 < filters.size(); ++i) {
    const auto& f = filters[i];
    const std::string fpath = f.path.empty() ? fprefix + std::to_string(i) + "]" : f.path;
    extensions::NetworkFilterFactory* factory = extensions::findNetworkFilterFactory(f.name);
    if (factory == nullptr)
      return Status::error(fpath + ".name: network filter '" + f.name + "' cannot run in front of tcp_proxy");
    config::NetworkFilterConfig fc = f;
    fc.path = fpath;
    auto cb = factory->createFilterFactory(fc, ctx);
    if (!cb.ok())
      return cb.status();
    out->filter_factories.push_back(std::move(*cb));
  }
  return tcp::TcpProxyConfigConstSharedPtr(std::move(out));
}

// What the first build sets up for the whole process: stats tag extractors and bootstrap
// extensions (services with their own threads and loops). A reload does not build them again.
Status buildProcessWide(const config::Bootstrap& bootstrap, stats::Store& store, bool validate_only,
                        Snapshot& snap) {
  for (const auto& tag : bootstrap.stats_tags)
    if (Status s = store.addTagExtractor(tag.tag_name, tag.regex); !s.ok())
      return Status::error(tag.path + ": " + s.message());
  for (const auto& e : bootstrap.bootstrap_extensions) {
    extensions::BootstrapExtensionFactory* factory = extensions::findBootstrapExtensionFactory(e.name);
    if (factory == nullptr) {
      std::string known;
      for (const auto& n : extensions::registeredBootstrapExtensionNames())
        known += (known.empty() ? "" : ", ") + n;
      return Status::error(e.path + ".name: unsupported bootstrap extension '" + e.name +
                           "' (this build has: " + known + ")");
    }
    using config::detail::messageName;
    auto types = factory->typeUrls();
    if (!e.type_url.empty() &&
        std::none_of(types.begin(), types.end(),
                     [&](const std::string& t) { return messageName(t) == messageName(e.type_url); }))
      return Status::error(e.path + ".typed_config: type '" + e.type_url + "' does not match '" +
                           e.name + "' (expected " + types[0] + ")");
    extensions::BootstrapContext ctx{store, validate_only, &snap.main_thread_initializers,
                                     &snap.worker_initializers, &snap.main_thread_finalizers};
    WG_RETURN_IF_ERROR(factory->create(e, ctx));
  }
  return okStatus();
}

} // namespace

Result<SnapshotConstSharedPtr> buildSnapshot(const config::Bootstrap& bootstrap, stats::Store& store,
                                             upstream::ClusterManager* cm, BuildOptions options) {
  const bool validate_only = options.validate_only;
  auto snap = std::make_shared<Snapshot>();
  snap->bootstrap = bootstrap;
  if (options.process_wide)
    WG_RETURN_IF_ERROR(buildProcessWide(bootstrap, store, validate_only, *snap));
  for (size_t li = 0; li < bootstrap.listeners.size(); ++li) {
    const auto& l = bootstrap.listeners[li];
    std::string lpath = "static_resources.listeners[" + std::to_string(li) + "]";
    ListenerRuntime rt;
    rt.name = l.name;
    auto addr = network::parseIpAddress(l.address.address, uint16_t(l.address.port));
    if (!addr.ok())
      return Status::error(lpath + ".address.socket_address.address: " + addr.error());
    rt.address = *addr;
    rt.buffer_limit = l.per_connection_buffer_limit_bytes;
    if (l.filter_chains.size() > 1)
      return Status::error(lpath + ".filter_chains: several filter chains need filter_chain_match, "
                                   "which is not supported yet");
    if (l.filter_chains.empty() || l.filter_chains[0].filters.empty())
      return Status::error(lpath + ".filter_chains: a listener needs one filter chain with a filter");
    const auto& filters = l.filter_chains[0].filters;
    const auto& terminal = filters.back();
    const std::string fprefix = lpath + ".filter_chains[0].filters[";
    if (terminal.http_connection_manager) {
      if (filters.size() > 1)
        return Status::error(fprefix + "0].name: network filters in front of "
                                       "http_connection_manager are not supported yet (only in "
                                       "front of envoy.filters.network.tcp_proxy)");
      std::string fpath = fprefix + std::to_string(filters.size() - 1) + "]";
      auto hcm = buildHcm(*terminal.http_connection_manager, fpath + ".typed_config", l, store, cm,
                          validate_only);
      if (!hcm.ok())
        return hcm.status();
      rt.hcm = *hcm;
    } else if (terminal.tcp_proxy) {
      auto tcp = buildTcpProxy(filters, fprefix, l, store, cm, validate_only);
      if (!tcp.ok())
        return tcp.status();
      rt.tcp = *tcp;
    } else {
      return Status::error(fprefix + std::to_string(filters.size() - 1) + "].name: the last filter of a chain must be "
                           "envoy.filters.network.http_connection_manager or "
                           "envoy.filters.network.tcp_proxy, not '" + terminal.name + "'");
    }
    rt.stats = std::make_shared<http::ListenerStats>(store, listenerStatPrefix(rt.address));
    snap->listeners.push_back(std::move(rt));
  }
  return SnapshotConstSharedPtr(std::move(snap));
}

} // namespace wasmgate::server
