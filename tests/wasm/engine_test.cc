// Engine tests: compile/instantiate, typed calls in both directions, memory access, traps with
// backtraces, termination from a watchdog thread, memory limits and cross-thread instantiation.
// Modules are WAT files in data/, assembled at build time into WG_WASM_TEST_DATA.

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "wasm/engine.h"
#include "wasm/engines/v8/v8_engine.h"

namespace wasmgate::wasm {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using namespace std::string_literals;

std::string readModule(const std::string& stem) {
  std::ifstream in(std::string(WG_WASM_TEST_DATA) + "/" + stem + ".wasm", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class T> T orZero(const Result<T>& r) { return r.ok() ? *r : T(0); }

std::shared_ptr<WasmEngine> engine() {
  static std::shared_ptr<WasmEngine> e = createV8Engine();
  return e;
}

std::shared_ptr<CompiledModule> compileOrDie(const std::string& stem, CompileOptions opts = {}) {
  auto m = engine()->compile(readModule(stem), stem, opts);
  EXPECT_TRUE(m.ok()) << m.error();
  return m.ok() ? *m : nullptr;
}

std::unique_ptr<WasmVm> instantiateOrDie(CompiledModule& module, const ImportResolver& imports) {
  auto vm = module.instantiate(imports);
  EXPECT_TRUE(vm.ok()) << vm.error();
  return vm.ok() ? std::move(*vm) : nullptr;
}

// Host side of basic.wat. Records what the guest passed.
struct BasicHost {
  uint32_t void_arg = 0;
  std::vector<uint64_t> args12;
  ImportTable table;

  BasicHost() {
    table
        .add("env", "host_4i32",
             [](HostCallContext&, uint32_t a, uint32_t b, uint32_t c, uint32_t d) -> uint32_t {
               return a * 1000 + b * 100 + c * 10 + d;
             })
        .add("env", "host_i32_i64",
             [](HostCallContext&, uint32_t a, uint64_t b) -> uint32_t {
               // Checks the high half of the i64 survived the crossing.
               return uint32_t(b >> 32) == 0x89abcdef ? a + uint32_t(b) : 0xdead;
             })
        .add("env", "host_now", [](HostCallContext&) -> uint64_t { return 0xfedcba9876543210; })
        .add("env", "host_void", [this](HostCallContext&, uint32_t v) { void_arg = v; })
        .add("env", "host_12",
             [this](HostCallContext&, uint32_t a, uint64_t b, uint32_t c, uint64_t d, uint32_t e,
                    uint64_t f, uint32_t g, uint64_t h, uint32_t i, uint64_t j, int32_t k,
                    int64_t l) -> int64_t {
               args12 = {a, b, c, d, e, f, g, h, i, j, uint64_t(int64_t(k)), uint64_t(l)};
               return int64_t(a + b + c + d + e + f + g + h + i + j) + k + l;
             })
        // Re-entrancy: allocate in the guest from inside a host function, fill, return pointer.
        .add("env", "host_call_back", [](HostCallContext& ctx, uint32_t size) -> uint32_t {
          auto ptr = ctx.vm().call<uint32_t>("malloc", size);
          if (!ptr.ok()) {
            ctx.trap("malloc failed: " + ptr.error());
            return 0;
          }
          if (!ctx.vm().setMemory(*ptr, std::string(size, 'x')))
            ctx.trap("bad pointer from malloc");
          return *ptr;
        });
  }
};

TEST(WasmEngine, NameAndCompileErrors) {
  EXPECT_EQ(engine()->name(), "envoy.wasm.runtime.v8");
  auto bad = engine()->compile("not wasm at all", "junk");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("module 'junk'"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("magic"), std::string::npos) << bad.error();

  // Structurally fine, but the body is ill-typed: only the engine's validation catches it.
  const std::string ill_typed = "\0asm\1\0\0\0"
                                "\x01\x05\x01\x60\x00\x01\x7f" // type: ()->i32
                                "\x03\x02\x01\x00"             // one function of type 0
                                "\x0a\x04\x01\x02\x00\x0b"s;   // body: empty (no i32 result)
  auto invalid = engine()->compile(ill_typed, "ill_typed");
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.error().find("CompileError"), std::string::npos) << invalid.error();
}

TEST(WasmEngine, CompileAndInstantiate) {
  auto module = compileOrDie("basic");
  ASSERT_TRUE(module);
  EXPECT_EQ(module->name(), "basic");
  const ModuleInfo& info = module->info();
  ASSERT_EQ(info.imports.size(), 6u);
  EXPECT_EQ(info.imports[0].module, "env");
  EXPECT_EQ(info.imports[0].name, "host_4i32");
  EXPECT_EQ(info.imports[0].type.toString(), "(i32,i32,i32,i32)->i32");
  const Export* add = info.findExport("add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->type.toString(), "(i32,i32)->i32");

  BasicHost host;
  auto vm = instantiateOrDie(*module, host.table);
  ASSERT_TRUE(vm);
  EXPECT_EQ(vm->engineName(), "envoy.wasm.runtime.v8");
  auto answer = vm->call<uint32_t>("answer");
  ASSERT_TRUE(answer.ok()) << answer.error();
  EXPECT_EQ(*answer, 42u);
  EXPECT_FALSE(vm->failed());
}

TEST(WasmEngine, CallShapes) {
  auto module = compileOrDie("basic");
  BasicHost host;
  auto vm = instantiateOrDie(*module, host.table);
  ASSERT_TRUE(vm);

  EXPECT_TRUE(vm->call<void>("nop").ok());
  EXPECT_EQ(*vm->call<uint64_t>("big"), 0x123456789abcdef0u);
  EXPECT_TRUE(vm->call<void>("bump", 5u).ok());
  EXPECT_TRUE(vm->call<void>("bump", 7u).ok());
  EXPECT_EQ(*vm->call<uint32_t>("counter"), 12u);
  EXPECT_EQ(*vm->call<uint32_t>("add", 40u, 2u), 42u);
  EXPECT_EQ(*vm->call<int32_t>("add", int32_t(-5), int32_t(2)), -3);
  EXPECT_EQ(*vm->call<uint32_t>("add", 0xffffffffu, 2u), 1u); // wraps like i32.add
  EXPECT_EQ(*vm->call<uint32_t>("mix", 10u, uint64_t(0xffffffff00000003)), 7u);
  EXPECT_EQ(*vm->call<int64_t>("neg64", int64_t(INT64_MIN + 1)), INT64_MAX);
  EXPECT_EQ(*vm->call<uint64_t>("neg64", uint64_t(1)), UINT64_MAX);
  auto sum = vm->call<uint64_t>("sum12", 1u, uint64_t(2), 3u, uint64_t(4), 5u, uint64_t(6), 7u,
                                uint64_t(8), 9u, uint64_t(10), 0xffffffffu, uint64_t(1) << 40);
  ASSERT_TRUE(sum.ok()) << sum.error();
  EXPECT_EQ(*sum, uint64_t(55) + 0xffffffffu + (uint64_t(1) << 40));

  // Typed handles, resolved once.
  auto addFn = vm->getFunction<uint32_t(uint32_t, uint32_t)>("add");
  ASSERT_TRUE(addFn);
  for (uint32_t i = 0; i < 100; ++i)
    EXPECT_EQ(*(*addFn)(i, i), 2 * i);
  EXPECT_FALSE(vm->getFunction<uint32_t(uint32_t)>("add")); // wrong signature
  EXPECT_FALSE(vm->getFunction<void()>("missing"));
  EXPECT_TRUE(vm->hasFunction("mix", {{ValType::I32, ValType::I64}, {ValType::I32}}));
  EXPECT_FALSE(vm->hasFunction("mix", {{ValType::I32, ValType::I32}, {ValType::I32}}));

  // Exports outside the i32/i64 family are visible but not callable.
  auto f32 = vm->functionType("f32fn");
  ASSERT_TRUE(f32);
  EXPECT_EQ(f32->toString(), "(f32)->f32");
  EXPECT_FALSE(vm->findFunction("f32fn", *f32));

  // Signature and name errors are the caller's mistakes: they don't fail the VM.
  auto wrong = vm->call<uint32_t>("add", 1u);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("(i32,i32)->i32"), std::string::npos) << wrong.error();
  auto missing = vm->call<void>("nope");
  EXPECT_NE(missing.message().find("no exported function 'nope'"), std::string::npos);
  EXPECT_FALSE(vm->failed());
  EXPECT_FALSE(vm->callRaw(9999, {}).ok());
}

TEST(WasmEngine, HostImports) {
  auto module = compileOrDie("basic");
  BasicHost host;
  auto vm = instantiateOrDie(*module, host.table);
  ASSERT_TRUE(vm);

  EXPECT_EQ(*vm->call<uint32_t>("call_4i32", 1u, 2u, 3u, 4u), 1234u);
  EXPECT_EQ(*vm->call<uint32_t>("call_i32_i64", 5u, uint64_t(0x89abcdef00000010)), 21u);
  EXPECT_EQ(*vm->call<uint64_t>("call_now"), 0xfedcba9876543210u);
  EXPECT_TRUE(vm->call<void>("call_void", 0xfffffffeu).ok());
  EXPECT_EQ(host.void_arg, 0xfffffffeu);

  auto r12 = vm->call<int64_t>("call_12");
  ASSERT_TRUE(r12.ok()) << r12.error();
  const std::vector<uint64_t> expected = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, UINT64_MAX, UINT64_MAX};
  EXPECT_EQ(host.args12, expected);
  EXPECT_EQ(*r12, 55 - 1 - 1);

  // Host -> guest -> host -> guest (malloc), then read what the host wrote.
  auto ptr = vm->call<uint32_t>("call_back", 8u);
  ASSERT_TRUE(ptr.ok()) << ptr.error();
  EXPECT_EQ(*ptr, 4096u);
  EXPECT_EQ(vm->getMemory(*ptr, 8).value_or(""), "xxxxxxxx");
  EXPECT_EQ(*vm->call<uint32_t>("call_back", 4u), 4104u);
}

TEST(WasmEngine, LinkErrors) {
  auto module = compileOrDie("basic");
  ImportTable empty;
  auto missing = module->instantiate(empty);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("missing import env.host_4i32 (i32,i32,i32,i32)->i32"),
            std::string::npos)
      << missing.error();

