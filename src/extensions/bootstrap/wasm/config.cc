// envoy.bootstrap.wasm: a Proxy-Wasm plugin that runs as a background service, with no
// listener or stream (envoy.extensions.wasm.v3.WasmService {config, singleton}). Its root
// context starts when the server runs and ticks, owns queues and calls out like any root:
//   singleton: true   one instance, on the main thread;
//   singleton: false  one per worker thread (the default, as in Envoy).
// The plugin is loaded and validated at config time like the filters.

#include "common/logger.h"
#include "config/object_reader.h"
#include "extensions/common/wasm/plugin_config.h"
#include "extensions/common/wasm/wasm_runtime.h"
#include "extensions/registry.h"
#include "network/active_connection.h"

namespace wasmgate::extensions {
namespace {

class WasmServiceFactory : public BootstrapExtensionFactory {
public:
  std::vector<std::string> names() const override { return {"envoy.bootstrap.wasm"}; }
  std::vector<std::string> typeUrls() const override {
    return {"type.googleapis.com/envoy.extensions.wasm.v3.WasmService"};
  }

  Status create(const config::BootstrapExtension& ext, BootstrapContext& ctx) override {
    wasm::PluginConfig pc;
    bool singleton = false;
    Status s = config::readObject(ext.typed_config, ext.typed_config_path, [&](config::ObjectReader& r) -> Status {
      WG_RETURN_IF_ERROR(r.getBool("singleton", singleton));
      if (!r.has("config"))
        return r.missing("config");
      auto parsed = wasm::parsePluginConfig(r.take("config"), r.pathOf("config"));
      if (!parsed.ok())
        return parsed.status();
      pc = std::move(*parsed);
      return okStatus();
    });
    WG_RETURN_IF_ERROR(s);
    auto plugin = wasm::loadPlugin(pc, &ctx.stats);
    if (!plugin.ok())
      return plugin.status();
    wasm::PluginSharedPtr p = *plugin;
    auto start = [p](network::WorkerContext& thread) {
      auto tlp = wasm::getOrCreateThreadLocalPlugin(p, {&thread.dispatcher(), &thread.clusterManager()});
      if (!tlp.ok())
        WG_ERROR("wasm service '{}': cannot start: {}", p->log_name, tlp.error());
    };
    if (singleton) {
      ctx.main_thread_initializers->push_back(start);
      ctx.main_thread_finalizers->push_back([] { wasm::releaseThreadLocalPlugins(); });
    } else {
      ctx.worker_initializers->push_back(start);
    }
    return okStatus();
  }
};

RegisterBootstrapExtension<WasmServiceFactory> register_wasm_service;

} // namespace
} // namespace wasmgate::extensions
