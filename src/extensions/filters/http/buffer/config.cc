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
    uint32_t max = 0;
    Status status = config::readObject(cfg.typed_config, cfg.typed_config_path, [&](config::ObjectReader& r) {
      if (!r.has("max_request_bytes"))
        return r.missing("max_request_bytes");
      return r.getUint32("max_request_bytes", max, 1);
    });
    if (!status.ok())
      return status;
    return http::FilterFactoryCb([max](http::FilterChainFactoryCallbacks& cb) {
      cb.addStreamDecoderFilter(std::make_shared<BufferFilter>(max));
    });
  }
};

RegisterHttpFilter<BufferFilterFactory> register_buffer;

} // namespace
} // namespace wasmgate::extensions
