#pragma once

// The engine seam: compile a module once, instantiate it per worker thread, bind host functions
// as imports, call exports with typed arguments, and read or write linear memory with bounds
// checks. It knows nothing about Proxy-Wasm (that is the ABI layer) and nothing about V8 (each
// engine lives in engines/<name>/ behind one factory function).
//
// Threading model:
//   - WasmEngine and CompiledModule are thread-safe. Compile once (any thread), then call
//     instantiate() on each worker thread; instantiating reuses the compiled code.
//   - A WasmVm belongs to the thread that instantiated it: call, memory access and destruction
//     happen there. The only exception is terminate(), which a watchdog calls from any thread.
//
// Errors: every fallible call returns Status/Result; guest traps, host-requested traps and
// terminations come back as errors and mark the VM failed. No exceptions cross this seam.

#include <concepts>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/status.h"
#include "wasm/bytecode.h"

namespace wasmgate::wasm {

class WasmVm;

// ---------------------------------------------------------------------------------------------
// Value types crossing the seam. Proxy-Wasm needs only i32 and i64; signed and unsigned C++
// integers of either width map to the same wasm type (wasm integers have no sign).

template <class T>
concept WasmInt = std::same_as<T, uint32_t> || std::same_as<T, int32_t> ||
    std::same_as<T, uint64_t> || std::same_as<T, int64_t>;

template <class T>
concept WasmResultType = std::is_void_v<T> || WasmInt<T>;

// Host functions and typed calls take at most this many parameters (proxy_grpc_call has 12).
inline constexpr size_t kMaxTypedParams = 12;

namespace detail {

template <WasmInt T> constexpr ValType valTypeOf() {
  return sizeof(T) == 4 ? ValType::I32 : ValType::I64;
}

// Values travel as 64-bit patterns; an i32 is zero-extended.
template <WasmInt T> constexpr uint64_t toBits(T v) {
  if constexpr (sizeof(T) == 4)
    return uint64_t(uint32_t(v));
  else
    return uint64_t(v);
}

template <WasmInt T> constexpr T fromBits(uint64_t bits) {
  if constexpr (sizeof(T) == 4)
    return T(uint32_t(bits));
  else
    return T(bits);
}

template <WasmResultType R, WasmInt... A> FunctionType functionTypeOf() {
  FunctionType t;
  t.params = {valTypeOf<A>()...};
  if constexpr (!std::is_void_v<R>)
    t.results = {valTypeOf<R>()};
  return t;
}

} // namespace detail

// What a call returns: Status for a void function, Result<R> otherwise.
template <class R> using CallResult = std::conditional_t<std::is_void_v<R>, Status, Result<R>>;

// ---------------------------------------------------------------------------------------------
// Host functions

// Passed to every host function: the calling VM (for memory access and nested guest calls) and
// an exception-free way to abort the guest.
class HostCallContext {
public:
  explicit HostCallContext(WasmVm& vm) : vm_(vm) {}

  WasmVm& vm() const { return vm_; }

  // Makes the guest trap as soon as the host function returns: the guest stack unwinds, the
  // outermost WasmVm call returns an error carrying `reason` (with the guest backtrace), and the
  // VM is marked failed. The host function's own return value is then ignored.
  void trap(std::string reason) {
    if (!trap_)
      trap_ = std::move(reason);
  }
  bool trapRequested() const { return trap_.has_value(); }
  const std::string& trapReason() const { return *trap_; }

private:
  WasmVm& vm_;
  std::optional<std::string> trap_;
};

// A C++ callable bound as a wasm import, with its wasm signature derived from its C++ type.
// Copying is cheap (the callable is shared).
class HostFunction {
public:
  // args holds one 64-bit pattern per parameter; returns the result pattern (0 for void).
  using Invoker = uint64_t (*)(void* callable, HostCallContext&, const uint64_t* args);

  HostFunction() = default;