  BasicHost host;
  host.table.add("env", "host_now", [](HostCallContext&) -> uint32_t { return 1; });
  auto mismatch = module->instantiate(host.table);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().find("import type mismatch for env.host_now: module expects "
                                  "()->i64, host provides ()->i32"),
            std::string::npos)
      << mismatch.error();
}

TEST(WasmEngine, MemoryAccess) {
  auto module = compileOrDie("basic");
  BasicHost host;
  auto vm = instantiateOrDie(*module, host.table);
  ASSERT_TRUE(vm);

  const uint64_t size = vm->memorySize();
  EXPECT_EQ(size, 2u * 65536);
  EXPECT_EQ(vm->getMemory(16, 11).value_or(""), "hello, wasm");

  ASSERT_TRUE(vm->setWord(100, 0xdeadbeef));
  EXPECT_EQ(vm->getWord(100), 0xdeadbeefu);
  EXPECT_EQ(*vm->call<uint32_t>("load", 100u), 0xdeadbeefu); // little-endian, as the guest sees
  ASSERT_TRUE(vm->setWord64(200, 0x0102030405060708));
  EXPECT_EQ(vm->getWord64(200), 0x0102030405060708u);
  EXPECT_EQ(vm->getWord(200), 0x05060708u);
  ASSERT_TRUE(vm->setMemory(300, "abc"));
  EXPECT_EQ(vm->getMemory(300, 3).value_or(""), "abc");

  // Bounds: the last byte is fine, one past is not; ptr+len must not wrap around.
  EXPECT_TRUE(vm->getMemory(uint32_t(size - 1), 1));
  EXPECT_FALSE(vm->getMemory(uint32_t(size - 1), 2));
  EXPECT_FALSE(vm->getMemory(uint32_t(size), 1));
  EXPECT_TRUE(vm->getMemory(uint32_t(size), 0));
  EXPECT_FALSE(vm->getMemory(uint32_t(size) + 1, 0));
  EXPECT_FALSE(vm->getMemory(0xffffffff, 2));
  EXPECT_FALSE(vm->getMemory(1, 0xffffffff));
  EXPECT_TRUE(vm->getMemory(0, 0));
  EXPECT_FALSE(vm->setWord(uint32_t(size - 3), 1));
  EXPECT_FALSE(vm->getWord(uint32_t(size - 3)));
  EXPECT_FALSE(vm->getWord64(uint32_t(size - 7)));
  EXPECT_FALSE(vm->setMemory(uint32_t(size - 1), "ab"));
  EXPECT_TRUE(vm->setMemory(uint32_t(size), ""));

  // memory.grow: views must be re-fetched; the new page is addressable afterwards.
  EXPECT_EQ(*vm->call<uint32_t>("grow", 1u), 2u);
  EXPECT_EQ(vm->memorySize(), 3u * 65536);
  EXPECT_TRUE(vm->setWord(uint32_t(size), 77));
  EXPECT_EQ(*vm->call<uint32_t>("load", uint32_t(size)), 77u);
  EXPECT_EQ(vm->getMemory(16, 11).value_or(""), "hello, wasm"); // contents survive growth
  EXPECT_FALSE(vm->failed());
}

