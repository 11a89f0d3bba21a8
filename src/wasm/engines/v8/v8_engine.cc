// Compiled only by targets that link wasmgate::v8 (it defines WG_WITH_V8), so a build that globs
// every src/**/*.cc without V8's headers on its include path still builds.
#ifdef WG_WITH_V8

#include "wasm/engines/v8/v8_engine.h"

#include <libplatform/libplatform.h>
#include <v8-version.h>
#include <v8.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

// Debian's libnode108 ships V8 10.2 built without pointer compression (and so without the
// sandbox or 31-bit Smis); headers configured otherwise disagree with the library about object
// layout and crash at once. v8::V8::Initialize() double-checks at run time.
#if defined(V8_COMPRESS_POINTERS) || defined(V8_31BIT_SMIS_ON_64BIT_ARCH) || defined(V8_SANDBOX)
#error "libnode's V8 is built without pointer compression: do not define V8_COMPRESS_POINTERS"
#endif
static_assert(V8_MAJOR_VERSION == 10 && V8_MINOR_VERSION == 2, "expected V8 10.2 (libnode108)");

namespace wasmgate::wasm {
namespace {

constexpr int kMaxBacktraceFrames = 32;
constexpr char kTerminated[] = "terminated (callback took too long)";

// ---------------------------------------------------------------------------------------------
// Process-wide V8: initialised once, never torn down (V8 cannot be re-initialised, and worker
// threads may still hold isolates while static destructors run).

struct V8Process {
  std::unique_ptr<v8::Platform> platform;
  bool trap_handler = false;
};

std::once_flag g_v8_once;
V8Process* g_v8 = nullptr;

V8Process& initV8(const V8EngineOptions& options) {
  std::call_once(g_v8_once, [&] {
    auto* p = new V8Process;
    p->platform = v8::platform::NewDefaultPlatform();
    v8::V8::InitializePlatform(p->platform.get());
    if (!options.flags.empty())
      v8::V8::SetFlagsFromString(options.flags.c_str());
    // Works under ASan too: V8's SIGSEGV handler runs first and hands faults outside wasm code
    // back to the previous handler (ASan's) - see README.md.
    if (options.trap_handler.value_or(true))
      p->trap_handler = v8::V8::EnableWebAssemblyTrapHandler(/*use_v8_signal_handler=*/true);
    v8::V8::Initialize(); // checks that our header configuration matches the library's
    g_v8 = p;
  });
  return *g_v8;
}

v8::Local<v8::String> v8Str(v8::Isolate* iso, std::string_view s) {
  return v8::String::NewFromUtf8(iso, s.data(), v8::NewStringType::kNormal, int(s.size()))
      .ToLocalChecked();
}

std::string toStdString(v8::Isolate* iso, v8::Local<v8::Value> v) {
  if (v.IsEmpty())
    return {};
  v8::String::Utf8Value s(iso, v);
  return *s ? std::string(*s, s.length()) : std::string();
}

bool supportedSignature(const FunctionType& t) {
  auto intType = [](ValType v) { return v == ValType::I32 || v == ValType::I64; };
  return t.params.size() <= kMaxTypedParams && t.results.size() <= 1 &&
         std::all_of(t.params.begin(), t.params.end(), intType) &&
         std::all_of(t.results.begin(), t.results.end(), intType);
}

class V8Vm;

// Everything a VM keeps in the V8 heap. Reset only on the isolate's thread.
struct V8Handles {
  v8::Global<v8::Object> instance;
  v8::Global<v8::Object> exports;
  std::vector<v8::Global<v8::Function>> functions; // by handle, fetched on first use
  v8::Global<v8::WasmMemoryObject> memory;
};

// ---------------------------------------------------------------------------------------------
// One isolate per thread, shared by every VM instantiated on that thread, with one context.
// Measured (README.md): an extra VM costs far less this way than with a context per VM or an
// isolate per VM, and termination stays scoped because a thread runs one guest stack at a time.

class IsolateHolder {
public:
  // The calling thread's isolate, created on first use. It stays entered on its thread with its
  // context, under a handle scope that lives as long: a guest call then needs no Isolate::Scope
  // or Context::Scope, and its own HandleScope reuses that scope's handle block instead of
  // allocating and freeing one per call (together ~1k instructions per request, callgrind).
  // All three are left when the thread ends; VMs still alive keep the isolate until destroyed.
  static std::shared_ptr<IsolateHolder> forCurrentThread() {
    struct ThreadSlot {
      std::shared_ptr<IsolateHolder> holder;
      // v8::HandleScope may not be heap-allocated; it lives in place here, created after the
      // isolate was entered and destroyed before it is left, so scopes stay properly nested.
      alignas(v8::HandleScope) unsigned char scope[sizeof(v8::HandleScope)];
      ~ThreadSlot() {
        if (!holder)
          return;
        holder->context()->Exit();
        reinterpret_cast<v8::HandleScope*>(scope)->~HandleScope();
        holder->isolate_->Exit();
      }
    };
    thread_local ThreadSlot slot;
    if (!slot.holder) {
      slot.holder = std::make_shared<IsolateHolder>();
      slot.holder->isolate_->Enter();
      ::new (slot.scope) v8::HandleScope(slot.holder->isolate_);
      slot.holder->context()->Enter();
    }
    return slot.holder;
  }