  // Binds `f`, callable as R(HostCallContext&, A...) with each A one of uint32_t, int32_t,
  // uint64_t, int64_t (at most kMaxTypedParams) and R void or one of those. Lambdas with
  // captures and plain function pointers both work; `f` must not be overloaded or generic.
  template <class F> static HostFunction make(F f) {
    return makeFrom(std::move(f), static_cast<SignatureOf<F>*>(nullptr));
  }

  const FunctionType& type() const { return type_; }
  explicit operator bool() const { return invoker_ != nullptr; }
  uint64_t invoke(HostCallContext& ctx, const uint64_t* args) const {
    return invoker_(callable_.get(), ctx, args);
  }

private:
  // std::function's deduction guide spells out the callable's signature.
  template <class F> using SignatureOf = decltype(std::function{std::declval<F>()});

  template <class F, class R, class Ctx, class... A>
  static HostFunction makeFrom(F f, std::function<R(Ctx, A...)>*) {
    static_assert(std::is_same_v<Ctx, HostCallContext&>,
                  "a host function's first parameter must be HostCallContext&");
    static_assert((WasmInt<A> && ...), "host function parameters must be (u)int32_t/(u)int64_t");
    static_assert(WasmResultType<R>, "host function result must be void or (u)int32_t/(u)int64_t");
    static_assert(sizeof...(A) <= kMaxTypedParams, "too many host function parameters");
    HostFunction h;
    h.type_ = detail::functionTypeOf<R, A...>();
    h.callable_ = std::make_shared<F>(std::move(f));
    h.invoker_ = &invokeImpl<F, R, A...>;
    return h;
  }

  template <class F, class R, class... A>
  static uint64_t invokeImpl(void* callable, HostCallContext& ctx, const uint64_t* args) {
    return invokeUnpacked<F, R, A...>(*static_cast<F*>(callable), ctx, args,
                                      std::index_sequence_for<A...>{});
  }

  template <class F, class R, class... A, size_t... I>
  static uint64_t invokeUnpacked(F& f, HostCallContext& ctx, const uint64_t* args,
                                 std::index_sequence<I...>) {
    (void)args; // unused when there are no parameters
    if constexpr (std::is_void_v<R>) {
      f(ctx, detail::fromBits<A>(args[I])...);
      return 0;
    } else {
      return detail::toBits<R>(f(ctx, detail::fromBits<A>(args[I])...));
    }
  }

  FunctionType type_;
  Invoker invoker_ = nullptr;
  std::shared_ptr<void> callable_;
};

// Supplies host functions for a module's function imports. Memory and table imports are created
// by the engine from the import's declared limits; global and tag imports are not supported.
class ImportResolver {
public:
  virtual ~ImportResolver() = default;
  // nullptr when the host does not provide module.name: instantiation then fails naming it.
  // The engine checks the host function's signature against the import's.
  virtual const HostFunction* resolveFunction(std::string_view module,
                                              std::string_view name) const = 0;
};

// A map-backed ImportResolver: the simplest way to declare a host module.
class ImportTable : public ImportResolver {
public:
  ImportTable& add(std::string module, std::string name, HostFunction fn) {
    functions_[{std::move(module), std::move(name)}] = std::move(fn);
    return *this;
  }
  template <class F> ImportTable& add(std::string module, std::string name, F f) {
    return add(std::move(module), std::move(name), HostFunction::make(std::move(f)));
  }

  const HostFunction* resolveFunction(std::string_view module,
                                      std::string_view name) const override {
    auto it = functions_.find({std::string(module), std::string(name)});
    return it == functions_.end() ? nullptr : &it->second;
  }

private:
  std::map<std::pair<std::string, std::string>, HostFunction> functions_;
};

// ---------------------------------------------------------------------------------------------
// Instances

template <class Sig> class WasmFunction;

// One instance of a module: linear memory, globals and exports. Single-threaded (see top).
class WasmVm {
public:
  virtual ~WasmVm() = default;
  WasmVm() = default;
  WasmVm(const WasmVm&) = delete;
  WasmVm& operator=(const WasmVm&) = delete;

  virtual std::string_view engineName() const = 0;