TEST(WasmEngine, TrapsCarryBacktraceAndFailTheVm) {
  auto module = compileOrDie("traps");
  ASSERT_TRUE(module);
  ImportTable imports;
  imports.add("env", "host_trap", [](HostCallContext& ctx, uint32_t code) -> uint32_t {
    ctx.trap("proc_exit(" + std::to_string(code) + ") called");
    return 0;
  });

  struct Case {
    const char* export_name;
    std::vector<std::string> expected; // in order: reason, then frames innermost first
  };
  const std::vector<Case> cases = {
      {"unreachable", {"unreachable", "inner_unreachable", "middle", "outer"}},
      {"oob", {"memory access out of bounds", "load_oob"}},
      {"div0", {"divide by zero", "div_zero"}},
      {"recurse", {"Maximum call stack size exceeded", "recurse"}},
      {"host_trap", {"proc_exit(3) called", "calls_host_trap"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.export_name);
    auto vm = instantiateOrDie(*module, imports);
    ASSERT_TRUE(vm);
    Status s;
    if (std::string(c.export_name) == "unreachable")
      s = vm->call<void>(c.export_name);
    else if (std::string(c.export_name) == "oob")
      s = vm->call<uint32_t>(c.export_name).status();
    else
      s = vm->call<uint32_t>(c.export_name, std::string(c.export_name) == "host_trap" ? 3u : 0u)
              .status();
    ASSERT_FALSE(s.ok());
    size_t pos = 0;
    for (const auto& piece : c.expected) {
      pos = s.message().find(piece, pos);
      ASSERT_NE(pos, std::string::npos) << "'" << piece << "' missing in order from:\n"
                                        << s.message();
    }
    EXPECT_NE(s.message().find("backtrace:"), std::string::npos) << s.message();
    EXPECT_TRUE(vm->failed());
    EXPECT_EQ(vm->failureReason(), s.message());
    auto after = vm->call<uint32_t>("fine");
    ASSERT_FALSE(after.ok());
    EXPECT_NE(after.error().find("has failed"), std::string::npos) << after.error();
  }
}

TEST(WasmEngine, BacktraceWithoutNameSectionUsesIndexes) {
  // Drop the "name" custom section from traps.wasm.
  const std::string bytes = readModule("traps");
  auto info = parseModule(bytes);
  ASSERT_TRUE(info.ok());
  std::string stripped = bytes.substr(0, 8);
  for (const auto& s : info->sections) {
    const bool is_name = s.id == 0 && bytes.substr(s.payload_offset, 5) == "\x04name";
    if (!is_name)
      stripped += bytes.substr(s.offset, s.payload_offset + s.payload_size - s.offset);
  }
  auto module = engine()->compile(stripped, "stripped");
  ASSERT_TRUE(module.ok()) << module.error();
  EXPECT_TRUE((*module)->names().function_names.empty());
  ImportTable imports;
  imports.add("env", "host_trap", [](HostCallContext&, uint32_t) -> uint32_t { return 0; });
  auto vm = instantiateOrDie(**module, imports);
  ASSERT_TRUE(vm);
  auto s = vm->call<void>("unreachable");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("#0 func[1]\n  #1 func[2]\n  #2 func[3]"), std::string::npos)
      << s.message();
}