  IsolateHolder() : owner_(std::this_thread::get_id()) {
    allocator_.reset(v8::ArrayBuffer::Allocator::NewDefaultAllocator());
    v8::Isolate::CreateParams params;
    params.array_buffer_allocator = allocator_.get();
    isolate_ = v8::Isolate::New(params);
    // Traps are caught by our TryCatch, so V8 treats them as uncaught and records a stack.
    isolate_->SetCaptureStackTraceForUncaughtExceptions(true, kMaxBacktraceFrames);
    // No promises run here: skip the microtask checkpoint V8 would do after every call.
    isolate_->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
    v8::Isolate::Scope isolate_scope(isolate_);
    v8::HandleScope handle_scope(isolate_);
    auto ctx = v8::Context::New(isolate_);
    v8::Context::Scope context_scope(ctx);
    context_.Reset(isolate_, ctx);
    auto wasm = ctx->Global()->Get(ctx, v8Str(isolate_, "WebAssembly")).ToLocalChecked();
    auto ctor = [&](const char* name) {
      return wasm.As<v8::Object>()
          ->Get(ctx, v8Str(isolate_, name))
          .ToLocalChecked()
          .As<v8::Function>();
    };
    instance_ctor_.Reset(isolate_, ctor("Instance"));
    memory_ctor_.Reset(isolate_, ctor("Memory"));
    table_ctor_.Reset(isolate_, ctor("Table"));
  }

  ~IsolateHolder() {
    graveyard_.clear();
    instance_ctor_.Reset();
    memory_ctor_.Reset();
    table_ctor_.Reset();
    context_.Reset();
    isolate_->Dispose();
  }

  v8::Isolate* isolate() const { return isolate_; }
  bool onOwnerThread() const { return std::this_thread::get_id() == owner_; }
  v8::Local<v8::Context> context() const { return context_.Get(isolate_); }
  v8::Local<v8::Function> instanceCtor() const { return instance_ctor_.Get(isolate_); }
  v8::Local<v8::Function> memoryCtor() const { return memory_ctor_.Get(isolate_); }
  v8::Local<v8::Function> tableCtor() const { return table_ctor_.Get(isolate_); }

  // Scoped termination without a lock on the call path. V8's TerminateExecution stops whatever
  // runs on the isolate, so a watchdog may only request it while the target VM is running, and
  // a request that lands after that VM's call ended must be cancelled before this thread runs
  // another VM. Both sides publish first and check second (all seq_cst), so at least one of
  // them sees the other:
  //   owner:    vm.active_++ ; check vm.terminate_requested_                       (enter)
  //   watchdog: vm.terminate_requested_ = true ; terminating_++ ; if vm.active_: arm + terminate
  //   owner:    vm.active_-- ; wait for terminating_ == 0 ; if armed and no VM still on this
  //             thread's call stack was asked to terminate: cancel                   (leave)
  // Guest calls nest (a host function may call a guest, even another VM's), so the check runs
  // at every leave: a VM terminated inside another VM's host call doesn't take the caller down.
  // Returns false when the VM was asked to terminate before it could start.
  bool enter(std::atomic<int>& active, const std::atomic<bool>& terminate_requested) {
    stack_.push_back(&terminate_requested);
    active.fetch_add(1);
    return !terminate_requested.load();
  }
  void leave(std::atomic<int>& active) {
    active.fetch_sub(1);
    stack_.pop_back();
    while (terminating_.load() != 0)
      std::this_thread::yield(); // a watchdog is between its check and TerminateExecution
    if (armed_.load() && std::none_of(stack_.begin(), stack_.end(),
                                      [](const std::atomic<bool>* r) { return r->load(); })) {
      armed_.store(false);
      isolate_->CancelTerminateExecution();
    }
    if (stack_.empty() && ++outermost_calls_ % kPumpInterval == 0)
      pumpTasks();
  }
  void terminateIfRunning(const std::atomic<int>& active) {
    terminating_.fetch_add(1);
    if (active.load() > 0) {
      armed_.store(true);
      isolate_->TerminateExecution();
    }
    terminating_.fetch_sub(1);
  }

