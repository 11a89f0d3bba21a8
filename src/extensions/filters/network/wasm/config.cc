// envoy.filters.network.wasm factory: loads and validates the plugin at config time (like the
// HTTP filter); per connection, the worker's instance gets a new stream context.

#include "common/logger.h"
#include "extensions/common/wasm/plugin_config.h"
#include "extensions/common/wasm/wasm_runtime.h"
#include "extensions/filters/network/wasm/wasm_network_filter.h"
#include "extensions/registry.h"
#include "network/active_connection.h"

namespace wasmgate::extensions {
namespace {

// No VM on this worker and the policy is not fail-open: every connection is closed.
class CloseConnectionFilter : public tcp::NetworkFilter {
public:
  void setCallbacks(tcp::NetworkFilterCallbacks& cb) override { callbacks_ = &cb; }
  tcp::FilterStatus onNewConnection() override {
    callbacks_->closeDownstream();
    return tcp::FilterStatus::StopIteration;
  }
  tcp::FilterStatus onDownstreamData(Buffer&, bool) override { return tcp::FilterStatus::StopIteration; }
  tcp::FilterStatus onUpstreamData(Buffer&, bool) override { return tcp::FilterStatus::StopIteration; }

private:
  tcp::NetworkFilterCallbacks* callbacks_ = nullptr;
};

class WasmNetworkFilterFactory : public NetworkFilterFactory {
public:
  std::vector<std::string> names() const override { return {"envoy.filters.network.wasm"}; }

  Result<tcp::NetworkFilterFactoryCb> createFilterFactory(const config::NetworkFilterConfig& cfg,
                                                          FactoryContext& ctx) override {
    // The filter chain holds the plugin: when a reload replaces the chain and its last
    // connection closes, the workers release their instances of it.
    auto loaded = wasm::loadPluginForFilterChain(cfg.typed_config, cfg.typed_config_path, ctx.stats,
                                                 ctx.worker_initializers);
    if (!loaded.ok())
      return loaded.status();
    wasm::PluginHandleSharedPtr handle = *loaded;
    return tcp::NetworkFilterFactoryCb([handle](tcp::NetworkFilterChainCallbacks& cb) {
      const wasm::PluginSharedPtr& p = handle->plugin();
      auto tlp = wasm::getOrCreateThreadLocalPlugin(p, {&cb.dispatcher(), &cb.clusterManager()});
      if (!tlp.ok()) {
        WG_ERROR("wasm plugin '{}': cannot start on this worker: {}", p->log_name, tlp.error());
        if (p->config.failure_policy != wasm::FailurePolicy::FailOpen)
          cb.addFilter(std::make_unique<CloseConnectionFilter>());
        return;
      }
      uint32_t id = (*tlp)->instance().allocateContextId();
      cb.addFilter(std::make_unique<wasm::WasmNetworkFilter>(*tlp, id));
    });
  }
};

RegisterNetworkFilter<WasmNetworkFilterFactory> register_network_wasm;

} // namespace
} // namespace wasmgate::extensions