TEST(WasmEngine, NestedTrapUnwindsTheOuterCall) {
  auto module = compileOrDie("basic");
  BasicHost host;
  // Replace host_call_back by one that makes a nested call which traps (out-of-bounds load).
  host.table.add("env", "host_call_back", [](HostCallContext& ctx, uint32_t) -> uint32_t {
    auto inner = ctx.vm().call<uint32_t>("load", 0xfffffff0u);
    EXPECT_FALSE(inner.ok());
    return 123; // ignored: the VM has failed, so the guest must not continue
  });
  auto vm = instantiateOrDie(*module, host.table);
  ASSERT_TRUE(vm);
  auto r = vm->call<uint32_t>("call_back", 1u);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("memory access out of bounds"), std::string::npos) << r.error();
  EXPECT_TRUE(vm->failed());
}

TEST(WasmEngine, StartFunctionTrapFailsInstantiation) {
  auto module = compileOrDie("start_trap");
  ImportTable none;
  auto vm = module->instantiate(none);
  ASSERT_FALSE(vm.ok());
  EXPECT_NE(vm.error().find("unreachable"), std::string::npos) << vm.error();
  EXPECT_NE(vm.error().find("boot"), std::string::npos) << vm.error();
}

// Runs `call` on this thread while a watchdog terminates `victim` after `delay`; returns the
// call's status and how long it took to return after terminate().
template <class F>
std::pair<Status, Clock::duration> runWithWatchdog(WasmVm& victim, std::chrono::milliseconds delay,
                                                   F call) {
  std::atomic<int64_t> terminated_at{0};
  std::thread watchdog([&] {
    std::this_thread::sleep_for(delay);
    terminated_at = Clock::now().time_since_epoch().count();
    victim.terminate();
  });
  Status s = call();
  const auto returned = Clock::now();
  watchdog.join();
  return {s, returned - Clock::time_point(Clock::duration(terminated_at.load()))};
}

