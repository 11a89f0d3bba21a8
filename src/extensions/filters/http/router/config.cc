// envoy.filters.http.router: the terminal filter that proxies to the route's cluster.

#include "config/object_reader.h"
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
                                                    FactoryContext& ctx) override {
    bool suppress = false;
    if (cfg.typed_config && cfg.typed_config.IsMap()) {
      auto status = config::readObject(cfg.typed_config, cfg.typed_config_path, [&](config::ObjectReader& r) {
        WG_RETURN_IF_ERROR(r.getBool("suppress_envoy_headers", suppress));
        // dynamic_stats only adds per-request timing histograms Envoy keeps; harmless.
        r.ignore("dynamic_stats");
        return okStatus();
      });
      if (!status.ok())
        return status;
    }
    auto config = std::make_shared<router::RouterConfig>(ctx.stats, ctx.stat_prefix, suppress);
    return http::FilterFactoryCb([config](http::FilterChainFactoryCallbacks& cb) {
      cb.addStreamDecoderFilter(std::make_shared<router::RouterFilter>(*config, cb.clusterManager()));
    });
  }
};

RegisterHttpFilter<RouterFilterFactory> register_router;

} // namespace
} // namespace wasmgate::extensions
