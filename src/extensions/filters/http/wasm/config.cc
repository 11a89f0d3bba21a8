// envoy.filters.http.wasm factory: loads and validates the plugin at config time; per stream,
// the worker's instance of the plugin gets a new stream context.

#include "common/logger.h"
#include "extensions/common/wasm/plugin_config.h"
#include "extensions/common/wasm/wasm_runtime.h"
#include "extensions/filters/http/wasm/wasm_filter.h"
#include "extensions/registry.h"
#include "http/conn_manager.h"

namespace wasmgate::extensions {
namespace {

// Fail closed when no VM could be created on this worker: every request gets 503.
class FailClosedFilter : public http::StreamDecoderFilter {
public:
  http::FilterHeadersStatus decodeHeaders(http::HeaderMap&, bool) override {
    callbacks_->sendLocalReply(503, "", nullptr, "wasm_fail_stream");
    return http::FilterHeadersStatus::StopIteration;
  }
  http::FilterDataStatus decodeData(Buffer&, bool) override { return http::FilterDataStatus::StopIterationNoBuffer; }
  http::FilterTrailersStatus decodeTrailers(http::HeaderMap&) override { return http::FilterTrailersStatus::StopIteration; }
  void setDecoderFilterCallbacks(http::StreamDecoderFilterCallbacks& cb) override { callbacks_ = &cb; }

private:
  http::StreamDecoderFilterCallbacks* callbacks_ = nullptr;
};

class WasmFilterFactory : public HttpFilterFactory {
public:
  std::vector<std::string> names() const override { return {"envoy.filters.http.wasm"}; }
  std::vector<std::string> typeUrls() const override {
    return {"type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"};
  }

  Result<http::FilterFactoryCb> createFilterFactory(const config::HttpFilterConfig& cfg,
                                                    FactoryContext& ctx) override {
    // The filter chain holds the plugin: when a reload replaces the chain and its last
    // connection closes, the workers release their instances of it.
    auto loaded = wasm::loadPluginForFilterChain(cfg.typed_config, cfg.typed_config_path, ctx.stats,
                                                 ctx.worker_initializers);
    if (!loaded.ok())
      return loaded.status();
    wasm::PluginHandleSharedPtr handle = *loaded;
    return http::FilterFactoryCb([handle](http::FilterChainFactoryCallbacks& cb) {
      const wasm::PluginSharedPtr& p = handle->plugin();
      auto tlp = wasm::getOrCreateThreadLocalPlugin(p, {&cb.dispatcher(), &cb.clusterManager()});
      if (!tlp.ok()) {
        WG_ERROR("wasm plugin '{}': cannot start on this worker: {}", p->log_name, tlp.error());
        if (p->config.failure_policy != wasm::FailurePolicy::FailOpen)
          cb.addStreamDecoderFilter(std::make_shared<FailClosedFilter>());
        return;
      }
      uint32_t id = (*tlp)->instance().allocateContextId();
      auto filter = std::make_shared<wasm::WasmFilter>(*tlp, id);
      cb.addStreamFilter(filter);
      cb.addAccessLogHandler(filter);
    });
  }
};

RegisterHttpFilter<WasmFilterFactory> register_wasm;

} // namespace
} // namespace wasmgate::extensions