TEST(WasmEngine, TerminateRunawayLoopFromAnotherThread) {
  auto module = compileOrDie("loop");
  ImportTable imports;
  imports.add("env", "call_guest", [](HostCallContext& ctx, uint32_t) -> uint32_t {
    return orZero(ctx.vm().call<uint32_t>("spin_i32", 0u)); // never returns by itself
  });
  // A bystander on the same thread (hence the same isolate) must be unaffected.
  auto bystander = instantiateOrDie(*module, imports);
  auto vm = instantiateOrDie(*module, imports);
  ASSERT_TRUE(vm && bystander);

  auto [status, latency] = runWithWatchdog(*vm, 50ms, [&] { return vm->call<void>("spin"); });
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("terminated (callback took too long)"), std::string::npos)
      << status.message();
  EXPECT_LT(latency, 100ms) << "terminate() took "
                            << std::chrono::duration<double, std::milli>(latency).count() << "ms";
  EXPECT_TRUE(vm->failed());
  EXPECT_FALSE(vm->call<uint32_t>("quick").ok());

  // The isolate's termination was cancelled: the bystander and new VMs still run.
  EXPECT_EQ(orZero(bystander->call<uint32_t>("quick")), 5u);
  auto fresh = instantiateOrDie(*module, imports);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(orZero(fresh->call<uint32_t>("quick")), 5u);

  // Runaway code reached through a host function (guest -> host -> guest loop).
  auto [nested, nested_latency] = runWithWatchdog(
      *fresh, 30ms, [&] { return fresh->call<uint32_t>("via_host").status(); });
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.message().find("terminated"), std::string::npos) << nested.message();
  EXPECT_LT(nested_latency, 100ms);
  EXPECT_EQ(orZero(bystander->call<uint32_t>("quick")), 5u);
}

