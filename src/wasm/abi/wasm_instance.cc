#include "wasm/abi/wasm_instance.h"

#include <cstdio>
#include <ctime>
#include <unistd.h>

#include "wasm/abi/host_functions.h"

namespace wasmgate::wasm::abi {

std::string defaultLogPrefix(const PluginInfo& plugin) {
  std::string prefix;
  for (const std::string* part : {&plugin.name, &plugin.root_id, &plugin.vm_id})
    if (!part->empty())
      prefix += " " + *part;
  return prefix;
}

int64_t WasmInstance::coarseNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

uint32_t toFilterHeadersStatus(uint32_t guest_status, bool allow_stop_iteration) {
  switch (guest_status) {
  case 0: // Continue
  case 2: // ContinueAndEndStream: Envoy has no case for it
    return 0;
  case 1: // StopIteration, upgraded unless allow_on_headers_stop_iteration
    return allow_stop_iteration ? 1 : 4;
  case 3: // StopAllIterationAndBuffer
    return 3;
  default: // StopAllIterationAndWatermark and anything larger
    return 4;
  }
}

std::optional<std::string> invalidFilterStatus(Callback callback, uint32_t guest_status) {
  const char* name;
  const char* type;
  uint32_t max;
  switch (callback) {
  case Callback::RequestHeaders: name = "proxy_on_request_headers"; type = "FilterHeadersStatus"; max = 4; break;
  case Callback::ResponseHeaders: name = "proxy_on_response_headers"; type = "FilterHeadersStatus"; max = 4; break;
  case Callback::RequestBody: name = "proxy_on_request_body"; type = "FilterDataStatus"; max = 3; break;
  case Callback::ResponseBody: name = "proxy_on_response_body"; type = "FilterDataStatus"; max = 3; break;
  case Callback::RequestTrailers: name = "proxy_on_request_trailers"; type = "FilterTrailersStatus"; max = 1; break;
  case Callback::ResponseTrailers: name = "proxy_on_response_trailers"; type = "FilterTrailersStatus"; max = 1; break;
  default: return std::nullopt; // metadata: the value is ignored
  }
  if (guest_status <= max)
    return std::nullopt;
  return std::string(name) + " returned " + std::to_string(guest_status) + ", which is not a " +
         type + " (0-" + std::to_string(max) + ")";
}

uint32_t toFilterDataStatus(uint32_t guest_status) { return guest_status > 3 ? 3 : guest_status; }

uint32_t toFilterTrailersStatus(uint32_t guest_status) { return guest_status == 0 ? 0 : 1; }

namespace {

// Without a sink, VM-context lines that matter still reach someone.
VmLogSink defaultSink(const std::string& prefix) {
  return [prefix](uint32_t level, std::string_view message) {
    if (level < 3)
      return;
    std::string line = "wasm log" + prefix + ": " + std::string(message) + "\n";
    ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
    (void)rc;
  };
}

std::string prefixOf(const PluginInfo& plugin) {
  return plugin.log_prefix.empty() ? defaultLogPrefix(plugin) : plugin.log_prefix;
}

} // namespace

WasmInstance::WasmInstance(std::shared_ptr<CompiledModule> module, AbiVersion version,
                           InstanceConfig config)
    : module_(std::move(module)), version_(version),
      plugin_(std::make_shared<const PluginInfo>(std::move(config.plugin))),
      environment_(std::move(config.environment)),
      vm_context_(config.vm_log ? std::move(config.vm_log) : defaultSink(prefixOf(*plugin_)),
                  config.vm_log_level) {
  allowed_capabilities_ = std::move(config.allowed_capabilities);
  on_capability_denied_ = std::move(config.on_capability_denied);
}

WasmInstance::~WasmInstance() {
  kept_.clear();
  if (vm_)
    vm_->setHostData(nullptr);
}

Result<std::unique_ptr<WasmInstance>> WasmInstance::create(std::shared_ptr<CompiledModule> module,
                                                           InstanceConfig config) {
  if (!module)
    return Status::error("no module");
  AbiVersion version;
  if (config.abi_version) {
    version = *config.abi_version;
  } else {
    auto detected = detectAbiVersion(module->info());
    if (!detected.ok())
      return Status::error("module '" + module->name() + "': " + detected.error());
    version = *detected;
  }
  auto before_startup = std::move(config.before_startup);
  std::unique_ptr<WasmInstance> instance(new WasmInstance(module, version, std::move(config)));
  auto vm = module->instantiate(hostFunctions(version));
  if (!vm.ok())
    return vm.status();
  instance->vm_ = std::move(*vm);
  instance->vm_->setHostData(instance.get());
  WG_RETURN_IF_ERROR(instance->resolveExports());
  if (before_startup)
    before_startup(*instance);
  WG_RETURN_IF_ERROR(instance->runStartup());
  return instance;
}

namespace {

// Resolves an optional export with an exact signature: absent is fine, a different signature is
// an error (cpp-host fails the VM with "Bad function signature").
template <class Sig>
Status resolve(WasmVm& vm, const std::string& module, std::string_view name,
               std::optional<WasmFunction<Sig>>& out, const WasmInstance* restrict = nullptr) {
  // A callback outside allowed_capabilities is treated as not exported (cpp-host).
  if (restrict != nullptr && name.rfind("proxy_on_", 0) == 0 && !restrict->capabilityAllowed(name))
    return okStatus();
  auto actual = vm.functionType(name);
  if (!actual)
    return okStatus();
  out = vm.template getFunction<Sig>(name);
  if (!out)
    return Status::error("module '" + module + "': bad signature for export " +
                         std::string(name) + ": expected " + WasmFunction<Sig>::type().toString() +
                         ", got " + actual->toString());
  return okStatus();
}

} // namespace

Status WasmInstance::resolveExports() {
  WasmVm& vm = *vm_;
  const std::string& m = module_->name();
#define WG_RESOLVE(name, member) WG_RETURN_IF_ERROR(resolve(vm, m, name, member, this))
  // Allocator: malloc first, proxy_on_memory_allocate only without it (cpp-host; the spec
  // says the opposite, see ABI doc 0.2).
  if (vm.functionType("malloc"))
    WG_RESOLVE("malloc", malloc_);
  else
    WG_RESOLVE("proxy_on_memory_allocate", malloc_);
  if (!malloc_)
    return Status::error("module '" + m + "': missing malloc function (export malloc or "
                         "proxy_on_memory_allocate)");

  WG_RESOLVE("_initialize", initialize_);
  if (initialize_) {
    // Only called after _initialize, so only checked then.
    WG_RESOLVE("main", main_);
    if (!main_)
      WG_RESOLVE("__main_void", main_void_);
  } else {
    WG_RESOLVE("_start", start_);
  }

  WG_RESOLVE("proxy_on_context_create", on_context_create_);
  WG_RESOLVE("proxy_on_vm_start", on_vm_start_);
  WG_RESOLVE("proxy_validate_configuration", validate_configuration_);
  WG_RESOLVE("proxy_on_configure", on_configure_);
  WG_RESOLVE("proxy_on_tick", on_tick_);
  WG_RESOLVE("proxy_on_queue_ready", on_queue_ready_);
  if (version_ == AbiVersion::V0_1_0) {
    WG_RESOLVE("proxy_on_request_headers", on_request_headers_v010_);
    WG_RESOLVE("proxy_on_response_headers", on_response_headers_v010_);
  } else {
    WG_RESOLVE("proxy_on_request_headers", on_request_headers_);
    WG_RESOLVE("proxy_on_response_headers", on_response_headers_);
    WG_RESOLVE("proxy_on_foreign_function", on_foreign_function_);
  }
  WG_RESOLVE("proxy_on_request_body", on_request_body_);
  WG_RESOLVE("proxy_on_request_trailers", on_request_trailers_);
  WG_RESOLVE("proxy_on_request_metadata", on_request_metadata_);
  WG_RESOLVE("proxy_on_response_body", on_response_body_);
  WG_RESOLVE("proxy_on_response_trailers", on_response_trailers_);
  WG_RESOLVE("proxy_on_response_metadata", on_response_metadata_);
  WG_RESOLVE("proxy_on_new_connection", on_new_connection_);
  WG_RESOLVE("proxy_on_downstream_data", on_downstream_data_);
  WG_RESOLVE("proxy_on_upstream_data", on_upstream_data_);
  WG_RESOLVE("proxy_on_downstream_connection_close", on_downstream_connection_close_);
  WG_RESOLVE("proxy_on_upstream_connection_close", on_upstream_connection_close_);
  WG_RESOLVE("proxy_on_http_call_response", on_http_call_response_);
  WG_RESOLVE("proxy_on_grpc_receive_initial_metadata", on_grpc_receive_initial_metadata_);
  WG_RESOLVE("proxy_on_grpc_receive", on_grpc_receive_);
  WG_RESOLVE("proxy_on_grpc_receive_trailing_metadata", on_grpc_receive_trailing_metadata_);
  WG_RESOLVE("proxy_on_grpc_close", on_grpc_close_);
  WG_RESOLVE("envoy_on_resolve_dns", on_resolve_dns_);
  WG_RESOLVE("envoy_on_stats_update", on_stats_update_);
  WG_RESOLVE("proxy_on_done", on_done_);
  WG_RESOLVE("proxy_on_log", on_log_);
  WG_RESOLVE("proxy_on_delete", on_delete_);
#undef WG_RESOLVE
  return okStatus();
}

Status WasmInstance::runStartup() {
  FrameScope frame(*this, &vm_context_, Callback::Startup);
  auto prefixed = [&](const Status& s) {
    return Status::error("module '" + module_->name() + "': startup failed: " + s.message());
  };
  if (initialize_) {
    if (Status s = (*initialize_)(); !s.ok())
      return prefixed(s);
    if (main_) {
      if (auto r = (*main_)(0u, 0u); !r.ok())
        return prefixed(r.status());
    } else if (main_void_) {
      if (auto r = (*main_void_)(); !r.ok())
        return prefixed(r.status());
    }
  } else if (start_) {
    if (Status s = (*start_)(); !s.ok())
      return prefixed(s);
  }
  return okStatus();
}

// ---------------------------------------------------------------------------------------------
// Contexts

uint32_t WasmInstance::allocateContextId() {
  do {
    if (++next_context_id_ == 0)
      next_context_id_ = 1;
  } while (contexts_.contains(next_context_id_));
  return next_context_id_;
}

Status WasmInstance::registerContext(HostContext& context, std::shared_ptr<const PluginInfo> plugin) {
  const uint32_t id = context.contextId();
  if (id == 0)
    return Status::error("context id 0 is reserved for the VM context");
  auto [reg, inserted] = contexts_.tryEmplace(id);
  if (!inserted)
    return Status::error("context id " + std::to_string(id) + " is already registered");
  reg->context = &context;
  reg->plugin = std::move(plugin);
  return okStatus();
}

void WasmInstance::unregisterContext(uint32_t context_id) {
  const Registration* reg = contexts_.find(context_id);
  if (!reg)
    return;
  // A call still running on it falls back to the VM context rather than a dangling pointer.
  for (Frame& f : frames_)
    if (f.context == reg->context)
      f.context = nullptr;
  contexts_.erase(context_id);
}

HostContext* WasmInstance::findContext(uint32_t context_id) const {
  const Registration* reg = contexts_.find(context_id);
  return reg ? reg->context : nullptr;
}

Callback WasmInstance::currentCallback() const {
  return frames_.empty() ? Callback::Other : frames_.back().callback;
}

HostContext& WasmInstance::currentContext() {
  if (frames_.empty() || !frames_.back().context)
    return vm_context_;
  return *frames_.back().context;
}

HostContext& WasmInstance::effectiveContext() {
  if (!frames_.empty() && frames_.back().effective) {
    // An effective context that went away falls back to the current one (ABI doc 0.3).
    if (HostContext* c = findContext(*frames_.back().effective))
      return *c;
  }
  return currentContext();
}

bool WasmInstance::setEffectiveContext(uint32_t context_id) {
  if (frames_.empty() || !findContext(context_id))
    return false;
  frames_.back().effective = context_id;
  return true;
}

void WasmInstance::markLocalResponseSent() {
  if (!frames_.empty())
    frames_.back().local_response_sent = true;
}

const PluginInfo& WasmInstance::pluginOf(HostContext& context) const {
  const Registration* reg = contexts_.find(context.rootContext().contextId());
  if (reg && reg->plugin)
    return *reg->plugin;
  return *plugin_;
}

// ---------------------------------------------------------------------------------------------
// Calls

Result<HostContext*> WasmInstance::enter(uint32_t context_id) {
  if (vm_->failed())
    return Status::error("wasm VM has failed: " + vm_->failureReason());
  HostContext* context = findContext(context_id);
  if (!context)
    return Status::error("unknown context id " + std::to_string(context_id));
  return context;
}

template <class... A>
Status WasmInstance::invoke(const Fn<void(A...)>& fn, Callback callback, uint32_t context_id,
                            std::type_identity_t<A>... args) {
  auto entered = enter(context_id);
  if (!entered.ok())
    return entered.status();
  if (!fn)
    return okStatus();
  FrameScope frame(*this, *entered, callback);
  return (*fn)(args...);
}

template <class... A>
Result<bool> WasmInstance::invokeBool(const Fn<uint32_t(A...)>& fn, Callback callback,
                                      uint32_t context_id, std::type_identity_t<A>... args) {
  auto entered = enter(context_id);
  if (!entered.ok())
    return entered.status();
  if (!fn)
    return true;
  FrameScope frame(*this, *entered, callback);
  auto r = (*fn)(args...);
  if (!r.ok())
    return r.status();
  return *r != 0;
}

template <class... A>
Result<FilterCallResult> WasmInstance::invokeFilter(const Fn<uint32_t(A...)>& fn,
                                                    Callback callback, uint32_t context_id,
                                                    std::type_identity_t<A>... args) {
  auto entered = enter(context_id);
  if (!entered.ok())
    return entered.status();
  FilterCallResult out;
  if (!fn)
    return out;
  uint32_t guest = 0;
  bool local_reply = false;
  {
    FrameScope frame(*this, *entered, callback);
    auto r = (*fn)(args...);
    if (!r.ok())
      return r.status();
    guest = *r;
    local_reply = frame.localResponseSent();
  }
  out.guest_status = guest;
  out.local_response_sent = local_reply;
  // (Statuses 0 and 1 are valid for every HTTP callback: skip the lookup on the common path.)
  if (auto bad = local_reply || guest <= 1 ? std::nullopt : invalidFilterStatus(callback, guest)) {
    // A status outside the ABI's enum is a broken plugin, not a pause: fail the VM so the
    // failure policy answers instead of leaving the stream stopped for ever.
    vm_->fail(*bad);
    return Status::error(*bad);
  }
  switch (callback) {
  case Callback::RequestHeaders:
  case Callback::ResponseHeaders:
    out.status = local_reply ? 4 : toFilterHeadersStatus(
                                       guest, pluginOf(**entered).allow_on_headers_stop_iteration);
    break;
  case Callback::RequestBody:
  case Callback::ResponseBody:
    out.status = local_reply ? 3 : toFilterDataStatus(guest);
    break;
  case Callback::RequestTrailers:
  case Callback::ResponseTrailers:
    out.status = local_reply ? 1 : toFilterTrailersStatus(guest);
    break;
  default: // metadata: always Continue
    out.status = 0;
    break;
  }
  return out;
}

template <class... A>
Result<uint32_t> WasmInstance::invokeTcp(const Fn<uint32_t(A...)>& fn, Callback callback,
                                         uint32_t context_id, std::type_identity_t<A>... args) {
  auto entered = enter(context_id);
  if (!entered.ok())
    return entered.status();
  if (!fn)
    return 0u;
  FrameScope frame(*this, *entered, callback);
  auto r = (*fn)(args...);
  if (!r.ok())
    return r.status();
  return *r == 0 ? 0u : 1u;
}

void WasmInstance::runAfterCall(std::function<void()> action) {
  if (frames_.empty()) {
    action();
    return;
  }
  after_call_.push_back(std::move(action));
}

void WasmInstance::runAfterCallActions() {
  // An action may call into the guest again and queue more: take the list each round.
  while (!after_call_.empty()) {
    std::vector<std::function<void()>> actions;
    actions.swap(after_call_);
    for (auto& action : actions)
      action();
  }
}

Result<uint64_t> WasmInstance::callExportRaw(uint32_t context_id, uint32_t function,
                                             std::span<const uint64_t> args) {
  auto context = exportCallContext(context_id);
  if (!context.ok())
    return context.status();
  FrameScope frame(*this, *context, Callback::Other);
  return vm_->callRaw(function, args);
}

Result<HostContext*> WasmInstance::exportCallContext(uint32_t context_id) {
  if (context_id != 0)
    return enter(context_id);
  if (vm_->failed())
    return Status::error("wasm VM has failed: " + vm_->failureReason());
  return &vm_context_;
}

Result<uint32_t> WasmInstance::allocate(uint32_t size) {
  if (vm_->failed())
    return Status::error("wasm VM has failed: " + vm_->failureReason());
  FrameScope frame(*this, &vm_context_, Callback::Allocator);
  return (*malloc_)(size);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

Status WasmInstance::onContextCreate(uint32_t context_id, uint32_t parent_context_id) {
  auto entered = enter(context_id);
  if (!entered.ok())
    return entered.status();
  Registration& reg = *contexts_.find(context_id); // present: enter() found it
  if (reg.created)
    return Status::error("context " + std::to_string(context_id) + " was already created");
  if (parent_context_id != 0 && !findContext(parent_context_id))
    return Status::error("unknown parent context id " + std::to_string(parent_context_id));
  reg.created = true;
  return invoke(on_context_create_, Callback::ContextCreate, context_id, context_id,
                parent_context_id);
}

Result<bool> WasmInstance::onVmStart(uint32_t root_context_id, uint32_t vm_configuration_size) {
  return invokeBool(on_vm_start_, Callback::VmStart, root_context_id, root_context_id,
                    vm_configuration_size);
}

Result<bool> WasmInstance::validateConfiguration(uint32_t root_context_id,
                                                 uint32_t plugin_configuration_size) {
  return invokeBool(validate_configuration_, Callback::ValidateConfiguration, root_context_id,
                    root_context_id, plugin_configuration_size);
}

Result<bool> WasmInstance::onConfigure(uint32_t root_context_id, uint32_t plugin_configuration_size) {
  return invokeBool(on_configure_, Callback::Configure, root_context_id, root_context_id,
                    plugin_configuration_size);
}

Status WasmInstance::onTick(uint32_t root_context_id) {
  return invoke(on_tick_, Callback::Tick, root_context_id, root_context_id);
}

Status WasmInstance::onQueueReady(uint32_t root_context_id, uint32_t queue_id) {
  return invoke(on_queue_ready_, Callback::QueueReady, root_context_id, root_context_id, queue_id);
}

Status WasmInstance::onForeignFunction(uint32_t root_context_id, uint32_t function_id,
                                       uint32_t args_size) {
  return invoke(on_foreign_function_, Callback::ForeignFunction, root_context_id, root_context_id,
                function_id, args_size);
}

Status WasmInstance::onLog(uint32_t context_id) {
  return invoke(on_log_, Callback::Log, context_id, context_id);
}

Result<bool> WasmInstance::onDone(uint32_t context_id) {
  return invokeBool(on_done_, Callback::Done, context_id, context_id);
}

Status WasmInstance::onDelete(uint32_t context_id) {
  auto entered = enter(context_id);
  if (!entered.ok()) {
    unregisterContext(context_id); // a failed VM still forgets the context
    return entered.status();
  }
  Status s;
  if (contexts_.find(context_id)->created) // present: enter() found it
    s = invoke(on_delete_, Callback::Delete, context_id, context_id);
  unregisterContext(context_id);
  return s;
}

// ---------------------------------------------------------------------------------------------
// HTTP and TCP

Result<FilterCallResult> WasmInstance::onRequestHeaders(uint32_t context_id, uint32_t headers,
                                                        bool end_of_stream) {
  if (version_ == AbiVersion::V0_1_0)
    return invokeFilter(on_request_headers_v010_, Callback::RequestHeaders, context_id,
                        context_id, headers);
  return invokeFilter(on_request_headers_, Callback::RequestHeaders, context_id, context_id,
                      headers, uint32_t(end_of_stream));
}

Result<FilterCallResult> WasmInstance::onRequestBody(uint32_t context_id, uint32_t body_size,
                                                     bool end_of_stream) {
  return invokeFilter(on_request_body_, Callback::RequestBody, context_id, context_id, body_size,
                      uint32_t(end_of_stream));
}

Result<FilterCallResult> WasmInstance::onRequestTrailers(uint32_t context_id, uint32_t trailers) {
  return invokeFilter(on_request_trailers_, Callback::RequestTrailers, context_id, context_id,
                      trailers);
}

Result<FilterCallResult> WasmInstance::onRequestMetadata(uint32_t context_id, uint32_t elements) {
  return invokeFilter(on_request_metadata_, Callback::RequestMetadata, context_id, context_id,
                      elements);
}

Result<FilterCallResult> WasmInstance::onResponseHeaders(uint32_t context_id, uint32_t headers,
                                                         bool end_of_stream) {
  if (version_ == AbiVersion::V0_1_0)
    return invokeFilter(on_response_headers_v010_, Callback::ResponseHeaders, context_id,
                        context_id, headers);
  return invokeFilter(on_response_headers_, Callback::ResponseHeaders, context_id, context_id,
                      headers, uint32_t(end_of_stream));
}

Result<FilterCallResult> WasmInstance::onResponseBody(uint32_t context_id, uint32_t body_size,
                                                      bool end_of_stream) {
  return invokeFilter(on_response_body_, Callback::ResponseBody, context_id, context_id,
                      body_size, uint32_t(end_of_stream));
}

Result<FilterCallResult> WasmInstance::onResponseTrailers(uint32_t context_id, uint32_t trailers) {
  return invokeFilter(on_response_trailers_, Callback::ResponseTrailers, context_id, context_id,
                      trailers);
}

Result<FilterCallResult> WasmInstance::onResponseMetadata(uint32_t context_id, uint32_t elements) {
  return invokeFilter(on_response_metadata_, Callback::ResponseMetadata, context_id, context_id,
                      elements);
}

Result<uint32_t> WasmInstance::onNewConnection(uint32_t context_id) {
  return invokeTcp(on_new_connection_, Callback::NewConnection, context_id, context_id);
}

Result<uint32_t> WasmInstance::onDownstreamData(uint32_t context_id, uint32_t data_size,
                                                bool end_of_stream) {
  return invokeTcp(on_downstream_data_, Callback::DownstreamData, context_id, context_id,
                   data_size, uint32_t(end_of_stream));
}

Result<uint32_t> WasmInstance::onUpstreamData(uint32_t context_id, uint32_t data_size,
                                              bool end_of_stream) {
  return invokeTcp(on_upstream_data_, Callback::UpstreamData, context_id, context_id, data_size,
                   uint32_t(end_of_stream));
}

Status WasmInstance::onDownstreamConnectionClose(uint32_t context_id, uint32_t peer_type) {
  return invoke(on_downstream_connection_close_, Callback::DownstreamConnectionClose, context_id,
                context_id, peer_type);
}

Status WasmInstance::onUpstreamConnectionClose(uint32_t context_id, uint32_t peer_type) {
  return invoke(on_upstream_connection_close_, Callback::UpstreamConnectionClose, context_id,
                context_id, peer_type);
}

// ---------------------------------------------------------------------------------------------
// Callouts

Status WasmInstance::onHttpCallResponse(uint32_t root_context_id, uint32_t token, uint32_t headers,
                                        uint32_t body_size, uint32_t trailers) {
  return invoke(on_http_call_response_, Callback::HttpCallResponse, root_context_id,
                root_context_id, token, headers, body_size, trailers);
}

Status WasmInstance::onGrpcReceiveInitialMetadata(uint32_t root_context_id, uint32_t token,
                                                  uint32_t elements) {
  return invoke(on_grpc_receive_initial_metadata_, Callback::GrpcReceiveInitialMetadata,
                root_context_id, root_context_id, token, elements);
}

Status WasmInstance::onGrpcReceive(uint32_t root_context_id, uint32_t token, uint32_t message_size) {
  return invoke(on_grpc_receive_, Callback::GrpcReceive, root_context_id, root_context_id, token,
                message_size);
}

Status WasmInstance::onGrpcReceiveTrailingMetadata(uint32_t root_context_id, uint32_t token,
                                                   uint32_t elements) {
  return invoke(on_grpc_receive_trailing_metadata_, Callback::GrpcReceiveTrailingMetadata,
                root_context_id, root_context_id, token, elements);
}

Status WasmInstance::onGrpcClose(uint32_t root_context_id, uint32_t token, uint32_t grpc_status) {
  return invoke(on_grpc_close_, Callback::GrpcClose, root_context_id, root_context_id, token,
                grpc_status);
}

Status WasmInstance::onResolveDns(uint32_t root_context_id, uint32_t token, uint32_t data_size) {
  return invoke(on_resolve_dns_, Callback::ResolveDns, root_context_id, root_context_id, token,
                data_size);
}

Status WasmInstance::onStatsUpdate(uint32_t root_context_id, uint32_t data_size) {
  return invoke(on_stats_update_, Callback::StatsUpdate, root_context_id, root_context_id,
                data_size);
}

} // namespace wasmgate::wasm::abi
