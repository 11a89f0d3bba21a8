#include "wasm/engines/null/null_engine.h"

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>

#include "null_plugin.h"

namespace wasmgate::wasm {

namespace {

using nullvm::NullVmHostApi;
using nullvm::NullVmPlugin;

// ---------------------------------------------------------------------------------------------
// Exports: one entry per NullVmPlugin function pointer, typed from the pointer's own type.

using ExportInvoker = uint64_t (*)(const NullVmPlugin&, void* instance, const uint64_t* args);

struct ExportEntry {
  const char* name;
  FunctionType (*type)();
  ExportInvoker invoke;
  bool (*present)(const NullVmPlugin&);
};

template <auto Member> struct ExportOf;
template <class R, class... A, R (*NullVmPlugin::*Member)(void*, A...)> struct ExportOf<Member> {
  static FunctionType type() { return detail::functionTypeOf<R, A...>(); }
  static bool present(const NullVmPlugin& p) { return p.*Member != nullptr; }
  static uint64_t invoke(const NullVmPlugin& p, void* instance, const uint64_t* args) {
    return unpack(p.*Member, instance, args, std::index_sequence_for<A...>{});
  }
  template <size_t... I>
  static uint64_t unpack(R (*fn)(void*, A...), void* instance, const uint64_t* args,
                         std::index_sequence<I...>) {
    (void)args;
    if constexpr (std::is_void_v<R>) {
      fn(instance, detail::fromBits<A>(args[I])...);
      return 0;
    } else {
      return detail::toBits<R>(fn(instance, detail::fromBits<A>(args[I])...));
    }
  }
};

#define WG_NULL_EXPORT(name)                                                                       \
  ExportEntry {                                                                                    \
    #name, &ExportOf<&NullVmPlugin::name>::type, &ExportOf<&NullVmPlugin::name>::invoke,           \
        &ExportOf<&NullVmPlugin::name>::present                                                    \
  }
const ExportEntry kExports[] = {
    WG_NULL_EXPORT(proxy_on_context_create),
    WG_NULL_EXPORT(proxy_on_vm_start),
    WG_NULL_EXPORT(proxy_validate_configuration),
    WG_NULL_EXPORT(proxy_on_configure),
    WG_NULL_EXPORT(proxy_on_tick),
    WG_NULL_EXPORT(proxy_on_queue_ready),
    WG_NULL_EXPORT(proxy_on_foreign_function),
    WG_NULL_EXPORT(proxy_on_done),
    WG_NULL_EXPORT(proxy_on_log),
    WG_NULL_EXPORT(proxy_on_delete),
    WG_NULL_EXPORT(proxy_on_new_connection),
    WG_NULL_EXPORT(proxy_on_downstream_data),
    WG_NULL_EXPORT(proxy_on_upstream_data),
    WG_NULL_EXPORT(proxy_on_downstream_connection_close),
    WG_NULL_EXPORT(proxy_on_upstream_connection_close),
    WG_NULL_EXPORT(proxy_on_request_headers),
    WG_NULL_EXPORT(proxy_on_request_body),
    WG_NULL_EXPORT(proxy_on_request_trailers),
    WG_NULL_EXPORT(proxy_on_request_metadata),
    WG_NULL_EXPORT(proxy_on_response_headers),
    WG_NULL_EXPORT(proxy_on_response_body),
    WG_NULL_EXPORT(proxy_on_response_trailers),
    WG_NULL_EXPORT(proxy_on_response_metadata),
    WG_NULL_EXPORT(proxy_on_http_call_response),
    WG_NULL_EXPORT(proxy_on_grpc_receive_initial_metadata),
    WG_NULL_EXPORT(proxy_on_grpc_receive),
    WG_NULL_EXPORT(proxy_on_grpc_receive_trailing_metadata),
    WG_NULL_EXPORT(proxy_on_grpc_close),
};
#undef WG_NULL_EXPORT
constexpr uint32_t kExportCount = uint32_t(std::size(kExports));

// Function handles past the plugin's exports: the host-side allocator the ABI layer calls
// for the return-pair convention, and the ABI version marker (a no-op, as in wasm modules).
constexpr uint32_t kMallocHandle = kExportCount;
constexpr uint32_t kMarkerHandle = kExportCount + 1;

FunctionType mallocType() { return detail::functionTypeOf<uint32_t, uint32_t>(); }
FunctionType markerType() { return detail::functionTypeOf<void>(); }

std::string abiMarker(const NullVmPlugin& plugin) {
  std::string version = plugin.abi_version ? plugin.abi_version : "0.2.1";
  for (char& c : version)
    if (c == '.')
      c = '_';
  return "proxy_abi_version_" + version;
}

// ---------------------------------------------------------------------------------------------
// Hostcalls: the plugin's NullVmHostApi calls, in null_plugin.h order, bound to the host
// functions of the same name that the ABI layer provides for wasm modules.

enum HostCallId : uint8_t {
  kLog,
  kGetLogLevel,
  kGetCurrentTime,
  kSetTickPeriod,
  kGetStatus,
  kSetEffectiveContext,
  kDone,
  kCallForeignFunction,
  kGetBufferBytes,
  kSetBufferBytes,
  kGetBufferStatus,
  kGetHeaderMapPairs,
  kSetHeaderMapPairs,
  kGetHeaderMapValue,
  kAddHeaderMapValue,
  kReplaceHeaderMapValue,
  kRemoveHeaderMapValue,
  kGetHeaderMapSize,
  kContinueStream,
  kCloseStream,
  kSendLocalResponse,
  kGetProperty,
  kSetProperty,
  kGetSharedData,
  kSetSharedData,
  kRegisterSharedQueue,
  kResolveSharedQueue,
  kEnqueueSharedQueue,
  kDequeueSharedQueue,
  kDefineMetric,
  kIncrementMetric,
  kRecordMetric,
  kGetMetric,
  kHttpCall,
  kGrpcCall,
  kGrpcStream,
  kGrpcSend,
  kGrpcCancel,
  kGrpcClose,
  kGetConfiguration,
  kContinueRequest,
  kContinueResponse,
  kClearRouteCache,
  kHostCallCount,
};

constexpr std::array<const char*, kHostCallCount> kHostCallNames = {
    "proxy_log",
    "proxy_get_log_level",
    "proxy_get_current_time_nanoseconds",
    "proxy_set_tick_period_milliseconds",
    "proxy_get_status",
    "proxy_set_effective_context",
    "proxy_done",
    "proxy_call_foreign_function",
    "proxy_get_buffer_bytes",
    "proxy_set_buffer_bytes",
    "proxy_get_buffer_status",
    "proxy_get_header_map_pairs",
    "proxy_set_header_map_pairs",
    "proxy_get_header_map_value",
    "proxy_add_header_map_value",
    "proxy_replace_header_map_value",
    "proxy_remove_header_map_value",
    "proxy_get_header_map_size",
    "proxy_continue_stream",
    "proxy_close_stream",
    "proxy_send_local_response",
    "proxy_get_property",
    "proxy_set_property",
    "proxy_get_shared_data",
    "proxy_set_shared_data",
    "proxy_register_shared_queue",
    "proxy_resolve_shared_queue",
    "proxy_enqueue_shared_queue",
    "proxy_dequeue_shared_queue",
    "proxy_define_metric",
    "proxy_increment_metric",
    "proxy_record_metric",
    "proxy_get_metric",
    "proxy_http_call",
    "proxy_grpc_call",
    "proxy_grpc_stream",
    "proxy_grpc_send",
    "proxy_grpc_cancel",
    "proxy_grpc_close",
    "proxy_get_configuration",
    "proxy_continue_request",
    "proxy_continue_response",
    "proxy_clear_route_cache",
};

constexpr uint32_t kWasmOk = 0;
constexpr uint32_t kWasmBadArgument = 2;
constexpr uint32_t kWasmInternalFailure = 10;
constexpr uint32_t kWasmUnimplemented = 12;

class NullVm;

// The NullVm the calling thread is running plugin code in (its hostcalls arrive without any
// handle, like wasm imports).
thread_local NullVm* t_current_vm = nullptr;

// How a native hostcall's pointers reach the host functions, which speak 32-bit guest
// addresses: each pointer argument becomes a slot of the call's Marshal, and the "address"
// handed to the host function names the slot ((index + 1) << 24 | offset). The VM's memory
// accessors resolve such addresses against the innermost Marshal; out-params are written to a
// scratch word and copied to the native out-param after the call, translating the address of
// a block the host allocated (return-pair convention) into its native pointer.
class Marshal {
public:
  enum class Kind : uint8_t { Input, Out32, Out64, OutSize, OutPtr, Block };