// VM A's host function calls into VM B on the same thread (same isolate, one V8 call stack);
// terminating B must end B's call only, and A's call must carry on.
TEST(WasmEngine, TerminateVmNestedInsideAnotherVmsHostCall) {
  auto module = compileOrDie("loop");
  WasmVm* inner = nullptr;
  std::string inner_error;
  ImportTable imports;
  imports.add("env", "call_guest", [&](HostCallContext&, uint32_t) -> uint32_t {
    auto r = inner->call<uint32_t>("spin_i32", 0u);
    inner_error = r.ok() ? "" : r.error();
    return 7;
  });
  auto a = instantiateOrDie(*module, imports);
  auto b = instantiateOrDie(*module, imports);
  ASSERT_TRUE(a && b);
  inner = b.get();
  auto [status, latency] = runWithWatchdog(*b, 30ms, [&] {
    auto r = a->call<uint32_t>("via_host");
    return r.ok() ? (*r == 7 ? okStatus() : Status::error("wrong result")) : r.status();
  });
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_NE(inner_error.find("terminated (callback took too long)"), std::string::npos);
  EXPECT_TRUE(b->failed());
  EXPECT_FALSE(a->failed());
  EXPECT_EQ(orZero(a->call<uint32_t>("quick")), 5u);
}

TEST(WasmEngine, TerminateIdleVmDoesNotLeakIntoOthers) {
  auto module = compileOrDie("loop");
  ImportTable imports;
  imports.add("env", "call_guest", [](HostCallContext&, uint32_t) -> uint32_t { return 0; });
  auto idle = instantiateOrDie(*module, imports);
  auto other = instantiateOrDie(*module, imports);
  ASSERT_TRUE(idle && other);
  idle->terminate(); // not running: nothing to interrupt, but it is failed from now on
  EXPECT_TRUE(idle->failed());
  EXPECT_FALSE(idle->call<uint32_t>("quick").ok());
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(orZero(other->call<uint32_t>("quick")), 5u);
}

// Races terminate() of one VM against the end of its calls and the start of another VM's
// calls on the same thread: the termination must never land on the other VM.
TEST(WasmEngine, TerminationRacesStayScoped) {
  auto module = compileOrDie("loop");
  ImportTable imports;
  imports.add("env", "call_guest", [](HostCallContext&, uint32_t) -> uint32_t { return 0; });
  auto other = instantiateOrDie(*module, imports);
  ASSERT_TRUE(other);
  int interrupted = 0; // terminations that landed inside one of the target's calls
  for (int iteration = 0; iteration < 200; ++iteration) {
    auto target = instantiateOrDie(*module, imports);
    ASSERT_TRUE(target);
    std::atomic<bool> go{false};
    std::thread watchdog([&] {
      while (!go.load())
        std::this_thread::yield();
      const auto until = Clock::now() + std::chrono::microseconds(iteration % 40);
      while (Clock::now() < until) {
      }
      target->terminate();
    });
    go = true;
    // Alternate calls until the termination has landed somewhere, then a few more.
    std::string bystander_error;
    for (int after = 0; after < 20 && bystander_error.empty();) {
      auto t = target->call<uint32_t>("busy", 2000u);
      // Calls that start after terminate() fail up front with "wasm VM has failed: ...".
      if (!t.ok() && t.error().rfind("wasm VM has failed", 0) != 0)
        ++interrupted;
      auto o = other->call<uint32_t>("busy", 2000u);
      if (!o.ok() || *o != 0)
        bystander_error = o.ok() ? "wrong result" : o.error();
      if (target->failed())
        ++after;
    }
    watchdog.join();
    ASSERT_EQ(bystander_error, "") << "iteration " << iteration;
  }
  EXPECT_FALSE(other->failed());
  std::cout << "terminations that interrupted a running call: " << interrupted << "/200\n";
}

