#pragma once

// Internal to the ABI layer: what every host function needs (its instance and context, guest
// memory access with bounds checks, the return-pair convention) and the adapter that binds a
// plain function `R f(HostCall&, uint32_t...)` as an import with its restriction rules.
// Not for embedders.

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasm/abi/host_context.h"
#include "wasm/abi/pairs.h"
#include "wasm/abi/wasm_instance.h"
#include "wasm/engine.h"

namespace wasmgate::wasm::abi {

inline constexpr uint32_t word(WasmResult r) { return uint32_t(r); }

// WASI errno values (ABI doc 3.17).
namespace wasi {
inline constexpr uint32_t kSuccess = 0;
inline constexpr uint32_t kBadf = 8;
inline constexpr uint32_t kExist = 20;
inline constexpr uint32_t kFault = 21;
inline constexpr uint32_t kInval = 28;
inline constexpr uint32_t kIo = 29;
inline constexpr uint32_t kNoent = 44;
inline constexpr uint32_t kNosys = 52;
inline constexpr uint32_t kNotsup = 58;
} // namespace wasi

// Where a host function may run besides ordinary callbacks (ABI doc 0.2 and 2.1).
enum Allow : unsigned {
  kCallbacksOnly = 0,
  kInStartup = 1,   // _initialize / _start / main
  kInAllocator = 2, // while malloc / proxy_on_memory_allocate runs
  kAnywhere = kInStartup | kInAllocator,
};

class HostCall {
public:
  HostCall(HostCallContext& raw, WasmInstance& instance) : raw_(raw), instance_(instance) {}

  WasmInstance& instance() { return instance_; }
  WasmVm& vm() { return raw_.vm(); }
  AbiVersion version() const { return instance_.version_; }
  Callback callback() const { return instance_.currentCallback(); }

  // The effective context (proxy_set_effective_context) or else the current one.
  HostContext& context() { return instance_.effectiveContext(); }
  HostContext& root() { return context().rootContext(); }
  const PluginInfo& plugin() { return instance_.pluginOf(context()); }
  const std::vector<std::pair<std::string, std::string>>& environment() const {
    return instance_.environment_;
  }
  bool setEffectiveContext(uint32_t id) { return instance_.setEffectiveContext(id); }
  void markLocalResponseSent() { instance_.markLocalResponseSent(); }
  void trap(std::string reason) { raw_.trap(std::move(reason)); }

  // Guest memory; views are valid until the guest runs again (an allocation included).
  std::optional<std::string_view> read(uint32_t ptr, uint32_t len) {
    return vm().getMemory(ptr, len);
  }
  bool inBounds(uint32_t ptr, uint32_t len) { return vm().getMemory(ptr, len).has_value(); }
  bool writeU32(uint32_t ptr, uint32_t v) { return vm().setWord(ptr, v); }
  bool writeU64(uint32_t ptr, uint64_t v) { return vm().setWord64(ptr, v); }
  bool writeBytes(uint32_t ptr, std::string_view bytes) { return vm().setMemory(ptr, bytes); }

  // The return-pair convention (ABI doc 0.2): empty -> (0,0) without allocating; else the
  // guest allocator gets exactly data.size() bytes, the data is copied there and (addr, size)
  // written to the out-params. Out-params are checked before allocating so a bad one does not
  // leak a guest block. A trapping allocator fails the VM; the engine unwinds the guest.
  WasmResult returnBytes(std::string_view data, uint32_t ptr_ptr, uint32_t size_ptr);

  // Whether a host function with these allowances may run now; the reason if not.
  static const char* restriction(const WasmInstance& instance, unsigned allow);

private:
  HostCallContext& raw_;
  WasmInstance& instance_;
};

// Binds `Fn` (R Fn(HostCall&, A...)) as a host function named `qualified` ("env.proxy_log").
template <auto Fn> struct HostFn;
template <class R, class... A, R (*Fn)(HostCall&, A...)> struct HostFn<Fn> {
  static HostFunction make(std::string qualified, unsigned allow) {
    // capability_restriction_config names functions without their module.
    std::string name = qualified.substr(qualified.find('.') + 1);
    const bool wasi = qualified.rfind("env.", 0) != 0;
    return HostFunction::make([qualified = std::move(qualified), name = std::move(name), wasi,
                               allow](HostCallContext& raw, A... args) -> R {
      auto* instance = static_cast<WasmInstance*>(raw.vm().hostData());
      if (!instance) {
        // Only a module start function can get here: it runs inside instantiate().
        raw.trap(qualified + " called before the Proxy-Wasm instance was set up");
        return R();
      }
      if (instance->capabilitiesRestricted() && !instance->capabilityAllowed(name)) {
        instance->capabilityDenied(name);
        if constexpr (std::is_void_v<R>)
          return;
        else
          return R(wasi ? wasi::kNosys : word(WasmResult::Unimplemented));
      }
      if (const char* why = HostCall::restriction(*instance, allow)) {
        raw.trap("restricted callback: " + qualified + " is not allowed " + why);
        return R();
      }
      // An embedder's HostContext must not throw into V8 frames: turn it into a trap.
      try {
        HostCall call(raw, *instance);
        return Fn(call, args...);
      } catch (const std::exception& e) {
        raw.trap(qualified + " failed: " + e.what());
      } catch (...) {
        raw.trap(qualified + " failed with an unknown exception");
      }
      return R();
    });
  }
};

// Collects functions into an ImportTable and their names.
class Registrar {
public:
  template <auto Fn> void env(const char* name, unsigned allow = kCallbacksOnly) {
    add("env", name, HostFn<Fn>::make(std::string("env.") + name, allow));
  }
  // WASI preview1, provided under both module names with one implementation.
  template <auto Fn> void wasi(const char* name, unsigned allow = kCallbacksOnly) {
    for (const char* module : {"wasi_snapshot_preview1", "wasi_unstable"})
      add(module, name, HostFn<Fn>::make(std::string(module) + "." + name, allow));
  }

  ImportTable table;
  std::vector<std::string> names;

private:
  void add(const char* module, const char* name, HostFunction fn) {
    table.add(module, name, std::move(fn));
    names.push_back(std::string(module) + "." + name);
  }
};

// Per area (one .cc each).
void registerCoreFunctions(Registrar& r, AbiVersion version);    // host_functions.cc
void registerHttpFunctions(Registrar& r, AbiVersion version);    // host_functions_http.cc
void registerServiceFunctions(Registrar& r, AbiVersion version); // host_functions_services.cc
void registerWasiFunctions(Registrar& r);                        // host_functions_wasi.cc

// Shared helpers.
Pairs lowerCasedPairs(std::string_view serialized);

} // namespace wasmgate::wasm::abi