  explicit Marshal(NullVm& vm);
  ~Marshal();
  Marshal(const Marshal&) = delete;
  Marshal& operator=(const Marshal&) = delete;

  // Arguments. Each returns the 32-bit value to pass to the host function.
  uint32_t in(const char* data, size_t size) {
    if (size == 0)
      return 0;
    if (!data || size > UINT32_MAX)
      return kBadAddress; // the host function answers InvalidMemoryAccess
    return add(Kind::Input, const_cast<char*>(data), size, nullptr);
  }
  uint32_t size(size_t n) {
    if (n > UINT32_MAX)
      bad_argument_ = true;
    return uint32_t(n);
  }
  uint32_t out32(uint32_t* p) { return p ? add(Kind::Out32, nullptr, 8, p) : 0; }
  uint32_t out64(uint64_t* p) { return p ? add(Kind::Out64, nullptr, 8, p) : 0; }
  uint32_t outSize(size_t* p) { return p ? add(Kind::OutSize, nullptr, 8, p) : 0; }
  template <class P> uint32_t outPtr(P** p) { return p ? add(Kind::OutPtr, nullptr, 8, p) : 0; }

  // Calls the host function and copies the out-params back.
  template <class... A> uint32_t call(HostCallId id, A... args);

  // For NullVm's memory accessors and allocator.
  std::optional<std::span<char>> resolve(uint32_t address, uint32_t size, bool write);
  uint32_t allocate(uint32_t size);

private:
  static constexpr uint32_t kBadAddress = 0xFFFFFFFF;
  static constexpr size_t kMaxSlots = 24;