  // A VM destroyed on another thread can't touch the heap; its handles wait here until the
  // owner thread next uses the isolate (or the isolate goes away).
  void bury(std::unique_ptr<V8Handles> handles) {
    std::lock_guard lock(mu_);
    graveyard_.push_back(std::move(handles));
    has_graves_.store(true, std::memory_order_release);
  }
  void collectGraves() {
    if (!has_graves_.load(std::memory_order_acquire))
      return;
    std::vector<std::unique_ptr<V8Handles>> graves;
    {
      std::lock_guard lock(mu_);
      graves.swap(graveyard_);
      has_graves_.store(false, std::memory_order_relaxed);
    }
  }

  // V8 posts foreground tasks (GC steps, code logging) that only run when the embedder pumps.
  // Pumping reads the clock and takes a lock, so it happens every kPumpInterval guest calls
  // and at each instantiation rather than on every call.
  void pumpTasks() {
    for (int i = 0; i < 16; ++i)
      if (!v8::platform::PumpMessageLoop(g_v8->platform.get(), isolate_))
        break;
  }

private:
  static constexpr uint32_t kPumpInterval = 64;

  const std::thread::id owner_;
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator_;
  v8::Isolate* isolate_ = nullptr;
  v8::Global<v8::Context> context_;
  v8::Global<v8::Function> instance_ctor_, memory_ctor_, table_ctor_;
  // Guest calls in progress on this thread, outermost first (owner only): each VM's
  // terminate_requested_ flag.
  std::vector<const std::atomic<bool>*> stack_;
  uint32_t outermost_calls_ = 0; // owner only
  std::atomic<int> terminating_{0};
  std::atomic<bool> armed_{false};

  std::mutex mu_; // guards graveyard_
  std::vector<std::unique_ptr<V8Handles>> graveyard_;
  std::atomic<bool> has_graves_{false};
};

struct EngineCounters {
  std::atomic<uint64_t> compiles{0};
  std::atomic<uint64_t> instantiations{0};
};

// ---------------------------------------------------------------------------------------------

class V8Module final : public CompiledModule, public std::enable_shared_from_this<V8Module> {
public:
  struct ExportedFunction {
    std::string name;
    FunctionType type;
    bool callable; // i32/i64 signature within kMaxTypedParams
  };

  V8Module(std::string name, std::string bytes, ModuleInfo info, NameSection names,
           std::unique_ptr<v8::CompiledWasmModule> compiled,
           std::shared_ptr<EngineCounters> counters)
      : name_(std::move(name)), bytes_(std::move(bytes)), info_(std::move(info)),
        names_(std::move(names)), compiled_(std::move(compiled)), counters_(std::move(counters)) {
    // The export table is the same for every instance: built once here, not per VM.
    for (const Export& e : info_.exports) {
      if (e.kind == ExternKind::Function) {
        index_.emplace(e.name, uint32_t(functions_.size()));
        functions_.push_back({e.name, e.type, supportedSignature(e.type)});
      } else if (e.kind == ExternKind::Memory && !memory_export_) {
        memory_export_ = e.name;
      }
    }
  }

  const std::string& name() const override { return name_; }
  const ModuleInfo& info() const override { return info_; }
  std::string_view bytes() const override { return bytes_; }
  const NameSection& names() const override { return names_; }
  Result<std::unique_ptr<WasmVm>> instantiate(const ImportResolver& imports) override;

  const std::vector<ExportedFunction>& functions() const { return functions_; }
  std::optional<uint32_t> functionIndex(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }

