// envoy.filters.http.router: the terminal filter that proxies to the route's cluster.

#include "extensions/registry.h"
#include "router/router_filter.h"

namespace wasmgate::extensions {
namespace {

class RouterFilterFactory : public HttpFilterFactory {
public:
  std::vector<std::string> names() const override {
    return {"envoy.filters.http.router", "envoy.router"};
  }
  std::vector<std::string> typeUrls() const override {
    return {"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"};
  }
  bool isTerminal() const override { return true; }

  Result<http::FilterFactoryCb> createFilterFactory(const config::HttpFilterConfig& cfg,
                                                    FactoryContext&) override {
    // Router options (dynamic_stats, start_child_span, ...) change nothing we implement;
    // anything set there is reported rather than silently ignored.
    if (cfg.typed_config && cfg.typed_config.IsMap()) {
      for (const auto& kv : cfg.typed_config) {
        std::string key = kv.first.as<std::string>();
        if (key == "dynamic_stats" || key == "suppress_envoy_headers")
          continue;
        return Status::error(cfg.path + ".typed_config." + key + ": unsupported router option");
      }
    }
    return http::FilterFactoryCb([](http::FilterChainFactoryCallbacks& cb) {
      cb.addStreamDecoderFilter(std::make_shared<router::RouterFilter>(cb.clusterManager()));
    });
  }
};

RegisterHttpFilter<RouterFilterFactory> register_router;

} // namespace
} // namespace wasmgate::extensions