  // Trivial on purpose: a Marshal lives on the stack of every native hostcall, and only the
  // slots in use are written (by add()).
  struct Slot {
    Kind kind;
    bool written;
    bool claimed; // a block handed to the plugin through an OutPtr
    char* data;
    uint64_t size;
    void* native_out;
    alignas(8) char scratch[8];
  };

  uint32_t add(Kind kind, char* data, uint64_t size, void* native_out) {
    if (count_ == kMaxSlots)
      return kBadAddress;
    Slot& s = slots_[count_];
    s.kind = kind;
    s.written = false;
    s.claimed = false;
    s.data = data;
    s.size = size;
    s.native_out = native_out;
    std::memset(s.scratch, 0, sizeof(s.scratch));
    return uint32_t(++count_) << 24;
  }
  Slot* slotAt(uint32_t address) {
    const uint32_t index = address >> 24;
    return index >= 1 && index <= count_ ? &slots_[index - 1] : nullptr;
  }
  void copyOut();

  NullVm& vm_;
  Marshal* outer_;
  Slot slots_[kMaxSlots];
  uint32_t count_ = 0;
  bool bad_argument_ = false;
};

uint32_t readLe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t(uint8_t(p[i])) << (8 * i);
  return v;
}

uint64_t readLe64(const char* p) {
  return uint64_t(readLe32(p)) | (uint64_t(readLe32(p + 4)) << 32);
}

// ---------------------------------------------------------------------------------------------

class NullModule final : public CompiledModule {
public:
  NullModule(const NullVmPlugin& plugin, std::string name,
             std::shared_ptr<std::atomic<uint64_t>> instantiations)
      : plugin_(plugin), name_(std::move(name)), bytes_(plugin.name),
        instantiations_(std::move(instantiations)) {
    auto add = [this](std::string export_name, FunctionType type) {
      Export e;
      e.name = std::move(export_name);
      e.kind = ExternKind::Function;
      e.index = uint32_t(info_.exports.size());
      e.type = std::move(type);
      info_.exports.push_back(std::move(e));
    };
    add(abiMarker(plugin_), markerType());
    add("malloc", mallocType());
    for (const ExportEntry& entry : kExports)
      if (entry.present(plugin_))
        add(entry.name, entry.type());
  }

  const std::string& name() const override { return name_; }
  const ModuleInfo& info() const override { return info_; }
  std::string_view bytes() const override { return bytes_; }
  const NameSection& names() const override { return names_; }
  Result<std::unique_ptr<WasmVm>> instantiate(const ImportResolver& imports) override;

private:
  const NullVmPlugin& plugin_;
  std::string name_;
  std::string bytes_;
  ModuleInfo info_;
  NameSection names_;
  std::shared_ptr<std::atomic<uint64_t>> instantiations_; // the engine's counter
};

class NullVm final : public WasmVm {
public:
  NullVm(const NullVmPlugin& plugin, std::string marker) : plugin_(plugin), marker_(std::move(marker)) {}

  ~NullVm() override {
    if (instance_) {
      // Context destructors may still log; their hostcalls must find this VM.
      CurrentScope scope(*this);
      plugin_.destroy_instance(instance_);
    }
  }