  // Name for a backtrace frame: ours (name section, by code offset) when V8 agrees it is our
  // module's function, else what V8 reports.
  std::string frameName(uint32_t offset, const std::string& v8_name) const {
    auto index = info_.functionAtOffset(offset);
    if (index) {
      const std::string* mine = names_.functionName(*index);
      if (!mine)
        return "func[" + std::to_string(*index) + "]";
      if (v8_name.empty() || v8_name == "$" + *mine || v8_name == *mine)
        return *mine + " [func " + std::to_string(*index) + "]";
    }
    if (!v8_name.empty())
      return v8_name[0] == '$' ? v8_name.substr(1) : v8_name;
    return "<unknown>";
  }

private:
  std::string name_;
  std::string bytes_;
  ModuleInfo info_;
  NameSection names_;
  std::unique_ptr<v8::CompiledWasmModule> compiled_; // shared by every instance, any isolate
  std::shared_ptr<EngineCounters> counters_;
  std::vector<ExportedFunction> functions_;
  std::map<std::string, uint32_t, std::less<>> index_;
  std::optional<std::string> memory_export_;
};

struct HostBinding {
  V8Vm* vm = nullptr;
  const Import* import = nullptr; // in the module's ModuleInfo, which outlives the VM
  HostFunction fn;
};

class V8Vm final : public WasmVm {
public:
  V8Vm(std::shared_ptr<IsolateHolder> holder, std::shared_ptr<const V8Module> module)
      : holder_(std::move(holder)), module_(std::move(module)),
        handles_(std::make_unique<V8Handles>()) {
    handles_->functions.resize(module_->functions().size());
    bindings_.reserve(module_->info().imports.size()); // stable addresses for v8::External
  }

  ~V8Vm() override {
    if (holder_->onOwnerThread())
      handles_.reset();
    else
      holder_->bury(std::move(handles_));
  }

  std::string_view engineName() const override { return "envoy.wasm.runtime.v8"; }

  std::optional<FunctionType> functionType(std::string_view name) const override {
    auto index = module_->functionIndex(name);
    if (!index)
      return std::nullopt;
    return module_->functions()[*index].type;
  }

  std::optional<uint32_t> findFunction(std::string_view name, const FunctionType& type) override {
    auto index = module_->functionIndex(name);
    if (!index)
      return std::nullopt;
    const auto& fn = module_->functions()[*index];
    if (!fn.callable || fn.type != type)
      return std::nullopt;
    return index;
  }

  Result<uint64_t> callRaw(uint32_t function, std::span<const uint64_t> args) override;

  uint64_t memorySize() override { return refreshMemory() ? mem_size_ : 0; }

  std::optional<std::string_view> getMemory(uint32_t ptr, uint32_t size) override {
    auto view = getMemoryMutable(ptr, size);
    if (!view)
      return std::nullopt;
    return std::string_view(view->data(), view->size());
  }

  std::optional<std::span<char>> getMemoryMutable(uint32_t ptr, uint32_t size) override {
    if (!refreshMemory())
      return std::nullopt;
    if (uint64_t(ptr) + size > mem_size_) // 64-bit sum: no wrap-around
      return std::nullopt;
    if (size == 0)
      return std::span<char>();
    return std::span<char>(mem_base_ + ptr, size);
  }

  bool failed() const override { return failed_.load(std::memory_order_acquire); }
  bool terminated() const override { return terminate_requested_.load(std::memory_order_acquire); }

  std::string failureReason() const override {
    std::lock_guard lock(reason_mu_);
    return failure_reason_;
  }

  void terminate() override {
    terminate_requested_.store(true);
    markFailed(kTerminated);
    holder_->terminateIfRunning(active_);
  }

  void fail(const std::string& reason) override { markFailed(reason); }

  // Instantiation helpers (V8Module::instantiate).
  v8::Local<v8::Function> bind(v8::Local<v8::Context> ctx, const Import& im,
                               const HostFunction& fn);
  void setMemory(v8::Isolate* iso, v8::Local<v8::WasmMemoryObject> memory) {
    if (handles_->memory.IsEmpty())
      handles_->memory.Reset(iso, memory);
  }
  void setInstance(v8::Isolate* iso, v8::Local<v8::Object> instance,
                   v8::Local<v8::Object> exports) {
    handles_->instance.Reset(iso, instance);
    handles_->exports.Reset(iso, exports);
  }

  // Describes the exception a TryCatch holds: reason plus guest backtrace.
  std::string describeFailure(v8::Isolate* iso, v8::Local<v8::Context> ctx, v8::TryCatch& tc,
                              std::string_view what);

private:
  static void hostTrampoline(const v8::FunctionCallbackInfo<v8::Value>& info);