  // ---- exports

  // The signature of an exported function, or nullopt when there is no such function export.
  virtual std::optional<FunctionType> functionType(std::string_view name) const = 0;
  bool hasFunction(std::string_view name, const FunctionType& type) const {
    auto t = functionType(name);
    return t && *t == type;
  }

  // Resolves an exported function with exactly this signature to a handle for callRaw();
  // nullopt when it is missing or has another signature.
  virtual std::optional<uint32_t> findFunction(std::string_view name, const FunctionType& type) = 0;

  // Calls a resolved function. args holds one 64-bit pattern per parameter (i32 zero-extended);
  // the result is the returned pattern, 0 for a void function. On a trap, termination or host
  // trap: an error (reason + guest backtrace) and the VM is failed. Calls nest: a host function
  // may call back into the guest (e.g. its allocator).
  virtual Result<uint64_t> callRaw(uint32_t function, std::span<const uint64_t> args) = 0;

  // Typed handle: vm.getFunction<uint32_t(uint32_t, uint32_t)>("proxy_on_request_headers").
  template <class Sig> std::optional<WasmFunction<Sig>> getFunction(std::string_view name);

  // Typed one-off call by name: vm.call<uint32_t>("malloc", 16u), vm.call<void>("_initialize").
  // The signature is derived from R and the argument types; a missing export or a different
  // signature is an error that does not fail the VM.
  template <WasmResultType R = void, WasmInt... A>
  CallResult<R> call(std::string_view name, A... args);

  // ---- linear memory (the first exported memory, or the imported one)
  //
  // Views and sizes are valid only until the guest runs again: a guest call may grow memory
  // and move it. Re-fetch after every call into the guest (host functions included).

  virtual uint64_t memorySize() = 0;
  // [ptr, ptr+size) if it lies inside memory (computed without overflow); (0,0) is always valid.
  virtual std::optional<std::string_view> getMemory(uint32_t ptr, uint32_t size) = 0;
  // Writable view of the same range.
  virtual std::optional<std::span<char>> getMemoryMutable(uint32_t ptr, uint32_t size) = 0;

  bool setMemory(uint32_t ptr, std::string_view data) {
    if (data.size() > UINT32_MAX)
      return false;
    auto view = getMemoryMutable(ptr, uint32_t(data.size()));
    if (!view)
      return false;
    if (!data.empty())
      std::memcpy(view->data(), data.data(), data.size());
    return true;
  }
  // Little-endian 32/64-bit words, the guest's byte order.
  bool setWord(uint32_t ptr, uint32_t v) { return setLe(ptr, v); }
  bool setWord64(uint32_t ptr, uint64_t v) { return setLe(ptr, v); }
  std::optional<uint32_t> getWord(uint32_t ptr) { return getLe<uint32_t>(ptr); }
  std::optional<uint64_t> getWord64(uint32_t ptr) { return getLe<uint64_t>(ptr); }

  // ---- failure and termination

  // True after a trap, a host trap or terminate(); every later call returns an error.
  virtual bool failed() const = 0;
  // True once terminate() was called: the failure is a callback over its time limit.
  virtual bool terminated() const = 0;
  virtual std::string failureReason() const = 0;
  // Thread-safe (the watchdog's call). Stops guest code running in this VM, if any, as soon as
  // possible: that call returns "terminated (callback took too long)"; other VMs on the same
  // thread are unaffected. The VM is failed afterwards either way.
  virtual void terminate() = 0;
  // Fails the VM from the host side (a guest broke the ABI contract, e.g. returned a status
  // that does not exist): later calls return an error, as after a trap. The first reason stays.
  virtual void fail(const std::string& reason) = 0;

  // ---- embedder data: lets host functions find their owner without thread-locals.
  void setHostData(void* data) { host_data_ = data; }
  void* hostData() const { return host_data_; }

private:
  template <class T> bool setLe(uint32_t ptr, T v) {
    char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i)
      b[i] = char(uint8_t(v >> (8 * i)));
    return setMemory(ptr, std::string_view(b, sizeof(T)));
  }
  template <class T> std::optional<T> getLe(uint32_t ptr) {
    auto view = getMemory(ptr, sizeof(T));
    if (!view)
      return std::nullopt;
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= T(uint8_t((*view)[i])) << (8 * i);
    return v;
  }