  Status start(const ImportResolver& imports) {
    for (size_t i = 0; i < kHostCallCount; ++i)
      hostcalls_[i] = imports.resolveFunction("env", kHostCallNames[i]);
    instance_ = plugin_.create_instance(&plugin_, &hostApi());
    if (!instance_)
      return Status::error("native plugin '" + std::string(plugin_.name) +
                           "' refused to create an instance (null-VM API version mismatch)");
    return okStatus();
  }

  std::string_view engineName() const override { return kNullRuntimeName; }

  std::optional<FunctionType> functionType(std::string_view name) const override {
    auto handle = handleOf(name);
    if (!handle)
      return std::nullopt;
    return typeOf(*handle);
  }

  std::optional<uint32_t> findFunction(std::string_view name, const FunctionType& type) override {
    auto handle = handleOf(name);
    if (!handle || typeOf(*handle) != type)
      return std::nullopt;
    return handle;
  }

  Result<uint64_t> callRaw(uint32_t function, std::span<const uint64_t> args) override {
    if (failed())
      return Status::error("wasm VM has failed: " + failureReason());
    if (function == kMallocHandle)
      return uint64_t(current_marshal_ ? current_marshal_->allocate(uint32_t(args[0])) : 0);
    if (function == kMarkerHandle)
      return uint64_t(0);
    if (function >= kExportCount)
      return Status::error("no such function handle " + std::to_string(function));
    const ExportEntry& entry = kExports[function];
    uint64_t result = 0;
    {
      CurrentScope scope(*this);
      // Plugin code is C++: an exception must not unwind into the proxy's callers.
      try {
        result = entry.invoke(plugin_, instance_, args.data());
      } catch (const std::exception& e) {
        fail(std::string(entry.name) + " threw: " + e.what());
      } catch (...) {
        fail(std::string(entry.name) + " threw an unknown exception");
      }
    }
    if (failed())
      return Status::error(failureReason());
    return result;
  }

  // No linear memory: the only addresses are those of the current hostcall's Marshal.
  uint64_t memorySize() override { return 0; }
  std::optional<std::string_view> getMemory(uint32_t ptr, uint32_t size) override {
    if (ptr == 0)
      return size == 0 ? std::optional<std::string_view>(std::string_view()) : std::nullopt;
    if (!current_marshal_)
      return std::nullopt;
    auto span = current_marshal_->resolve(ptr, size, false);
    if (!span)
      return std::nullopt;
    return std::string_view(span->data(), span->size());
  }
  std::optional<std::span<char>> getMemoryMutable(uint32_t ptr, uint32_t size) override {
    if (ptr == 0)
      return size == 0 ? std::optional<std::span<char>>(std::span<char>()) : std::nullopt;
    if (!current_marshal_)
      return std::nullopt;
    return current_marshal_->resolve(ptr, size, true);
  }

  bool failed() const override { return failed_ || terminated_.load(std::memory_order_relaxed); }
  bool terminated() const override { return terminated_.load(std::memory_order_relaxed); }
  std::string failureReason() const override {
    if (failed_)
      return failure_;
    return terminated_ ? "terminated (native plugin: later calls refused)" : "";
  }
  // Native code cannot be interrupted: the running call finishes, later ones are refused.
  void terminate() override { terminated_.store(true, std::memory_order_relaxed); }

  void fail(const std::string& reason) override {
    if (!failed_) {
      failed_ = true;
      failure_ = reason;
    }
  }

  // Runs hostcall `id` of the plugin's current call through the ABI layer's host function.
  uint32_t hostCall(HostCallId id, const uint64_t* args, size_t arity) {
    const HostFunction* fn = hostcalls_[id];
    if (!fn)
      return kWasmUnimplemented;
    // The import table is the ABI layer's; a signature it changed must not read past `args`.
    if (fn->type().params.size() != arity) {
      fail(std::string("null VM: ") + kHostCallNames[id] + " has " +
           std::to_string(fn->type().params.size()) + " parameters in the host table, the "
           "native shim passes " + std::to_string(arity));
      return kWasmInternalFailure;
    }
    if (failed() || hostData() == nullptr)
      return kWasmInternalFailure;
    HostCallContext ctx(*this);
    const uint64_t result = fn->invoke(ctx, args);
    if (ctx.trapRequested()) {
      // A wasm guest would unwind here; native code cannot, so the VM is failed and the
      // plugin's current call reports the reason when it returns.
      fail(ctx.trapReason());
      return kWasmInternalFailure;
    }
    return uint32_t(result);
  }

  Marshal*& currentMarshal() { return current_marshal_; }