TEST(WasmEngine, MemoryLimitRewritesDefinedMemory) {
  auto unlimited = compileOrDie("memory");
  ImportTable none;
  auto free_vm = instantiateOrDie(*unlimited, none);
  ASSERT_TRUE(free_vm);
  EXPECT_EQ(*free_vm->call<uint32_t>("grow", 10u), 1u);

  CompileOptions opts;
  opts.max_memory_bytes = 4 * 65536 + 1000; // rounds down to 4 pages
  auto limited = compileOrDie("memory", opts);
  ASSERT_TRUE(limited);
  ASSERT_EQ(limited->info().memories.size(), 1u);
  EXPECT_EQ(limited->info().memories[0].max, 4u);
  auto vm = instantiateOrDie(*limited, none);
  ASSERT_TRUE(vm);
  EXPECT_EQ(*vm->call<uint32_t>("grow", 2u), 1u);
  EXPECT_EQ(*vm->call<uint32_t>("grow", 1u), 3u);
  EXPECT_EQ(*vm->call<int32_t>("grow", 1u), -1); // past the limit: fails, doesn't grow
  EXPECT_EQ(*vm->call<uint32_t>("pages"), 4u);
  EXPECT_EQ(vm->memorySize(), 4u * 65536);
  EXPECT_FALSE(vm->failed());

  opts.max_memory_bytes = 0; // below the module's initial page
  auto too_small = engine()->compile(readModule("memory"), "memory", opts);
  ASSERT_FALSE(too_small.ok());
  EXPECT_NE(too_small.error().find("more than the limit"), std::string::npos) << too_small.error();
}

TEST(WasmEngine, MemoryLimitAppliesToImportedMemory) {
  CompileOptions opts;
  opts.max_memory_bytes = 3 * 65536;
  auto module = compileOrDie("imported_memory", opts);
  ASSERT_TRUE(module);
  ASSERT_EQ(module->info().imports.size(), 2u);
  EXPECT_EQ(module->info().imports[0].limits.max, 3u);
  ImportTable none; // memory and table imports are created by the engine
  auto vm = instantiateOrDie(*module, none);
  ASSERT_TRUE(vm);
  EXPECT_EQ(vm->memorySize(), 2u * 65536);
  EXPECT_TRUE(vm->call<void>("store", 65536u, 99u).ok());
  EXPECT_EQ(vm->getWord(65536), 99u);
  EXPECT_EQ(*vm->call<uint32_t>("grow", 1u), 2u);
  EXPECT_EQ(*vm->call<int32_t>("grow", 1u), -1);
  EXPECT_EQ(vm->memorySize(), 3u * 65536);
}

TEST(WasmEngine, CustomSections) {
  std::string bytes = readModule("custom");
  auto appendCustom = [&](const std::string& name, const std::string& payload) {
    std::string body;
    body.push_back(char(name.size()));
    body += name + payload;
    bytes.push_back('\0');
    bytes.push_back(char(body.size())); // < 128 in this test
    bytes += body;
  };
  appendCustom("wasmgate.sig", "signature-bytes");
  appendCustom("producers", "x");
  appendCustom("wasmgate.sig", "second");
  auto module = engine()->compile(bytes, "custom");
  ASSERT_TRUE(module.ok()) << module.error();
  auto sigs = (*module)->customSections("wasmgate.sig");
  ASSERT_EQ(sigs.size(), 2u);
  EXPECT_EQ(sigs[0], "signature-bytes");
  EXPECT_EQ(sigs[1], "second");
  EXPECT_TRUE((*module)->customSections("absent").empty());
  EXPECT_TRUE((*module)->info().findExport("proxy_abi_version_0_2_1"));
  const std::string* helper = nullptr;
  for (uint32_t i = 0; i < 3 && !helper; ++i)
    if (auto* n = (*module)->names().functionName(i); n && *n == "helper")
      helper = n;
  EXPECT_TRUE(helper);
}

