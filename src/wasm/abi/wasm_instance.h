#pragma once

// One Proxy-Wasm plugin VM: a WasmVm for one module on one thread, linked against the host
// functions of its ABI version, with the Proxy-Wasm bookkeeping around it (ABI doc sections 0.3,
// 2 and 4): the allocator, the typed proxy_on_* callbacks, the context registry, the
// current/effective context, restricted hostcalls during startup and allocation, and the
// "local reply forces stop" rule.
//
// Contexts and ids:
//   - The instance hands out context ids (allocateContextId(): a per-instance counter from 1,
//     never reused while the old id is registered; 0 is the VM context, used for _initialize,
//     _start and the allocator). The embedder builds its HostContext with that id and
//     registers it before making any callback on it; registration only records a pointer, the
//     embedder keeps ownership and must unregister (or call onDelete) before destroying it.
//   - onContextCreate is refused for an unregistered id or one already created (the Rust SDK
//     panics on a duplicate); onDelete calls proxy_on_delete only for created contexts and then
//     unregisters the id, so no callback can reach it afterwards.
//
// Failures: every callback returns Status/Result. A trap (guest, host-requested, or a
// termination through vm().terminate()) comes back as an error carrying the engine's reason and
// guest backtrace, and the instance is failed: every later call returns an error without
// running guest code. Fail-open / fail-closed policy is the embedder's (ABI doc 0.4).
//
// Deferred actions: continue/close stream, local replies and proxy_done are forwarded to the
// HostContext, which must defer them until the guest call returns. What the ABI layer owns is
// the forced result: a callback during which the plugin sent a local reply reports a "stop"
// status (FilterCallResult::local_response_sent).
//
// Threading: like WasmVm, an instance belongs to the thread that created it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/flat_id_map.h"
#include "common/status.h"
#include "wasm/abi/abi_version.h"
#include "wasm/abi/host_context.h"
#include "wasm/engine.h"