  static const NullVmHostApi& hostApi();

private:
  class CurrentScope {
  public:
    explicit CurrentScope(NullVm& vm) : saved_(t_current_vm) { t_current_vm = &vm; }
    ~CurrentScope() { t_current_vm = saved_; }

  private:
    NullVm* saved_;
  };

  std::optional<uint32_t> handleOf(std::string_view name) const {
    if (name == "malloc")
      return kMallocHandle;
    if (name == marker_)
      return kMarkerHandle;
    for (uint32_t i = 0; i < kExportCount; ++i)
      if (name == kExports[i].name)
        return kExports[i].present(plugin_) ? std::optional<uint32_t>(i) : std::nullopt;
    return std::nullopt;
  }
  static FunctionType typeOf(uint32_t handle) {
    if (handle == kMallocHandle)
      return mallocType();
    if (handle == kMarkerHandle)
      return markerType();
    return kExports[handle].type();
  }

  const NullVmPlugin& plugin_;
  const std::string marker_;
  void* instance_ = nullptr;
  std::array<const HostFunction*, kHostCallCount> hostcalls_{};
  Marshal* current_marshal_ = nullptr;
  bool failed_ = false;
  std::string failure_;
  std::atomic<bool> terminated_{false};
};

// ---------------------------------------------------------------------------------------------
// Marshal

Marshal::Marshal(NullVm& vm) : vm_(vm), outer_(vm.currentMarshal()) { vm.currentMarshal() = this; }

Marshal::~Marshal() {
  vm_.currentMarshal() = outer_;
  // Blocks the host allocated but did not hand out (a failure after allocating).
  for (uint32_t i = 0; i < count_; ++i)
    if (slots_[i].kind == Kind::Block && !slots_[i].claimed)
      std::free(slots_[i].data);
}

std::optional<std::span<char>> Marshal::resolve(uint32_t address, uint32_t size, bool write) {
  Slot* s = slotAt(address);
  if (!s)
    return std::nullopt;
  const uint32_t offset = address & 0xFFFFFF;
  char* base = s->data;
  switch (s->kind) {
  case Kind::Input:
    if (write)
      return std::nullopt;
    break;
  case Kind::Block:
    break;
  default: // out-params: the scratch word
    base = s->scratch;
    if (write)
      s->written = true;
    break;
  }
  if (offset > s->size || s->size - offset < size)
    return std::nullopt;
  return std::span<char>(base + offset, size);
}

uint32_t Marshal::allocate(uint32_t size) {
  if (count_ == kMaxSlots)
    return 0;
  char* block = static_cast<char*>(std::malloc(size == 0 ? 1 : size));
  if (!block)
    return 0;
  const uint32_t address = add(Kind::Block, block, size, nullptr);
  if (address == kBadAddress) {
    std::free(block);
    return 0;
  }
  return address;
}

void Marshal::copyOut() {
  for (uint32_t i = 0; i < count_; ++i) {
    Slot& s = slots_[i];
    if (!s.written)
      continue;
    switch (s.kind) {
    case Kind::Out32:
      *static_cast<uint32_t*>(s.native_out) = readLe32(s.scratch);
      break;
    case Kind::Out64:
      *static_cast<uint64_t*>(s.native_out) = readLe64(s.scratch);
      break;
    case Kind::OutSize: // the host writes sizes as u32 words
      *static_cast<size_t*>(s.native_out) = readLe32(s.scratch);
      break;
    case Kind::OutPtr: {
      const uint32_t address = readLe32(s.scratch);
      Slot* block = slotAt(address);
      char* native = nullptr;
      if (block && block->kind == Kind::Block && (address & 0xFFFFFF) == 0 && !block->claimed) {
        block->claimed = true;
        native = block->data;
      }
      *static_cast<char**>(s.native_out) = native;
      break;
    }
    default:
      break;
    }
  }
}

template <class... A> uint32_t Marshal::call(HostCallId id, A... args) {
  if (bad_argument_)
    return kWasmBadArgument;
  const uint64_t bits[sizeof...(A) + 1] = {detail::toBits(args)..., 0};
  const uint32_t result = vm_.hostCall(id, bits, sizeof...(A));
  copyOut();
  return result;
}

// ---------------------------------------------------------------------------------------------
// The NullVmHostApi table given to every plugin instance.

NullVm* currentVm() { return t_current_vm; }

#define WG_NULL_HOSTCALL_BEGIN                                                                     \
  NullVm* vm = currentVm();                                                                        \
  if (!vm)                                                                                         \
    return kWasmInternalFailure;                                                                   \
  Marshal m(*vm);

uint32_t hLog(uint32_t level, const char* message, size_t size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kLog, level, m.in(message, size), m.size(size));
}
uint32_t hGetLogLevel(uint32_t* level) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetLogLevel, m.out32(level));
}
uint32_t hGetCurrentTime(uint64_t* ns) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetCurrentTime, m.out64(ns));
}
uint32_t hSetTickPeriod(uint32_t period) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kSetTickPeriod, period);
}
uint32_t hGetStatus(uint32_t* code, const char** message, size_t* size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetStatus, m.out32(code), m.outPtr(message), m.outSize(size));
}
uint32_t hSetEffectiveContext(uint32_t context_id) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kSetEffectiveContext, context_id);
}
uint32_t hDone() {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kDone);
}
uint32_t hCallForeignFunction(const char* name, size_t name_size, const char* args,
                              size_t args_size, char** results, size_t* results_size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kCallForeignFunction, m.in(name, name_size), m.size(name_size),
                m.in(args, args_size), m.size(args_size), m.outPtr(results),
                m.outSize(results_size));
}
uint32_t hGetBufferBytes(uint32_t type, uint32_t start, uint32_t max_size, const char** ptr,
                         size_t* size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetBufferBytes, type, start, max_size, m.outPtr(ptr), m.outSize(size));
}
uint32_t hSetBufferBytes(uint32_t type, uint32_t start, uint32_t length, const char* data,
                         size_t size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kSetBufferBytes, type, start, length, m.in(data, size), m.size(size));
}
uint32_t hGetBufferStatus(uint32_t type, size_t* length, uint32_t* flags) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetBufferStatus, type, m.outSize(length), m.out32(flags));
}
uint32_t hGetHeaderMapPairs(uint32_t type, const char** ptr, size_t* size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetHeaderMapPairs, type, m.outPtr(ptr), m.outSize(size));
}
uint32_t hSetHeaderMapPairs(uint32_t type, const char* ptr, size_t size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kSetHeaderMapPairs, type, m.in(ptr, size), m.size(size));
}
uint32_t hGetHeaderMapValue(uint32_t type, const char* key, size_t key_size, const char** value,
                            size_t* value_size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetHeaderMapValue, type, m.in(key, key_size), m.size(key_size),
                m.outPtr(value), m.outSize(value_size));
}
uint32_t hAddHeaderMapValue(uint32_t type, const char* key, size_t key_size, const char* value,
                            size_t value_size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kAddHeaderMapValue, type, m.in(key, key_size), m.size(key_size),
                m.in(value, value_size), m.size(value_size));
}
uint32_t hReplaceHeaderMapValue(uint32_t type, const char* key, size_t key_size,
                                const char* value, size_t value_size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kReplaceHeaderMapValue, type, m.in(key, key_size), m.size(key_size),
                m.in(value, value_size), m.size(value_size));
}
uint32_t hRemoveHeaderMapValue(uint32_t type, const char* key, size_t key_size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kRemoveHeaderMapValue, type, m.in(key, key_size), m.size(key_size));
}
uint32_t hGetHeaderMapSize(uint32_t type, size_t* size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetHeaderMapSize, type, m.outSize(size));
}
uint32_t hContinueStream(uint32_t type) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kContinueStream, type);
}
uint32_t hCloseStream(uint32_t type) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kCloseStream, type);
}
uint32_t hSendLocalResponse(uint32_t status, const char* details, size_t details_size,
                            const char* body, size_t body_size, const char* headers,
                            size_t headers_size, uint32_t grpc_status) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kSendLocalResponse, status, m.in(details, details_size), m.size(details_size),
                m.in(body, body_size), m.size(body_size), m.in(headers, headers_size),
                m.size(headers_size), grpc_status);
}
uint32_t hGetProperty(const char* path, size_t path_size, const char** value, size_t* value_size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetProperty, m.in(path, path_size), m.size(path_size), m.outPtr(value),
                m.outSize(value_size));
}
uint32_t hSetProperty(const char* path, size_t path_size, const char* value, size_t value_size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kSetProperty, m.in(path, path_size), m.size(path_size), m.in(value, value_size),
                m.size(value_size));
}
uint32_t hGetSharedData(const char* key, size_t key_size, const char** value, size_t* value_size,
                        uint32_t* cas) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetSharedData, m.in(key, key_size), m.size(key_size), m.outPtr(value),
                m.outSize(value_size), m.out32(cas));
}
uint32_t hSetSharedData(const char* key, size_t key_size, const char* value, size_t value_size,
                        uint32_t cas) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kSetSharedData, m.in(key, key_size), m.size(key_size), m.in(value, value_size),
                m.size(value_size), cas);
}
uint32_t hRegisterSharedQueue(const char* name, size_t name_size, uint32_t* token) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kRegisterSharedQueue, m.in(name, name_size), m.size(name_size), m.out32(token));
}
uint32_t hResolveSharedQueue(const char* vm_id, size_t vm_id_size, const char* name,
                             size_t name_size, uint32_t* token) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kResolveSharedQueue, m.in(vm_id, vm_id_size), m.size(vm_id_size),
                m.in(name, name_size), m.size(name_size), m.out32(token));
}
uint32_t hEnqueueSharedQueue(uint32_t token, const char* data, size_t size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kEnqueueSharedQueue, token, m.in(data, size), m.size(size));
}
uint32_t hDequeueSharedQueue(uint32_t token, const char** data, size_t* size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kDequeueSharedQueue, token, m.outPtr(data), m.outSize(size));
}
uint32_t hDefineMetric(uint32_t type, const char* name, size_t name_size, uint32_t* id) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kDefineMetric, type, m.in(name, name_size), m.size(name_size), m.out32(id));
}
uint32_t hIncrementMetric(uint32_t id, int64_t offset) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kIncrementMetric, id, offset);
}
uint32_t hRecordMetric(uint32_t id, uint64_t value) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kRecordMetric, id, value);
}
uint32_t hGetMetric(uint32_t id, uint64_t* value) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetMetric, id, m.out64(value));
}
uint32_t hHttpCall(const char* upstream, size_t upstream_size, const char* headers,
                   size_t headers_size, const char* body, size_t body_size, const char* trailers,
                   size_t trailers_size, uint32_t timeout_ms, uint32_t* token) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kHttpCall, m.in(upstream, upstream_size), m.size(upstream_size),
                m.in(headers, headers_size), m.size(headers_size), m.in(body, body_size),
                m.size(body_size), m.in(trailers, trailers_size), m.size(trailers_size),
                timeout_ms, m.out32(token));
}
uint32_t hGrpcCall(const char* service, size_t service_size, const char* service_name,
                   size_t service_name_size, const char* method, size_t method_size,
                   const char* metadata, size_t metadata_size, const char* message,
                   size_t message_size, uint32_t timeout_ms, uint32_t* token) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGrpcCall, m.in(service, service_size), m.size(service_size),
                m.in(service_name, service_name_size), m.size(service_name_size),
                m.in(method, method_size), m.size(method_size), m.in(metadata, metadata_size),
                m.size(metadata_size), m.in(message, message_size), m.size(message_size),
                timeout_ms, m.out32(token));
}
uint32_t hGrpcStream(const char* service, size_t service_size, const char* service_name,
                     size_t service_name_size, const char* method, size_t method_size,
                     const char* metadata, size_t metadata_size, uint32_t* token) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGrpcStream, m.in(service, service_size), m.size(service_size),
                m.in(service_name, service_name_size), m.size(service_name_size),
                m.in(method, method_size), m.size(method_size), m.in(metadata, metadata_size),
                m.size(metadata_size), m.out32(token));
}
uint32_t hGrpcSend(uint32_t token, const char* message, size_t size, uint32_t end_stream) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGrpcSend, token, m.in(message, size), m.size(size), end_stream);
}
uint32_t hGrpcCancel(uint32_t token) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGrpcCancel, token);
}
uint32_t hGrpcClose(uint32_t token) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGrpcClose, token);
}
uint32_t hGetConfiguration(const char** ptr, size_t* size) {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kGetConfiguration, m.outPtr(ptr), m.outSize(size));
}
uint32_t hContinueRequest() {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kContinueRequest);
}
uint32_t hContinueResponse() {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kContinueResponse);
}
uint32_t hClearRouteCache() {
  WG_NULL_HOSTCALL_BEGIN
  return m.call(kClearRouteCache);
}

