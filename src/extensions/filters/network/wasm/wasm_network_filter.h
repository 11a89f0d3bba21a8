#pragma once

// envoy.filters.network.wasm: one Proxy-Wasm stream context per TCP connection in front of
// tcp_proxy (ABI doc 4.4): proxy_on_context_create + proxy_on_new_connection at accept,
// proxy_on_downstream_data (client bytes, buffer type 2) and proxy_on_upstream_data (upstream
// bytes, buffer type 3) with the bytes readable and writable, the close callbacks with the
// peer type, then proxy_on_done, proxy_on_log, proxy_on_delete once, after the downstream
// close. A non-zero result pauses that direction; proxy_continue_stream(DOWNSTREAM) resumes
// the read path (UPSTREAM is Unimplemented, as in Envoy); proxy_close_stream closes a side.

#include <memory>

#include "extensions/common/wasm/wasm_runtime.h"
#include "tcp/network_filter.h"

namespace wasmgate::extensions::wasm {

class WasmNetworkFilter : public tcp::NetworkFilter,
                          public abi::HostContext,
                          public ForeignFunctionTarget {
public:
  WasmNetworkFilter(std::shared_ptr<ThreadLocalPlugin> plugin, uint32_t context_id);
  ~WasmNetworkFilter() override;

  // tcp::NetworkFilter
  void setCallbacks(tcp::NetworkFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  tcp::FilterStatus onNewConnection() override;
  tcp::FilterStatus onDownstreamData(Buffer& data, bool end_stream) override;
  tcp::FilterStatus onUpstreamData(Buffer& data, bool end_stream) override;
  void onDownstreamClose(tcp::PeerType peer) override;
  void onUpstreamClose(tcp::PeerType peer) override;
  void onDestroy() override;

  // abi::HostContext
  uint32_t contextId() const override { return id_; }
  abi::HostContext& rootContext() override { return plugin_.root(); }
  void log(uint32_t level, std::string_view message) override;
  uint32_t logLevel() const override;
  abi::BufferRef buffer(abi::BufferType type) override;
  abi::MapRef headerMap(abi::MapType type) override;
  abi::WasmResult continueStream(abi::StreamType type) override;
  abi::WasmResult closeStream(abi::StreamType type) override;
  abi::WasmResult getProperty(std::string_view path, std::string& value) override;
  // Root services, as for HTTP streams.
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
  abi::WasmResult callForeignFunction(std::string_view name, std::string_view arguments,
                                      std::string& result) override {
    return ::wasmgate::extensions::wasm::callForeignFunction(*this, name, arguments, result);
  }
  abi::WasmResult foreignClearRouteCache() override { return abi::WasmResult::NotFound; }
  abi::WasmResult foreignSetFilterState(std::string_view, std::string_view) override {
    return abi::WasmResult::NotFound;
  }
  abi::WasmResult foreignDeclareProperty(std::string_view name, bool readonly) override {
    return plugin_.root().foreignDeclareProperty(name, readonly);
  }

private:
  enum class Phase { None, NewConnection, Downstream, Upstream };
  bool ensureCreated();
  tcp::FilterStatus fail(std::string_view where, const std::string& why);
  void finish();
  // Stream actions asked for outside this connection's callbacks run after the guest call.
  void afterGuestCall(void (*action)(WasmNetworkFilter&));

  std::shared_ptr<ThreadLocalPlugin> keep_alive_;
  ThreadLocalPlugin& plugin_;
  uint32_t id_;
  tcp::NetworkFilterCallbacks* callbacks_ = nullptr;
  bool created_ = false;
  bool failed_ = false;
  bool skip_ = false; // fail open
  bool finished_ = false;
  bool read_paused_ = false;
  bool continue_requested_ = false;
  Phase phase_ = Phase::None;
  Buffer* data_ = nullptr; // the bytes of the current data callback
  std::shared_ptr<char> alive_;
};

} // namespace wasmgate::extensions::wasm
