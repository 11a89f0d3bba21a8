// envoy.filters.http.buffer factory.

#include "config/object_reader.h"
#include "extensions/filters/http/buffer/buffer_filter.h"
#include "extensions/registry.h"

namespace wasmgate::extensions {
namespace {

class BufferFilterFactory : public HttpFilterFactory {
public:
  std::vector<std::string> names() const override { return {"envoy.filters.http.buffer", "envoy.buffer"}; }
  std::vector<std::string> typeUrls() const override {
    return {"type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer"};
  }
  Result<http::FilterFactoryCb> createFilterFactory(const config::HttpFilterConfig& cfg,
                                                    FactoryContext&) override {
    std::string path = cfg.path + ".typed_config";
    if (!cfg.typed_config || !cfg.typed_config.IsMap())
      return Status::error(path + ".max_request_bytes: required field is missing");
    uint64_t max = 0;
    bool found = false;
    for (const auto& kv : cfg.typed_config) {
      std::string key = kv.first.as<std::string>();
      if (key != "max_request_bytes")
        return Status::error(path + "." + key + ": unknown field");
      auto v = config::nodeUint(kv.second, path + ".max_request_bytes", 0, UINT32_MAX);
      if (!v.ok())
        return v.status();
      max = *v;
      found = true;
    }
    if (!found)
      return Status::error(path + ".max_request_bytes: required field is missing");
    return http::FilterFactoryCb([max](http::FilterChainFactoryCallbacks& cb) {
      cb.addStreamDecoderFilter(std::make_shared<BufferFilter>(max));
    });
  }
};

RegisterHttpFilter<BufferFilterFactory> register_buffer;

} // namespace
} // namespace wasmgate::extensions
