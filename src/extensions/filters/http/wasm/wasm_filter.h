#pragma once

// envoy.filters.http.wasm: one Proxy-Wasm stream context per HTTP stream. Filter callbacks
// become proxy_on_request_* / proxy_on_response_* calls; host functions reach the stream
// through the HostContext methods below. Stream control the plugin asks for during a callback
// (continue, local reply, close) takes effect when that callback returns, as in Envoy.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "extensions/common/wasm/wasm_runtime.h"
#include "http/filter.h"

namespace wasmgate::extensions::wasm {

class WasmFilter : public http::StreamFilter,
                   public http::AccessLogHandler,
                   public abi::HostContext,
                   public ForeignFunctionTarget {
public:
  WasmFilter(std::shared_ptr<ThreadLocalPlugin> plugin, uint32_t context_id);
  ~WasmFilter() override;

  // Decoder side
  http::FilterHeadersStatus decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  http::FilterDataStatus decodeData(Buffer& data, bool end_stream) override;
  http::FilterTrailersStatus decodeTrailers(http::HeaderMap& trailers) override;
  void setDecoderFilterCallbacks(http::StreamDecoderFilterCallbacks& cb) override { decoder_ = &cb; }
  // Encoder side
  http::FilterHeadersStatus encodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  http::FilterDataStatus encodeData(Buffer& data, bool end_stream) override;
  http::FilterTrailersStatus encodeTrailers(http::HeaderMap& trailers) override;
  void setEncoderFilterCallbacks(http::StreamEncoderFilterCallbacks& cb) override { encoder_ = &cb; }
  void onDestroy() override;
  // proxy_on_log (Envoy runs it from the access-log phase, before done/delete)
  void log(const http::StreamInfo& info) override;

  // abi::HostContext
  uint32_t contextId() const override { return id_; }
  abi::HostContext& rootContext() override;
  void log(uint32_t level, std::string_view message) override;
  uint32_t logLevel() const override;
  abi::MapRef headerMap(abi::MapType type) override;
  void onHeaderMapModified(abi::MapType type) override;
  http::HeaderMap* createTrailers(abi::MapType type) override;
  abi::BufferRef buffer(abi::BufferType type) override;
  abi::WasmResult continueStream(abi::StreamType type) override;
  abi::WasmResult closeStream(abi::StreamType type) override;
  abi::WasmResult sendLocalResponse(uint32_t status, std::string_view details, std::string_view body,
                                    std::vector<std::pair<std::string, std::string>> headers,
                                    int32_t grpc_status) override;
  abi::WasmResult getProperty(std::string_view path, std::string& value) override;
  abi::WasmResult setProperty(std::string_view path, std::string_view value) override;
  abi::WasmResult clearRouteCache() override;
  abi::WasmResult getSharedData(std::string_view key, std::string& value, uint32_t& cas) override {
    return plugin_.root().getSharedData(key, value, cas);
  }
  abi::WasmResult setSharedData(std::string_view key, std::string_view value, uint32_t cas) override {
    return plugin_.root().setSharedData(key, value, cas);
  }
  abi::WasmResult resolveSharedQueue(std::string_view vm_id, std::string_view name,
                                     uint32_t& token) override {
    return plugin_.root().resolveSharedQueue(vm_id, name, token);
  }
  abi::WasmResult enqueueSharedQueue(uint32_t token, std::string_view value) override {
    return plugin_.root().enqueueSharedQueue(token, value);
  }
  abi::WasmResult dequeueSharedQueue(uint32_t token, std::string& value) override {
    return plugin_.root().dequeueSharedQueue(token, value);
  }
  abi::WasmResult callForeignFunction(std::string_view name, std::string_view arguments,
                                      std::string& result) override {
    return ::wasmgate::extensions::wasm::callForeignFunction(*this, name, arguments, result);
  }
  abi::WasmResult foreignClearRouteCache() override { return clearRouteCache(); }
  abi::WasmResult foreignSetFilterState(std::string_view key, std::string_view value) override;
  abi::WasmResult foreignDeclareProperty(std::string_view name, bool readonly) override {
    return plugin_.root().foreignDeclareProperty(name, readonly);
  }
  abi::WasmResult defineMetric(uint32_t type, std::string_view name, uint32_t& id) override {
    return plugin_.root().defineMetric(type, name, id);
  }
  abi::WasmResult incrementMetric(uint32_t id, int64_t offset) override {
    return plugin_.root().incrementMetric(id, offset);
  }
  abi::WasmResult recordMetric(uint32_t id, uint64_t value) override {
    return plugin_.root().recordMetric(id, value);
  }
  abi::WasmResult getMetric(uint32_t id, uint64_t& value) override {
    return plugin_.root().getMetric(id, value);
  }

private:
  enum class Phase { None, RequestHeaders, RequestBody, RequestTrailers, ResponseHeaders, ResponseBody,
                     ResponseTrailers, Log };
  // Creates the context in the VM on first use; false when the plugin cannot run.
  bool ensureCreated();
  static const char* phaseCallback(Phase phase);
  // After a guest callback: failure handling and the deferred actions.
  bool afterCall(const Result<abi::FilterCallResult>& r, uint32_t& status);
  void failStream(std::string_view where, const std::string& why);
  void runDeferred();
  // Stream actions asked for outside this stream's own callbacks (from a tick or a callout
  // response, through proxy_set_effective_context) run when the guest call returns.
  void afterGuestCall(void (*action)(WasmFilter&));
  http::StreamFilterCallbacks& anyCallbacks();

  std::shared_ptr<ThreadLocalPlugin> keep_alive_; // the VM outlives its streams
  ThreadLocalPlugin& plugin_;
  uint32_t id_;
  http::StreamDecoderFilterCallbacks* decoder_ = nullptr;
  http::StreamEncoderFilterCallbacks* encoder_ = nullptr;
  bool created_ = false;
  bool failed_ = false;      // this stream gave up on the plugin
  bool skip_ = false;        // fail open: the plugin is bypassed for this stream
  bool finished_ = false;    // done/delete ran
  bool logged_ = false;
  Phase phase_ = Phase::None;

  // What the current (or last) callback may see.
  http::HeaderMap* request_headers_ = nullptr;
  http::HeaderMap* request_trailers_ = nullptr;
  http::HeaderMap* response_headers_ = nullptr;
  http::HeaderMap* response_trailers_ = nullptr;
  Buffer* body_ = nullptr;
  bool body_end_of_stream_ = false;
  const http::StreamInfo* log_info_ = nullptr;

  // Deferred stream control.
  bool continue_request_ = false;
  bool continue_response_ = false;
  bool close_stream_ = false;
  struct LocalReply {
    uint32_t status;
    std::string details;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::optional<LocalReply> local_reply_;
  bool request_stopped_ = false;
  bool response_stopped_ = false;
  std::shared_ptr<char> alive_; // created on first afterGuestCall; reset when the stream ends
};

} // namespace wasmgate::extensions::wasm