TEST(WasmEngine, ThreadsInstantiateOneCompiledModule) {
  const auto before = engine()->stats();
  const auto t0 = Clock::now();
  auto module = compileOrDie("basic");
  const auto compile_time = Clock::now() - t0;
  ASSERT_TRUE(module);

  std::atomic<int> ok{0};
  std::vector<Clock::duration> instantiate_time(2);
  auto worker = [&](int id) {
    BasicHost host;
    const auto t = Clock::now();
    auto vm = module->instantiate(host.table);
    instantiate_time[id] = Clock::now() - t;
    ASSERT_TRUE(vm.ok()) << vm.error();
    // Each instance has its own memory and globals.
    ASSERT_TRUE((*vm)->setWord(64, 1000 + id));
    for (uint32_t i = 0; i < 2000; ++i) {
      ASSERT_EQ(*(*vm)->call<uint32_t>("add", i, uint32_t(id)), i + id);
      ASSERT_TRUE((*vm)->call<void>("bump", 1u).ok());
    }
    ASSERT_EQ(*(*vm)->call<uint32_t>("call_4i32", 1u, 2u, 3u, uint32_t(id)), 1230u + id);
    ASSERT_EQ(*(*vm)->call<uint32_t>("counter"), 2000u);
    ASSERT_EQ((*vm)->getWord(64), 1000u + id);
    ++ok;
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 2);
  const auto after = engine()->stats();
  EXPECT_EQ(after.compiles - before.compiles, 1u); // compiled once, instantiated twice
  EXPECT_EQ(after.instantiations - before.instantiations, 2u);
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::cout << "compile " << ms(compile_time) << "ms, instantiate on new threads "
            << ms(instantiate_time[0]) << "ms / " << ms(instantiate_time[1])
            << "ms (includes creating each thread's isolate)\n";
}

TEST(WasmEngine, VmIsBoundToItsThread) {
  auto module = compileOrDie("basic");
  BasicHost host;
  std::unique_ptr<WasmVm> vm;
  std::thread t([&] {
    vm = instantiateOrDie(*module, host.table);
    ASSERT_TRUE(vm);
    EXPECT_EQ(*vm->call<uint32_t>("answer"), 42u);
  });
  t.join(); // the owner thread is gone; its isolate lives on with the VM
  ASSERT_TRUE(vm);
  auto r = vm->call<uint32_t>("answer");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("other than the one that instantiated it"), std::string::npos);
  EXPECT_FALSE(vm->getMemory(0, 4));
  vm->terminate(); // safe from any thread
  vm.reset();      // handles are handed back to the isolate, which is then disposed here
}

TEST(WasmEngine, VmDestroyedOnAnotherThreadWhileOwnerKeepsRunning) {
  auto module = compileOrDie("basic");
  BasicHost host;
  auto keeper = instantiateOrDie(*module, host.table);
  std::unique_ptr<WasmVm> doomed = instantiateOrDie(*module, host.table);
  ASSERT_TRUE(keeper && doomed);
  std::thread([&] { doomed.reset(); }).join(); // buried, collected by this thread's next call
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(*keeper->call<uint32_t>("answer"), 42u);
}

TEST(WasmEngine, HostDataForHostFunctions) {
  auto module = compileOrDie("basic");
  BasicHost host;
  int owner = 0;
  host.table.add("env", "host_void", [](HostCallContext& ctx, uint32_t v) {
    *static_cast<int*>(ctx.vm().hostData()) += int(v);
  });
  auto vm = instantiateOrDie(*module, host.table);
  ASSERT_TRUE(vm);
  vm->setHostData(&owner);
  EXPECT_TRUE(vm->call<void>("call_void", 5u).ok());
  EXPECT_EQ(owner, 5);
}

} // namespace
} // namespace wasmgate::wasm