namespace wasmgate::wasm::abi {

class HostCall;

// Plugin-level facts every context of a plugin shares. They back the plugin_name,
// plugin_root_id and plugin_vm_id properties (which the C++ SDK reads inside
// proxy_on_context_create, before any stream exists) and the VM_CONFIGURATION and
// PLUGIN_CONFIGURATION buffers.
struct PluginInfo {
  std::string name;
  std::string root_id;
  std::string vm_id;
  std::string vm_configuration;     // buffer 6: readable any time
  std::string plugin_configuration; // buffer 7: readable during on_configure (and validate)
  // Prefix of VM-context log lines ("wasm log<prefix>: msg"); empty: defaultLogPrefix().
  std::string log_prefix;
  // Envoy's allow_on_headers_stop_iteration: when false a headers StopIteration (1) is reported
  // as StopAllIterationAndWatermark (4), as Envoy does by default.
  bool allow_on_headers_stop_iteration = false;
  // Request/response header and trailer names (lower-case) the guest may neither read nor
  // change: absent from reads, BadArgument for writes, kept by set_header_map_pairs.
  std::vector<std::string> hidden_headers;
  bool isHidden(std::string_view lower_name) const {
    for (const auto& h : hidden_headers)
      if (h == lower_name)
        return true;
    return false;
  }
};

// " <name> <root_id> <vm_id>" with empty parts left out (Envoy's prefix).
std::string defaultLogPrefix(const PluginInfo& plugin);

// Receives what the guest logs on the VM context (proxy_log, stdout/stderr through WASI) while
// no plugin context is current: during _initialize/_start and inside the allocator.
using VmLogSink = std::function<void(uint32_t level, std::string_view message)>;

class WasmInstance;

struct InstanceConfig {
  // Detected from the module's exports when unset.
  std::optional<AbiVersion> abi_version;
  // The plugin of root contexts registered without their own PluginInfo, and of context 0.
  PluginInfo plugin;
  // What WASI environ_get returns (Envoy's vm_config.environment_variables), in order.
  std::vector<std::pair<std::string, std::string>> environment;
  // Default: lines at warn and above go to stderr.
  VmLogSink vm_log;
  uint32_t vm_log_level = 2; // info; what proxy_get_log_level answers on the VM context
  // Runs once the VM exists, before _initialize/_start: e.g. to put it under a watchdog.
  std::function<void(WasmInstance&)> before_startup;
  // Envoy's capability_restriction_config.allowed_capabilities: when set, only these hostcalls
  // (by name, "proxy_log", "fd_write", ...) and proxy_on_* callbacks are available. A denied
  // hostcall answers Unimplemented (WASI: ENOSYS) without running; a denied callback is never
  // called (as cpp-host). Memory management and start-up exports are always allowed.
  std::optional<std::set<std::string, std::less<>>> allowed_capabilities;
  // Told about each denied hostcall (by name).
  std::function<void(std::string_view)> on_capability_denied;
};

// The guest call the instance is making; host functions use it to decide what is available
// (plugin configuration during Configure, log-phase map rules during Log, restrictions during
// Startup/Allocator).
enum class Callback : uint8_t {
  Other, // callExport()
  Startup,
  Allocator,
  ContextCreate,
  VmStart,
  ValidateConfiguration,
  Configure,
  Tick,
  QueueReady,
  ForeignFunction,
  RequestHeaders,
  RequestBody,
  RequestTrailers,
  RequestMetadata,
  ResponseHeaders,
  ResponseBody,
  ResponseTrailers,
  ResponseMetadata,
  NewConnection,
  DownstreamData,
  UpstreamData,
  DownstreamConnectionClose,
  UpstreamConnectionClose,
  HttpCallResponse,
  GrpcReceiveInitialMetadata,
  GrpcReceive,
  GrpcReceiveTrailingMetadata,
  GrpcClose,
  ResolveDns,
  StatsUpdate,
  Log,
  Done,
  Delete,
};

// Result of an HTTP header/body/trailer/metadata callback.
struct FilterCallResult {
  // The filter status to act on: FilterHeadersStatus / FilterDataStatus / FilterTrailersStatus
  // / FilterMetadataStatus after Envoy's mapping (cpp-host convertVmCallResultTo*), forced to
  // the stop value (headers 4, data 3, trailers 1) when a local reply was sent.
  uint32_t status = 0;
  // What the guest returned (0 when the export is missing).
  uint32_t guest_status = 0;
  // proxy_send_local_response succeeded during this callback.
  bool local_response_sent = false;
};

// Envoy's mapping of raw callback results (ABI doc 2.4).
uint32_t toFilterHeadersStatus(uint32_t guest_status, bool allow_stop_iteration);
uint32_t toFilterDataStatus(uint32_t guest_status);
uint32_t toFilterTrailersStatus(uint32_t guest_status);
// Why a raw HTTP callback result is outside its ABI enum (headers 0-4, data 0-3, trailers
// 0-1), or nullopt when it is valid. The instance fails the VM on such a result (unless a local
// reply was sent, which makes the value moot) instead of treating it as a pause.
std::optional<std::string> invalidFilterStatus(Callback callback, uint32_t guest_status);

class WasmInstance {
public:
  // Instantiates `module` on the calling thread, links the host functions of its ABI version,
  // resolves the allocator (malloc, else proxy_on_memory_allocate) and every proxy_on_* export
  // with its exact signature, then runs _initialize (+ main(0,0) or __main_void()), or _start,
  // on context 0 with restricted hostcalls. Errors name the missing import, the export with a
  // bad signature, or the startup trap.
  static Result<std::unique_ptr<WasmInstance>> create(std::shared_ptr<CompiledModule> module,
                                                      InstanceConfig config);
  ~WasmInstance();
  WasmInstance(const WasmInstance&) = delete;
  WasmInstance& operator=(const WasmInstance&) = delete;

  AbiVersion abiVersion() const { return version_; }
  const PluginInfo& plugin() const { return *plugin_; }
  // The underlying VM (memory access, terminate() from a watchdog).
  WasmVm& vm() { return *vm_; }
  bool failed() const { return vm_->failed(); }
  std::string failureReason() const { return vm_->failureReason(); }
  // Whether the module exports a function with this name (any signature).
  bool hasExport(std::string_view name) const { return vm_->functionType(name).has_value(); }

  // capability_restriction_config: false for a hostcall or callback the plugin may not use.
  bool capabilityAllowed(std::string_view name) const {
    return !allowed_capabilities_ || allowed_capabilities_->count(name) != 0;
  }
  bool capabilitiesRestricted() const { return allowed_capabilities_.has_value(); }
  void capabilityDenied(std::string_view name) {
    if (on_capability_denied_)
      on_capability_denied_(name);
  }

  // ---- contexts
  uint32_t allocateContextId();
  // Records `context` under context.contextId() (non-zero, not yet registered). `plugin`
  // overrides the instance's PluginInfo for a root context (several plugins in one VM) and
  // for the streams whose root it is.
  Status registerContext(HostContext& context, std::shared_ptr<const PluginInfo> plugin = nullptr);
  void unregisterContext(uint32_t context_id);
  HostContext* findContext(uint32_t context_id) const;