  void* host_data_ = nullptr;
};

// A resolved export with a fixed C++ signature; the VM must outlive it.
template <WasmResultType R, WasmInt... A> class WasmFunction<R(A...)> {
public:
  static_assert(sizeof...(A) <= kMaxTypedParams, "too many parameters");

  WasmFunction(WasmVm& vm, uint32_t handle) : vm_(&vm), handle_(handle) {}

  CallResult<R> operator()(A... args) const {
    const uint64_t bits[sizeof...(A) + 1] = {detail::toBits<A>(args)..., 0};
    auto r = vm_->callRaw(handle_, std::span<const uint64_t>(bits, sizeof...(A)));
    if constexpr (std::is_void_v<R>) {
      return r.ok() ? okStatus() : r.status();
    } else {
      if (!r.ok())
        return r.status();
      return detail::fromBits<R>(*r);
    }
  }

  static FunctionType type() { return detail::functionTypeOf<R, A...>(); }

private:
  WasmVm* vm_;
  uint32_t handle_;
};

template <class Sig> std::optional<WasmFunction<Sig>> WasmVm::getFunction(std::string_view name) {
  auto handle = findFunction(name, WasmFunction<Sig>::type());
  if (!handle)
    return std::nullopt;
  return WasmFunction<Sig>(*this, *handle);
}

template <WasmResultType R, WasmInt... A>
CallResult<R> WasmVm::call(std::string_view name, A... args) {
  auto fn = getFunction<R(A...)>(name);
  if (!fn) {
    auto actual = functionType(name);
    const std::string expected = detail::functionTypeOf<R, A...>().toString();
    return Status::error(actual ? "export '" + std::string(name) + "' has signature " +
                                      actual->toString() + ", not " + expected
                                : "no exported function '" + std::string(name) + "'");
  }
  return (*fn)(args...);
}

// ---------------------------------------------------------------------------------------------
// Modules and engines

// A validated, compiled module: immutable and shareable across threads.
class CompiledModule {
public:
  virtual ~CompiledModule() = default;

  virtual const std::string& name() const = 0;
  // Imports, exports (with signatures), custom sections, function body ranges.
  virtual const ModuleInfo& info() const = 0;
  // The bytes that were compiled (after any memory-limit rewrite).
  virtual std::string_view bytes() const = 0;
  // Function names from the "name" section (empty when absent or malformed).
  virtual const NameSection& names() const = 0;

  std::vector<std::string_view> customSections(std::string_view name) const {
    return info().customSections(bytes(), name);
  }

  // Creates an instance for the calling thread, linking function imports through `imports`,
  // without recompiling. Runs the module's start function, if any.
  virtual Result<std::unique_ptr<WasmVm>> instantiate(const ImportResolver& imports) = 0;
};

struct CompileOptions {
  // Caps every memory's maximum (defined and imported) by rewriting the module before it is
  // compiled, so memory.grow past it returns -1. Rounded down to whole 64 KiB pages.
  std::optional<uint64_t> max_memory_bytes;
};

struct EngineStats {
  uint64_t compiles = 0;
  uint64_t instantiations = 0;
};

// One per runtime kind, process-wide.
class WasmEngine {
public:
  virtual ~WasmEngine() = default;
  // The Envoy runtime name, e.g. "envoy.wasm.runtime.v8".
  virtual std::string_view name() const = 0;
  // Validates and compiles once; errors name the module and what was wrong.
  virtual Result<std::shared_ptr<CompiledModule>> compile(std::string_view bytes,
                                                          const std::string& module_name,
                                                          const CompileOptions& options = {}) = 0;
  virtual EngineStats stats() const = 0;
};

} // namespace wasmgate::wasm