  // Export wrappers are created lazily: materialising all of them costs time and memory per
  // instance, and a plugin calls only a few of its exports.
  v8::Local<v8::Function> exportedFunction(v8::Isolate* iso, v8::Local<v8::Context> ctx,
                                           uint32_t index) {
    auto& slot = handles_->functions[index];
    if (slot.IsEmpty()) {
      if (handles_->exports.IsEmpty()) // still instantiating (a start function's host call)
        return {};
      v8::Local<v8::Value> v;
      if (!handles_->exports.Get(iso)
               ->Get(ctx, v8Str(iso, module_->functions()[index].name))
               .ToLocal(&v) ||
          !v->IsFunction())
        return {};
      slot.Reset(iso, v.As<v8::Function>());
    }
    return slot.Get(iso);
  }

  void markFailed(const std::string& reason) {
    std::lock_guard lock(reason_mu_);
    if (failure_reason_.empty())
      failure_reason_ = reason;
    failed_.store(true, std::memory_order_release);
  }

  bool refreshMemory() {
    if (mem_valid_)
      return true;
    if (!holder_->onOwnerThread())
      return false;
    mem_base_ = nullptr;
    mem_size_ = 0;
    if (!handles_->memory.IsEmpty()) {
      v8::Isolate* iso = holder_->isolate();
      v8::Isolate::Scope isolate_scope(iso);
      v8::HandleScope handle_scope(iso);
      auto buffer = handles_->memory.Get(iso)->Buffer();
      mem_base_ = static_cast<char*>(buffer->Data());
      mem_size_ = buffer->ByteLength();
    }
    mem_valid_ = true;
    return true;
  }

  std::shared_ptr<IsolateHolder> holder_;
  std::shared_ptr<const V8Module> module_;
  std::unique_ptr<V8Handles> handles_;
  std::vector<HostBinding> bindings_;

  // Cached view of linear memory; invalid whenever guest code may have run since.
  char* mem_base_ = nullptr;
  uint64_t mem_size_ = 0;
  bool mem_valid_ = false;