  // ---- lifecycle (ABI doc 2.2, 4.1, 4.5). A missing optional export counts as success.
  Status onContextCreate(uint32_t context_id, uint32_t parent_context_id);
  Result<bool> onVmStart(uint32_t root_context_id, uint32_t vm_configuration_size);
  Result<bool> validateConfiguration(uint32_t root_context_id, uint32_t plugin_configuration_size);
  Result<bool> onConfigure(uint32_t root_context_id, uint32_t plugin_configuration_size);
  Status onTick(uint32_t root_context_id);
  Status onQueueReady(uint32_t root_context_id, uint32_t queue_id);
  Status onForeignFunction(uint32_t root_context_id, uint32_t function_id, uint32_t args_size);
  Status onLog(uint32_t context_id);
  // Root: true = may be deleted now; false = it will call proxy_done later.
  Result<bool> onDone(uint32_t context_id);
  // Calls proxy_on_delete (if the context was created) and unregisters the id.
  Status onDelete(uint32_t context_id);

  // ---- HTTP (2.4). ABI 0.1.0 header callbacks take no end_of_stream; it is dropped.
  Result<FilterCallResult> onRequestHeaders(uint32_t context_id, uint32_t headers, bool end_of_stream);
  Result<FilterCallResult> onRequestBody(uint32_t context_id, uint32_t body_size, bool end_of_stream);
  Result<FilterCallResult> onRequestTrailers(uint32_t context_id, uint32_t trailers);
  Result<FilterCallResult> onRequestMetadata(uint32_t context_id, uint32_t elements);
  Result<FilterCallResult> onResponseHeaders(uint32_t context_id, uint32_t headers, bool end_of_stream);
  Result<FilterCallResult> onResponseBody(uint32_t context_id, uint32_t body_size, bool end_of_stream);
  Result<FilterCallResult> onResponseTrailers(uint32_t context_id, uint32_t trailers);
  Result<FilterCallResult> onResponseMetadata(uint32_t context_id, uint32_t elements);

  // ---- TCP (2.3): 0 Continue, 1 StopIteration (any non-zero guest value).
  Result<uint32_t> onNewConnection(uint32_t context_id);
  Result<uint32_t> onDownstreamData(uint32_t context_id, uint32_t data_size, bool end_of_stream);
  Result<uint32_t> onUpstreamData(uint32_t context_id, uint32_t data_size, bool end_of_stream);
  Status onDownstreamConnectionClose(uint32_t context_id, uint32_t peer_type);
  Status onUpstreamConnectionClose(uint32_t context_id, uint32_t peer_type);

  // ---- callouts, delivered to root contexts (2.5, 2.6)
  Status onHttpCallResponse(uint32_t root_context_id, uint32_t token, uint32_t headers,
                            uint32_t body_size, uint32_t trailers);
  Status onGrpcReceiveInitialMetadata(uint32_t root_context_id, uint32_t token, uint32_t elements);
  Status onGrpcReceive(uint32_t root_context_id, uint32_t token, uint32_t message_size);
  Status onGrpcReceiveTrailingMetadata(uint32_t root_context_id, uint32_t token, uint32_t elements);
  Status onGrpcClose(uint32_t root_context_id, uint32_t token, uint32_t grpc_status);
  Status onResolveDns(uint32_t root_context_id, uint32_t token, uint32_t data_size);
  Status onStatsUpdate(uint32_t root_context_id, uint32_t data_size);

  // Calls any export on a registered context (or 0, the VM context) with the same bookkeeping
  // as the callbacks: current context set, effective context reset, failure checks. For
  // embedder extensions and tests.
  template <WasmResultType R = void, WasmInt... A>
  CallResult<R> callExport(uint32_t context_id, std::string_view name, A... args);
  // The same for an export found at run time (WasmVm::findFunction), arguments as raw 64-bit
  // values in the function's parameter order (fuzzers, generic embedders).
  Result<uint64_t> callExportRaw(uint32_t context_id, uint32_t function,
                                 std::span<const uint64_t> args);

  // Allocates `size` bytes with the guest's allocator on the VM context, hostcalls restricted
  // (ABI doc 0.2). 0 is returned as is (the caller treats it as failure).
  Result<uint32_t> allocate(uint32_t size);