#undef WG_NULL_HOSTCALL_BEGIN

NullVmHostApi makeHostApi() {
  NullVmHostApi api;
  api.proxy_log = &hLog;
  api.proxy_get_log_level = &hGetLogLevel;
  api.proxy_get_current_time_nanoseconds = &hGetCurrentTime;
  api.proxy_set_tick_period_milliseconds = &hSetTickPeriod;
  api.proxy_get_status = &hGetStatus;
  api.proxy_set_effective_context = &hSetEffectiveContext;
  api.proxy_done = &hDone;
  api.proxy_call_foreign_function = &hCallForeignFunction;
  api.proxy_get_buffer_bytes = &hGetBufferBytes;
  api.proxy_set_buffer_bytes = &hSetBufferBytes;
  api.proxy_get_buffer_status = &hGetBufferStatus;
  api.proxy_get_header_map_pairs = &hGetHeaderMapPairs;
  api.proxy_set_header_map_pairs = &hSetHeaderMapPairs;
  api.proxy_get_header_map_value = &hGetHeaderMapValue;
  api.proxy_add_header_map_value = &hAddHeaderMapValue;
  api.proxy_replace_header_map_value = &hReplaceHeaderMapValue;
  api.proxy_remove_header_map_value = &hRemoveHeaderMapValue;
  api.proxy_get_header_map_size = &hGetHeaderMapSize;
  api.proxy_continue_stream = &hContinueStream;
  api.proxy_close_stream = &hCloseStream;
  api.proxy_send_local_response = &hSendLocalResponse;
  api.proxy_get_property = &hGetProperty;
  api.proxy_set_property = &hSetProperty;
  api.proxy_get_shared_data = &hGetSharedData;
  api.proxy_set_shared_data = &hSetSharedData;
  api.proxy_register_shared_queue = &hRegisterSharedQueue;
  api.proxy_resolve_shared_queue = &hResolveSharedQueue;
  api.proxy_enqueue_shared_queue = &hEnqueueSharedQueue;
  api.proxy_dequeue_shared_queue = &hDequeueSharedQueue;
  api.proxy_define_metric = &hDefineMetric;
  api.proxy_increment_metric = &hIncrementMetric;
  api.proxy_record_metric = &hRecordMetric;
  api.proxy_get_metric = &hGetMetric;
  api.proxy_http_call = &hHttpCall;
  api.proxy_grpc_call = &hGrpcCall;
  api.proxy_grpc_stream = &hGrpcStream;
  api.proxy_grpc_send = &hGrpcSend;
  api.proxy_grpc_cancel = &hGrpcCancel;
  api.proxy_grpc_close = &hGrpcClose;
  api.proxy_get_configuration = &hGetConfiguration;
  api.proxy_continue_request = &hContinueRequest;
  api.proxy_continue_response = &hContinueResponse;
  api.proxy_clear_route_cache = &hClearRouteCache;
  return api;
}