  std::optional<std::string> host_trap_; // reason given by HostCallContext::trap
  std::atomic<bool> failed_{false};
  std::atomic<bool> terminate_requested_{false};
  std::atomic<int> active_{0}; // guest calls of this VM in progress (see IsolateHolder::enter)
  mutable std::mutex reason_mu_;
  std::string failure_reason_;
};

std::string V8Vm::describeFailure(v8::Isolate* iso, v8::Local<v8::Context> ctx, v8::TryCatch& tc,
                                  std::string_view what) {
  if (terminate_requested_.load(std::memory_order_acquire) || tc.HasTerminated())
    return std::string(kTerminated) + " in '" + std::string(what) + "'";
  std::string reason;
  if (host_trap_) {
    reason = *host_trap_;
  } else if (tc.HasCaught()) {
    v8::Local<v8::String> s;
    if (tc.Exception()->ToString(ctx).ToLocal(&s))
      reason = toStdString(iso, s);
  }
  if (reason.empty())
    reason = "unknown failure";
  std::string out = reason + " (in '" + std::string(what) + "')";
  v8::Local<v8::Message> message = tc.Message();
  v8::Local<v8::StackTrace> trace;
  if (!message.IsEmpty())
    trace = message->GetStackTrace();
  const int frames = trace.IsEmpty() ? 0 : trace->GetFrameCount();
  if (frames > 0) {
    out += "\nbacktrace:";
    std::vector<std::string> names;
    for (int i = 0; i < frames; ++i) {
      auto frame = trace->GetFrame(iso, i);
      std::string name = toStdString(iso, frame->GetFunctionName());
      if (frame->IsWasm()) {
        // For wasm frames V8 reports the module byte offset as the (0-based) column.
        name = module_->frameName(uint32_t(frame->GetLocation().GetColumnNumber()), name);
      } else if (name.empty()) {
        name = "<host>";
      }
      names.push_back(std::move(name));
    }
    // Runs of one frame (deep recursion, a stack overflow) are folded into one line.
    for (int i = 0; i < frames;) {
      int j = i + 1;
      while (j < frames && names[j] == names[i])
        ++j;
      out += "\n  #" + std::to_string(i) + " " + names[i];
      if (j - i > 1)
        out += " (x" + std::to_string(j - i) + ")";
      i = j;
    }
    if (frames >= kMaxBacktraceFrames)
      out += "\n  ... (deeper frames not captured)";
  }
  return out;
}

Result<uint64_t> V8Vm::callRaw(uint32_t function, std::span<const uint64_t> args) {
  if (!holder_->onOwnerThread())
    return Status::error("wasm VM used from a thread other than the one that instantiated it");
  if (failed())
    return Status::error("wasm VM has failed: " + failureReason());
  if (function >= module_->functions().size())
    return Status::error("bad function handle " + std::to_string(function));
  const auto& exported = module_->functions()[function];
  const FunctionType& type = exported.type;
  if (!exported.callable || args.size() != type.params.size())
    return Status::error("call to '" + exported.name + "' with " + std::to_string(args.size()) +
                         " arguments, expected " + type.toString());
  holder_->collectGraves();

  // The isolate and its context are entered for good on the owner thread (forCurrentThread).
  v8::Isolate* iso = holder_->isolate();
  v8::HandleScope handle_scope(iso);
  auto ctx = holder_->context();
  auto fn = exportedFunction(iso, ctx, function);
  if (fn.IsEmpty())
    return Status::error("export '" + exported.name + "' is not available (still instantiating?)");

  v8::Local<v8::Value> argv[kMaxTypedParams];
  for (size_t i = 0; i < args.size(); ++i)
    argv[i] = type.params[i] == ValType::I32
                  ? v8::Local<v8::Value>(v8::Integer::New(iso, int32_t(uint32_t(args[i]))))
                  : v8::Local<v8::Value>(v8::BigInt::New(iso, int64_t(args[i])));

  std::string failure;
  v8::Local<v8::Value> value;
  {
    // Leaves the isolate's bookkeeping right on every exit path.
    struct Running {
      V8Vm& vm;
      bool started;
      explicit Running(V8Vm& v)
          : vm(v), started(v.holder_->enter(v.active_, v.terminate_requested_)) {
        vm.mem_valid_ = false;
      }
      ~Running() {
        vm.mem_valid_ = false;
        vm.holder_->leave(vm.active_);
      }
    } running(*this);
    if (!running.started)
      return Status::error("wasm VM has failed: " + failureReason());
    v8::TryCatch tc(iso);
    auto result = fn->Call(ctx, v8::Undefined(iso), int(args.size()), argv);
    // A guest can catch a host trap with wasm exception handling; the VM is failed regardless.
    if (!result.ToLocal(&value) || failed())
      failure = describeFailure(iso, ctx, tc, exported.name);
  }
  if (!failure.empty()) {
    markFailed(failure);
    return Status::error(failureReason());
  }
  if (type.results.empty())
    return uint64_t(0);
  if (type.results[0] == ValType::I32)
    return uint64_t(uint32_t(value->Int32Value(ctx).FromMaybe(0)));
  if (!value->IsBigInt())
    return Status::error("'" + exported.name + "' returned a non-BigInt i64");
  return value.As<v8::BigInt>()->Uint64Value();
}

void V8Vm::hostTrampoline(const v8::FunctionCallbackInfo<v8::Value>& info) {
  auto* binding = static_cast<HostBinding*>(info.Data().As<v8::External>()->Value());
  V8Vm& vm = *binding->vm;
  v8::Isolate* iso = info.GetIsolate();
  vm.mem_valid_ = false; // the guest ran (and may have grown memory) since the last fetch

  const FunctionType& type = binding->fn.type();
  uint64_t args[kMaxTypedParams] = {};
  for (size_t i = 0; i < type.params.size(); ++i) {
    v8::Local<v8::Value> v = info[int(i)];
    if (type.params[i] == ValType::I32)
      args[i] = uint32_t(v->IsInt32() ? v.As<v8::Int32>()->Value()
                                      : v->Int32Value(iso->GetCurrentContext()).FromMaybe(0));
    else if (v->IsBigInt())
      args[i] = v.As<v8::BigInt>()->Uint64Value();
  }

  HostCallContext ctx(vm);
  const uint64_t result = binding->fn.invoke(ctx, args);
  vm.mem_valid_ = false; // the host function may have called into the guest

  if (ctx.trapRequested() && !vm.failed()) {
    vm.host_trap_ = ctx.trapReason();
    vm.failed_.store(true, std::memory_order_release); // reason (with backtrace) set by callRaw
  }
  if (vm.failed()) {
    // Unwind the guest: a host trap, or a nested call that trapped or was terminated.
    if (vm.terminate_requested_.load(std::memory_order_acquire)) {
      iso->TerminateExecution(); // uncatchable; cancelled when the outermost call ends
    } else {
      const std::string reason = vm.host_trap_ ? *vm.host_trap_
                                               : "host function " + binding->import->module + "." +
                                                     binding->import->name + " failed";
      iso->ThrowException(v8::Exception::Error(v8Str(iso, reason)));
    }
    return;
  }
  if (!type.results.empty()) {
    if (type.results[0] == ValType::I32)
      info.GetReturnValue().Set(int32_t(uint32_t(result)));
    else
      info.GetReturnValue().Set(v8::BigInt::NewFromUnsigned(iso, result));
  }
}

v8::Local<v8::Function> V8Vm::bind(v8::Local<v8::Context> ctx, const Import& im,
                                   const HostFunction& fn) {
  HostBinding& binding = bindings_.emplace_back();
  binding.vm = this;
  binding.import = &im;
  binding.fn = fn;
  v8::Isolate* iso = ctx->GetIsolate();
  return v8::Function::New(ctx, &V8Vm::hostTrampoline, v8::External::New(iso, &binding),
                           int(fn.type().params.size()), v8::ConstructorBehavior::kThrow)
      .ToLocalChecked();
}

Result<std::unique_ptr<WasmVm>> V8Module::instantiate(const ImportResolver& resolver) {
  auto holder = IsolateHolder::forCurrentThread();
  holder->collectGraves();
  holder->pumpTasks();
  auto vm = std::make_unique<V8Vm>(holder, shared_from_this());
  v8::Isolate* iso = holder->isolate();
  v8::Isolate::Scope isolate_scope(iso);
  v8::HandleScope handle_scope(iso);
  auto ctx = holder->context();
  v8::Context::Scope context_scope(ctx);
  v8::TryCatch tc(iso);
  const std::string prefix = "module '" + name_ + "': ";

  v8::Local<v8::WasmModuleObject> module;
  if (!v8::WasmModuleObject::FromCompiledModule(iso, *compiled_).ToLocal(&module))
    return Status::error(prefix + "cannot recreate the compiled module in this isolate");

  auto imports = v8::Object::New(iso);
  std::map<std::string_view, v8::Local<v8::Object>> namespaces;
  for (const Import& im : info_.imports) {
    const std::string what = im.module + "." + im.name;
    v8::Local<v8::Value> value;
    switch (im.kind) {
    case ExternKind::Function: {
      const HostFunction* fn = resolver.resolveFunction(im.module, im.name);
      if (!fn || !*fn)
        return Status::error(prefix + "missing import " + what + " " + im.type.toString());
      if (fn->type() != im.type)
        return Status::error(prefix + "import type mismatch for " + what + ": module expects " +
                             im.type.toString() + ", host provides " + fn->type().toString());
      value = vm->bind(ctx, im, *fn);
      break;
    }
    case ExternKind::Memory:
    case ExternKind::Table: {
      // Created by the host from the declared limits (already capped by max_memory_bytes).
      const Limits& l = im.kind == ExternKind::Memory ? im.limits : im.table.limits;
      if (l.is64)
        return Status::error(prefix + "memory64 import " + what + " is not supported");
      auto desc = v8::Object::New(iso);
      desc->Set(ctx, v8Str(iso, "initial"), v8::Number::New(iso, double(l.min))).Check();
      if (l.max)
        desc->Set(ctx, v8Str(iso, "maximum"), v8::Number::New(iso, double(*l.max))).Check();
      if (l.shared)
        desc->Set(ctx, v8Str(iso, "shared"), v8::True(iso)).Check();
      if (im.kind == ExternKind::Table)
        desc->Set(ctx, v8Str(iso, "element"),
                  v8Str(iso, im.table.elem == ValType::FuncRef ? "anyfunc" : "externref"))
            .Check();
      v8::Local<v8::Value> argv[] = {desc};
      auto ctor = im.kind == ExternKind::Memory ? holder->memoryCtor() : holder->tableCtor();
      v8::Local<v8::Object> obj;
      if (!ctor->NewInstance(ctx, 1, argv).ToLocal(&obj))
        return Status::error(prefix + "cannot create imported " + externKindName(im.kind) + " " +
                             what + ": " + toStdString(iso, tc.Exception()));
      if (im.kind == ExternKind::Memory)
        vm->setMemory(iso, obj.As<v8::WasmMemoryObject>());
      value = obj;
      break;
    }
    default:
      return Status::error(prefix + "unsupported import " + what + " of kind " +
                           externKindName(im.kind));
    }
    auto [it, inserted] = namespaces.try_emplace(im.module);
    if (inserted) {
      it->second = v8::Object::New(iso);
      imports->Set(ctx, v8Str(iso, im.module), it->second).Check();
    }
    it->second->Set(ctx, v8Str(iso, im.name), value).Check();
  }

  v8::Local<v8::Value> argv[] = {module, imports};
  v8::Local<v8::Object> instance;
  // A trap in the start function leaves an exception behind but may still hand back an object.
  if (!holder->instanceCtor()->NewInstance(ctx, 2, argv).ToLocal(&instance) || tc.HasCaught()) {
    // LinkError, or a trap in the start function.
    return Status::error(prefix +
                         "instantiation failed: " + vm->describeFailure(iso, ctx, tc, "start"));
  }
  v8::Local<v8::Value> exports;
  if (!instance->Get(ctx, v8Str(iso, "exports")).ToLocal(&exports) || !exports->IsObject())
    return Status::error(prefix + "instance has no exports object");
  vm->setInstance(iso, instance, exports.As<v8::Object>());
  if (memory_export_) {
    v8::Local<v8::Value> memory;
    if (exports.As<v8::Object>()->Get(ctx, v8Str(iso, *memory_export_)).ToLocal(&memory) &&
        memory->IsWasmMemoryObject())
      vm->setMemory(iso, memory.As<v8::WasmMemoryObject>());
  }
  counters_->instantiations.fetch_add(1, std::memory_order_relaxed);
  return std::unique_ptr<WasmVm>(std::move(vm));
}

// ---------------------------------------------------------------------------------------------

class V8Engine final : public WasmEngine {
public:
  std::string_view name() const override { return "envoy.wasm.runtime.v8"; }