  // Runs `action` once no guest call is in progress: now if none is, else when the outermost
  // one returns (Envoy's addAfterVmCallAction). Embedders use it for stream actions a plugin
  // asks for from a callback of another context (a tick, a callout response), which must not
  // re-enter the filter chain while the guest is on the stack.
  void runAfterCall(std::function<void()> action);

  // The id of the context the running guest call acts on (proxy_set_effective_context, else
  // the current one); 0 outside guest calls. Lets an embedder tell which stream a root-context
  // service (an HTTP callout) was asked for from.
  uint32_t effectiveContextId() { return frames_.empty() ? 0 : effectiveContext().contextId(); }

  // For a watchdog on another thread: when the running outermost guest call started
  // (coarseNowNs() clock; 0 while idle) and which callback it is.
  int64_t callStartedNs() const { return call_started_ns_.load(std::memory_order_relaxed); }
  Callback runningCallback() const {
    return Callback(running_callback_.load(std::memory_order_relaxed));
  }
  // CLOCK_MONOTONIC_COARSE in ns: a few ns to read, a few ms of resolution.
  static int64_t coarseNowNs();

  // Keeps `object` until this instance is destroyed, and drops it first thing then (before the
  // VM goes): e.g. a watchdog registration that must not outlive the instance it watches.
  void keepUntilDestroyed(std::shared_ptr<void> object) { kept_.push_back(std::move(object)); }

private:
  friend class HostCall;

  struct Registration {
    HostContext* context = nullptr;
    std::shared_ptr<const PluginInfo> plugin;
    bool created = false; // proxy_on_context_create was called
  };

  // One host->guest call in progress.
  struct Frame {
    HostContext* context; // current context (nullptr once unregistered mid-call)
    Callback callback;
    std::optional<uint32_t> effective; // proxy_set_effective_context, for this call only
    bool local_response_sent = false;
  };

  class FrameScope {
  public:
    FrameScope(WasmInstance& instance, HostContext* context, Callback callback)
        : instance_(instance) {
      if (instance_.frames_.empty()) {
        instance_.running_callback_.store(uint8_t(callback), std::memory_order_relaxed);
        instance_.call_started_ns_.store(coarseNowNs(), std::memory_order_relaxed);
      }
      instance_.frames_.push_back({context, callback, std::nullopt, false});
    }
    ~FrameScope() {
      instance_.frames_.pop_back();
      if (instance_.frames_.empty()) {
        instance_.call_started_ns_.store(0, std::memory_order_relaxed);
        if (!instance_.after_call_.empty())
          instance_.runAfterCallActions();
      }
    }
    FrameScope(const FrameScope&) = delete;
    FrameScope& operator=(const FrameScope&) = delete;
    bool localResponseSent() const { return instance_.frames_.back().local_response_sent; }

  private:
    WasmInstance& instance_;
  };

  // The context 0 the VM runs startup and allocations on: logs go to the VmLogSink.
  class VmContext final : public HostContext {
  public:
    VmContext(VmLogSink sink, uint32_t level) : sink_(std::move(sink)), level_(level) {}
    uint32_t contextId() const override { return 0; }
    HostContext& rootContext() override { return *this; }
    void log(uint32_t level, std::string_view message) override { sink_(level, message); }
    uint32_t logLevel() const override { return level_; }

  private:
    VmLogSink sink_;
    uint32_t level_;
  };

  template <class Sig> using Fn = std::optional<WasmFunction<Sig>>;

  WasmInstance(std::shared_ptr<CompiledModule> module, AbiVersion version, InstanceConfig config);
  Status resolveExports();
  Status runStartup();

  // Failed-VM and registration checks shared by every callback.
  Result<HostContext*> enter(uint32_t context_id);
  // callExport*: a registered context (enter()), or the VM context for id 0.
  Result<HostContext*> exportCallContext(uint32_t context_id);
  // The argument types come from the export's signature only (no deduction from the call).
  template <class... A>
  Status invoke(const Fn<void(A...)>& fn, Callback callback, uint32_t context_id,
                std::type_identity_t<A>... args);
  template <class... A>
  Result<FilterCallResult> invokeFilter(const Fn<uint32_t(A...)>& fn, Callback callback,
                                        uint32_t context_id, std::type_identity_t<A>... args);
  template <class... A>
  Result<bool> invokeBool(const Fn<uint32_t(A...)>& fn, Callback callback, uint32_t context_id,
                          std::type_identity_t<A>... args);
  template <class... A>
  Result<uint32_t> invokeTcp(const Fn<uint32_t(A...)>& fn, Callback callback,
                             uint32_t context_id, std::type_identity_t<A>... args);