const NullVmHostApi& NullVm::hostApi() {
  static const NullVmHostApi api = makeHostApi();
  return api;
}

Result<std::unique_ptr<WasmVm>> NullModule::instantiate(const ImportResolver& imports) {
  auto vm = std::make_unique<NullVm>(plugin_, abiMarker(plugin_));
  WG_RETURN_IF_ERROR(vm->start(imports));
  instantiations_->fetch_add(1, std::memory_order_relaxed);
  return std::unique_ptr<WasmVm>(std::move(vm));
}

// ---------------------------------------------------------------------------------------------

class NullEngine final : public WasmEngine {
public:
  std::string_view name() const override { return kNullRuntimeName; }

  Result<std::shared_ptr<CompiledModule>> compile(std::string_view bytes,
                                                  const std::string& module_name,
                                                  const CompileOptions&) override {
    const NullVmPlugin* plugin = nullvm::findPlugin(bytes);
    if (!plugin) {
      std::string known;
      for (const std::string& n : nullPluginNames())
        known += (known.empty() ? "" : ", ") + n;
      return Status::error("no native (null runtime) plugin named '" + std::string(bytes) +
                           "' is linked into this build (it has: " +
                           (known.empty() ? "none" : known) + ")");
    }
    if (plugin->api_version != nullvm::kNullVmApiVersion)
      return Status::error("native plugin '" + std::string(bytes) + "' was built for null-VM API " +
                           std::to_string(plugin->api_version) + ", this build speaks " +
                           std::to_string(nullvm::kNullVmApiVersion));
    compiles_.fetch_add(1, std::memory_order_relaxed);
    return std::shared_ptr<CompiledModule>(
        std::make_shared<NullModule>(*plugin, module_name, instantiations_));
  }

  EngineStats stats() const override {
    return {compiles_.load(std::memory_order_relaxed),
            instantiations_->load(std::memory_order_relaxed)};
  }

private:
  std::atomic<uint64_t> compiles_{0};
  std::shared_ptr<std::atomic<uint64_t>> instantiations_ =
      std::make_shared<std::atomic<uint64_t>>(0);
};

} // namespace

std::shared_ptr<WasmEngine> createNullEngine() { return std::make_shared<NullEngine>(); }

std::vector<std::string> nullPluginNames() { return nullvm::registeredPluginNames(); }

} // namespace wasmgate::wasm