  Result<std::shared_ptr<CompiledModule>> compile(std::string_view bytes,
                                                  const std::string& module_name,
                                                  const CompileOptions& options) override {
    const std::string prefix = "module '" + module_name + "': ";
    std::string code;
    if (options.max_memory_bytes) {
      auto rewritten = limitMemoryPages(bytes, *options.max_memory_bytes / kWasmPageSize);
      if (!rewritten.ok())
        return Status::error(prefix + rewritten.error());
      code = std::move(*rewritten);
    } else {
      code.assign(bytes);
    }
    auto info = parseModule(code);
    if (!info.ok())
      return Status::error(prefix + info.error());
    NameSection names;
    auto name_sections = info->customSections(code, "name");
    if (!name_sections.empty()) {
      auto parsed = parseNameSection(name_sections.front());
      if (parsed.ok()) // names are debug info: a malformed section only costs us names
        names = std::move(*parsed);
    }

    auto holder = IsolateHolder::forCurrentThread();
    holder->collectGraves();
    v8::Isolate* iso = holder->isolate();
    v8::Isolate::Scope isolate_scope(iso);
    v8::HandleScope handle_scope(iso);
    v8::Context::Scope context_scope(holder->context());
    v8::TryCatch tc(iso);
    v8::Local<v8::WasmModuleObject> module;
    if (!v8::WasmModuleObject::Compile(iso,
                                       {reinterpret_cast<const uint8_t*>(code.data()), code.size()})
             .ToLocal(&module))
      return Status::error(prefix + toStdString(iso, tc.Exception()));
    auto compiled = std::make_unique<v8::CompiledWasmModule>(module->GetCompiledModule());
    counters_->compiles.fetch_add(1, std::memory_order_relaxed);
    return std::shared_ptr<CompiledModule>(
        std::make_shared<V8Module>(module_name, std::move(code), std::move(*info), std::move(names),
                                   std::move(compiled), counters_));
  }

  EngineStats stats() const override {
    return {counters_->compiles.load(std::memory_order_relaxed),
            counters_->instantiations.load(std::memory_order_relaxed)};
  }

private:
  std::shared_ptr<EngineCounters> counters_ = std::make_shared<EngineCounters>();
};

} // namespace

std::shared_ptr<WasmEngine> createV8Engine(const V8EngineOptions& options) {
  initV8(options);
  return std::make_shared<V8Engine>();
}

bool v8TrapHandlerEnabled() { return g_v8 && g_v8->trap_handler; }

} // namespace wasmgate::wasm

#endif // WG_WITH_V8
