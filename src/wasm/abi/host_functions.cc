// The host-function table, the shared HostCall machinery, and the core functions: logging,
// time, status, effective context, proxy_done, foreign functions, properties, 0.1.0's
// proxy_get_configuration, and the emscripten leftovers (ABI doc 1.1, 1.5, 1.11).

#include <algorithm>

#include "wasm/abi/host_call.h"
#include "wasm/abi/host_functions.h"

namespace wasmgate::wasm::abi {

// ---------------------------------------------------------------------------------------------
// HostCall

const char* HostCall::restriction(const WasmInstance& instance, unsigned allow) {
  switch (instance.currentCallback()) {
  case Callback::Startup:
    return (allow & kInStartup) ? nullptr : "during VM startup (_initialize/_start/main)";
  case Callback::Allocator:
    return (allow & kInAllocator) ? nullptr : "while the guest allocator runs";
  default:
    return nullptr;
  }
}

WasmResult HostCall::returnBytes(std::string_view data, uint32_t ptr_ptr, uint32_t size_ptr) {
  if (data.empty()) {
    if (!writeU32(ptr_ptr, 0) || !writeU32(size_ptr, 0))
      return WasmResult::InvalidMemoryAccess;
    return WasmResult::Ok;
  }
  if (data.size() > UINT32_MAX || !inBounds(ptr_ptr, 4) || !inBounds(size_ptr, 4))
    return WasmResult::InvalidMemoryAccess;
  const uint32_t size = uint32_t(data.size());
  auto addr = instance_.allocate(size);
  // A failed allocation call has failed the VM: the engine unwinds the guest after we return.
  if (!addr.ok() || *addr == 0 || !writeBytes(*addr, data))
    return WasmResult::InvalidMemoryAccess;
  if (!writeU32(ptr_ptr, *addr) || !writeU32(size_ptr, size))
    return WasmResult::InvalidMemoryAccess;
  return WasmResult::Ok;
}

Pairs lowerCasedPairs(std::string_view serialized) {
  Pairs pairs = deserializePairs(serialized);
  for (auto& [k, v] : pairs)
    k = http::toLower(k);
  return pairs;
}

// ---------------------------------------------------------------------------------------------
// Core functions

namespace {

constexpr uint32_t kMaxLogLevel = 5; // critical

uint32_t proxyLog(HostCall& c, uint32_t level, uint32_t ptr, uint32_t len) {
  if (level > kMaxLogLevel)
    return word(WasmResult::BadArgument);
  auto message = c.read(ptr, len);
  if (!message)
    return word(WasmResult::InvalidMemoryAccess);
  c.context().log(level, *message);
  return word(WasmResult::Ok);
}

uint32_t proxyGetLogLevel(HostCall& c, uint32_t ret_ptr) {
  // Envoy's "off" (6) is outside the guest's LogLevel enum (UB for the Rust SDK): clamp.
  const uint32_t level = std::min(c.context().logLevel(), kMaxLogLevel);
  return word(c.writeU32(ret_ptr, level) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint32_t proxyGetCurrentTimeNanoseconds(HostCall& c, uint32_t ret_ptr) {
  return word(c.writeU64(ret_ptr, c.context().realTimeNanoseconds())
                  ? WasmResult::Ok
                  : WasmResult::InvalidMemoryAccess);
}

uint32_t proxySetTickPeriodMilliseconds(HostCall& c, uint32_t period_ms) {
  return word(c.root().setTickPeriod(period_ms));
}

uint32_t proxyGetStatus(HostCall& c, uint32_t code_ptr, uint32_t msg_ptr_ptr,
                        uint32_t msg_size_ptr) {
  uint32_t code = 0;
  std::string message;
  if (WasmResult r = c.root().getStatus(code, message); r != WasmResult::Ok)
    return word(r);
  if (!c.writeU32(code_ptr, code))
    return word(WasmResult::InvalidMemoryAccess);
  return word(c.returnBytes(message, msg_ptr_ptr, msg_size_ptr));
}

uint32_t proxySetEffectiveContext(HostCall& c, uint32_t context_id) {
  return word(c.setEffectiveContext(context_id) ? WasmResult::Ok : WasmResult::BadArgument);
}

uint32_t proxyDone(HostCall& c) { return word(c.context().done()); }

uint32_t proxyCallForeignFunction(HostCall& c, uint32_t name_ptr, uint32_t name_len,
                                  uint32_t args_ptr, uint32_t args_len, uint32_t ret_ptr_ptr,
                                  uint32_t ret_size_ptr) {
  auto name = c.read(name_ptr, name_len);
  if (!name)
    return word(WasmResult::InvalidMemoryAccess);
  auto args = c.read(args_ptr, args_len);
  if (!args)
    return word(WasmResult::InvalidMemoryAccess);
  std::string result;
  const WasmResult r =
      c.context().callForeignFunction(std::string(*name), std::string(*args), result);
  // cpp-host: a zero out-pointer means "discard the result" / "don't report the size";
  // the pointers are written whatever the function returned.
  // Check the out-params before allocating so a bad one does not leak a guest block.
  if ((ret_ptr_ptr != 0 && !c.inBounds(ret_ptr_ptr, 4)) ||
      (ret_size_ptr != 0 && !c.inBounds(ret_size_ptr, 4)))
    return word(WasmResult::InvalidMemoryAccess);
  uint32_t addr = 0;
  if (ret_ptr_ptr != 0 && !result.empty()) {
    auto allocated = c.instance().allocate(uint32_t(result.size()));
    if (!allocated.ok() || *allocated == 0 || !c.writeBytes(*allocated, result))
      return word(WasmResult::InvalidMemoryAccess);
    addr = *allocated;
  }
  if (ret_ptr_ptr != 0 && !c.writeU32(ret_ptr_ptr, addr))
    return word(WasmResult::InvalidMemoryAccess);
  if (ret_size_ptr != 0 && !c.writeU32(ret_size_ptr, uint32_t(result.size())))
    return word(WasmResult::InvalidMemoryAccess);
  return word(r);
}

// plugin_name / plugin_root_id / plugin_vm_id, answered by the ABI layer so they work in
// proxy_on_context_create of a root context (the C++ SDK needs plugin_root_id there).
// nullopt: not one of them.
std::optional<WasmResult> pluginProperty(const PluginInfo& plugin, std::string_view path,
                                         std::string& value) {
  const size_t nul = path.find('\0');
  const std::string_view first = path.substr(0, nul);
  const std::string_view rest = nul == std::string_view::npos ? "" : path.substr(nul + 1);
  const std::string* field = first == "plugin_name"      ? &plugin.name
                             : first == "plugin_root_id" ? &plugin.root_id
                             : first == "plugin_vm_id"   ? &plugin.vm_id
                                                         : nullptr;
  if (!field)
    return std::nullopt;
  // A string has no fields; a trailing NUL (C++ SDK) is no segment.
  if (rest.find_first_not_of('\0') != std::string_view::npos)
    return WasmResult::NotFound;
  value = *field;
  return WasmResult::Ok;
}

uint32_t proxyGetProperty(HostCall& c, uint32_t path_ptr, uint32_t path_len, uint32_t ret_ptr_ptr,
                          uint32_t ret_size_ptr) {
  auto path = c.read(path_ptr, path_len);
  if (!path)
    return word(WasmResult::InvalidMemoryAccess);
  // Envoy: an empty path resolves to a null value, which does not serialize.
  if (path->substr(0, path->find('\0')).empty())
    return word(WasmResult::SerializationFailure);
  std::string value;
  WasmResult r;
  if (auto p = pluginProperty(c.plugin(), *path, value))
    r = *p;
  else
    r = c.context().getProperty(*path, value);
  if (r != WasmResult::Ok)
    return word(r);
  return word(c.returnBytes(value, ret_ptr_ptr, ret_size_ptr));
}

uint32_t proxySetProperty(HostCall& c, uint32_t path_ptr, uint32_t path_len, uint32_t value_ptr,
                          uint32_t value_len) {
  auto path = c.read(path_ptr, path_len);
  auto value = c.read(value_ptr, value_len);
  if (!path || !value)
    return word(WasmResult::InvalidMemoryAccess);
  return word(c.context().setProperty(*path, *value));
}

// ABI 0.1.0: the plugin configuration inside proxy_on_configure, else the VM configuration.
uint32_t proxyGetConfiguration(HostCall& c, uint32_t ret_ptr_ptr, uint32_t ret_size_ptr) {
  const PluginInfo& plugin = c.plugin();
  const bool configuring =
      c.callback() == Callback::Configure || c.callback() == Callback::ValidateConfiguration;
  const std::string data = configuring ? plugin.plugin_configuration : plugin.vm_configuration;
  return word(c.returnBytes(data, ret_ptr_ptr, ret_size_ptr));
}

// Emscripten libc++ leftover.
uint32_t pthreadEqual(HostCall&, uint32_t a, uint32_t b) { return a == b ? 1 : 0; }

// Emscripten builds with ALLOW_MEMORY_GROWTH call it after memory.grow; the engine re-reads
// the memory size on every host call anyway.
void emscriptenNotifyMemoryGrowth(HostCall&, uint32_t) {}

} // namespace

void registerCoreFunctions(Registrar& r, AbiVersion version) {
  r.env<&proxyLog>("proxy_log", kAnywhere);
  if (version == AbiVersion::V0_2_1)
    r.env<&proxyGetLogLevel>("proxy_get_log_level");
  r.env<&proxyGetCurrentTimeNanoseconds>("proxy_get_current_time_nanoseconds");
  r.env<&proxySetTickPeriodMilliseconds>("proxy_set_tick_period_milliseconds");
  r.env<&proxyGetStatus>("proxy_get_status");
  r.env<&proxySetEffectiveContext>("proxy_set_effective_context");
  r.env<&proxyDone>("proxy_done");
  r.env<&proxyCallForeignFunction>("proxy_call_foreign_function");
  r.env<&proxyGetProperty>("proxy_get_property");
  r.env<&proxySetProperty>("proxy_set_property");
  if (version == AbiVersion::V0_1_0)
    r.env<&proxyGetConfiguration>("proxy_get_configuration");
  // Pure functions: harmless anywhere, and emscripten's malloc may grow memory.
  r.env<&pthreadEqual>("pthread_equal", kAnywhere);
  r.env<&emscriptenNotifyMemoryGrowth>("emscripten_notify_memory_growth", kAnywhere);
}

// ---------------------------------------------------------------------------------------------
// The tables

namespace {

Registrar build(AbiVersion version) {
  Registrar r;
  registerCoreFunctions(r, version);
  registerHttpFunctions(r, version);
  registerServiceFunctions(r, version);
  registerWasiFunctions(r);
  std::sort(r.names.begin(), r.names.end());
  return r;
}

const Registrar& registrar(AbiVersion version) {
  // Function-local statics: built on first use, thread-safe, immutable afterwards.
  switch (version) {
  case AbiVersion::V0_1_0: {
    static const Registrar r = build(AbiVersion::V0_1_0);
    return r;
  }
  case AbiVersion::V0_2_0: {
    static const Registrar r = build(AbiVersion::V0_2_0);
    return r;
  }
  case AbiVersion::V0_2_1:
  default: {
    static const Registrar r = build(AbiVersion::V0_2_1);
    return r;
  }
  }
}

} // namespace

const ImportTable& hostFunctions(AbiVersion version) { return registrar(version).table; }

std::vector<std::string> hostFunctionNames(AbiVersion version) { return registrar(version).names; }

} // namespace wasmgate::wasm::abi