  // For the host functions (through HostCall).
  Callback currentCallback() const;
  HostContext& currentContext();
  HostContext& effectiveContext();
  bool setEffectiveContext(uint32_t context_id);
  void markLocalResponseSent();
  const PluginInfo& pluginOf(HostContext& context) const;

  std::shared_ptr<CompiledModule> module_;
  AbiVersion version_;
  std::shared_ptr<const PluginInfo> plugin_;
  std::vector<std::pair<std::string, std::string>> environment_;
  VmContext vm_context_;
  std::unique_ptr<WasmVm> vm_;

  void runAfterCallActions();

  FlatIdMap<Registration> contexts_; // no allocation per stream registration
  uint32_t next_context_id_ = 0;
  std::vector<Frame> frames_;
  std::vector<std::function<void()>> after_call_;
  std::vector<std::shared_ptr<void>> kept_;
  std::optional<std::set<std::string, std::less<>>> allowed_capabilities_;
  std::function<void(std::string_view)> on_capability_denied_;
  std::atomic<int64_t> call_started_ns_{0};
  std::atomic<uint8_t> running_callback_{0};

  // Exports, resolved once with their exact signatures (absent = not exported).
  Fn<uint32_t(uint32_t)> malloc_;
  Fn<void()> initialize_;
  Fn<void()> start_;
  Fn<uint32_t(uint32_t, uint32_t)> main_;
  Fn<uint32_t()> main_void_;
  Fn<void(uint32_t, uint32_t)> on_context_create_;
  Fn<uint32_t(uint32_t, uint32_t)> on_vm_start_;
  Fn<uint32_t(uint32_t, uint32_t)> validate_configuration_;
  Fn<uint32_t(uint32_t, uint32_t)> on_configure_;
  Fn<void(uint32_t)> on_tick_;
  Fn<void(uint32_t, uint32_t)> on_queue_ready_;
  Fn<void(uint32_t, uint32_t, uint32_t)> on_foreign_function_;
  Fn<uint32_t(uint32_t, uint32_t, uint32_t)> on_request_headers_;
  Fn<uint32_t(uint32_t, uint32_t)> on_request_headers_v010_;
  Fn<uint32_t(uint32_t, uint32_t, uint32_t)> on_request_body_;
  Fn<uint32_t(uint32_t, uint32_t)> on_request_trailers_;
  Fn<uint32_t(uint32_t, uint32_t)> on_request_metadata_;
  Fn<uint32_t(uint32_t, uint32_t, uint32_t)> on_response_headers_;
  Fn<uint32_t(uint32_t, uint32_t)> on_response_headers_v010_;
  Fn<uint32_t(uint32_t, uint32_t, uint32_t)> on_response_body_;
  Fn<uint32_t(uint32_t, uint32_t)> on_response_trailers_;
  Fn<uint32_t(uint32_t, uint32_t)> on_response_metadata_;
  Fn<uint32_t(uint32_t)> on_new_connection_;
  Fn<uint32_t(uint32_t, uint32_t, uint32_t)> on_downstream_data_;
  Fn<uint32_t(uint32_t, uint32_t, uint32_t)> on_upstream_data_;
  Fn<void(uint32_t, uint32_t)> on_downstream_connection_close_;
  Fn<void(uint32_t, uint32_t)> on_upstream_connection_close_;
  Fn<void(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t)> on_http_call_response_;
  Fn<void(uint32_t, uint32_t, uint32_t)> on_grpc_receive_initial_metadata_;
  Fn<void(uint32_t, uint32_t, uint32_t)> on_grpc_receive_;
  Fn<void(uint32_t, uint32_t, uint32_t)> on_grpc_receive_trailing_metadata_;
  Fn<void(uint32_t, uint32_t, uint32_t)> on_grpc_close_;
  Fn<void(uint32_t, uint32_t, uint32_t)> on_resolve_dns_;
  Fn<void(uint32_t, uint32_t)> on_stats_update_;
  Fn<uint32_t(uint32_t)> on_done_;
  Fn<void(uint32_t)> on_log_;
  Fn<void(uint32_t)> on_delete_;
};

template <WasmResultType R, WasmInt... A>
CallResult<R> WasmInstance::callExport(uint32_t context_id, std::string_view name, A... args) {
  auto context = exportCallContext(context_id);
  if (!context.ok())
    return context.status();
  FrameScope frame(*this, *context, Callback::Other);
  return vm_->call<R>(name, args...);
}

} // namespace wasmgate::wasm::abi
