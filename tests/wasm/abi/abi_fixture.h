#pragma once

// Shared test fixture: loads a module from data/ (assembled into WG_ABI_TEST_DATA) into a
// WasmInstance, owns the fake contexts, collects VM-context log lines, and reads/writes guest
// memory. The probe modules re-export every import as t_<name>, so `call(ctx, "t_proxy_log",
// ...)` runs a hostcall on a context exactly as a plugin would.

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "fake_context.h"
#include "wasm/abi/wasm_instance.h"
#include "wasm/engines/v8/v8_engine.h"

namespace wasmgate::wasm::abi::testing {

// Probe memory layout (see data/probe_v021.wat).
inline constexpr uint32_t kMemSize = 0x20000;
inline constexpr uint32_t kScratch = 0x1000;  // test input
inline constexpr uint32_t kScratch2 = 0x2000; // second test input
inline constexpr uint32_t kOutPtr = 0x3000;   // return-pair: data pointer
inline constexpr uint32_t kOutSize = 0x3004;  // return-pair: size
inline constexpr uint32_t kOut = 0x3010;      // fixed-size out-param
inline constexpr uint32_t kActionResult = 0x9f0;

// WasmResult as the guest sees it.
inline constexpr uint32_t kOk = 0, kNotFound = 1, kBadArgument = 2, kSerializationFailure = 3,
                          kInvalidMemoryAccess = 6, kCasMismatch = 8, kUnimplemented = 12;

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::shared_ptr<WasmEngine> engine() {
  static std::shared_ptr<WasmEngine> e = createV8Engine();
  return e;
}

// Compiled once per process per path.
inline Result<std::shared_ptr<CompiledModule>> compileFile(const std::string& path,
                                                           const std::string& name) {
  static std::map<std::string, std::shared_ptr<CompiledModule>> cache;
  auto it = cache.find(path);
  if (it != cache.end())
    return it->second;
  const std::string bytes = readFile(path);
  if (bytes.empty())
    return Status::error("cannot read " + path);
  auto m = engine()->compile(bytes, name);
  if (m.ok())
    cache[path] = *m;
  return m;
}

inline Result<std::shared_ptr<CompiledModule>> compileStem(const std::string& stem) {
  return compileFile(std::string(WG_ABI_TEST_DATA) + "/" + stem + ".wasm", stem);
}

class AbiFixture : public ::testing::Test {
protected:
  struct VmLine {
    uint32_t level;
    std::string message;
  };

  InstanceConfig config() {
    InstanceConfig c;
    c.plugin.name = "probe_plugin";
    c.plugin.root_id = "probe_root";
    c.plugin.vm_id = "probe_vm";
    c.plugin.vm_configuration = "vm-config-bytes";
    c.plugin.plugin_configuration = "{\"plugin\":true}";
    c.vm_log = [this](uint32_t level, std::string_view message) {
      vm_logs.push_back({level, std::string(message)});
    };
    return c;
  }

  Result<std::unique_ptr<WasmInstance>> tryLoad(const std::string& stem,
                                                std::optional<InstanceConfig> c = std::nullopt) {
    auto module = compileStem(stem);
    if (!module.ok())
      return module.status();
    return WasmInstance::create(*module, c ? std::move(*c) : config());
  }

  void load(const std::string& stem, std::optional<InstanceConfig> c = std::nullopt) {
    auto i = tryLoad(stem, std::move(c));
    ASSERT_TRUE(i.ok()) << i.error();
    instance = std::move(*i);
  }

  WasmInstance& inst() { return *instance; }
  WasmVm& vm() { return instance->vm(); }

  // A registered root context (proxy_on_context_create not called).
  FakeContext& newRoot() {
    contexts.push_back(std::make_unique<FakeContext>(instance->allocateContextId()));
    EXPECT_TRUE(instance->registerContext(*contexts.back()).ok());
    return *contexts.back();
  }
  FakeContext& newStream(FakeContext& root) {
    contexts.push_back(std::make_unique<FakeContext>(instance->allocateContextId(), &root));
    EXPECT_TRUE(instance->registerContext(*contexts.back()).ok());
    return *contexts.back();
  }
  // A root context with proxy_on_context_create done, and a stream of it (the usual setup).
  FakeContext& root() {
    if (!root_) {
      root_ = &newRoot();
      EXPECT_TRUE(instance->onContextCreate(root_->contextId(), 0).ok());
    }
    return *root_;
  }
  FakeContext& stream() {
    if (!stream_) {
      stream_ = &newStream(root());
      EXPECT_TRUE(instance->onContextCreate(stream_->contextId(), root().contextId()).ok());
    }
    return *stream_;
  }

  // ---- guest memory
  void put(uint32_t addr, std::string_view bytes) { ASSERT_TRUE(vm().setMemory(addr, bytes)); }
  std::string get(uint32_t addr, uint32_t len) {
    auto v = vm().getMemory(addr, len);
    EXPECT_TRUE(v.has_value()) << "read " << addr << "+" << len;
    return v ? std::string(*v) : std::string();
  }
  uint32_t u32(uint32_t addr) { return vm().getWord(addr).value_or(0xdeadbeef); }
  uint64_t u64(uint32_t addr) { return vm().getWord64(addr).value_or(0xdeadbeef); }
  // What a return pair at (ptr_ptr, size_ptr) points to.
  std::string pairAt(uint32_t ptr_ptr = kOutPtr, uint32_t size_ptr = kOutSize) {
    return get(u32(ptr_ptr), u32(size_ptr));
  }
  void clearOut() {
    put(kOutPtr, std::string(8, '\xee'));
    put(kOut, std::string(24, '\xee'));
  }

  // ---- calls on a context (0 = the VM context)
  template <class... A> uint32_t call(uint32_t ctx, const std::string& fn, A... args) {
    auto r = instance->callExport<uint32_t>(ctx, fn, uint32_t(args)...);
    EXPECT_TRUE(r.ok()) << fn << ": " << r.error();
    return r.ok() ? *r : 0xdead;
  }
  template <class... A> Status callVoid(uint32_t ctx, const std::string& fn, A... args) {
    return instance->callExport<void>(ctx, fn, uint32_t(args)...);
  }
  // A call with a runtime argument list (all i32).
  uint32_t callv(uint32_t ctx, const std::string& fn, const std::vector<uint32_t>& a) {
    switch (a.size()) {
    case 0: return call(ctx, fn);
    case 1: return call(ctx, fn, a[0]);
    case 2: return call(ctx, fn, a[0], a[1]);
    case 3: return call(ctx, fn, a[0], a[1], a[2]);
    case 4: return call(ctx, fn, a[0], a[1], a[2], a[3]);
    case 5: return call(ctx, fn, a[0], a[1], a[2], a[3], a[4]);
    case 6: return call(ctx, fn, a[0], a[1], a[2], a[3], a[4], a[5]);
    case 7: return call(ctx, fn, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    case 8: return call(ctx, fn, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    case 9: return call(ctx, fn, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
    case 10: return call(ctx, fn, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
    case 12:
      return call(ctx, fn, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],
                  a[11]);
    }
    ADD_FAILURE() << "unsupported arity " << a.size();
    return 0xdead;
  }
  void setAction(uint32_t action, uint32_t arg = 0, uint32_t arg2 = 0) {
    ASSERT_TRUE(callVoid(0, "set_action", action).ok());
    ASSERT_TRUE(callVoid(0, "set_args", arg, arg2).ok());
  }
  // The probe's record for a callback slot: {arg0, arg1, arg2, count}.
  std::array<uint32_t, 4> record(uint32_t slot) {
    const uint32_t p = 0x100 + slot * 16;
    return {u32(p), u32(p + 4), u32(p + 8), u32(p + 12)};
  }

  std::vector<VmLine> vm_logs;
  std::vector<std::unique_ptr<FakeContext>> contexts; // outlive the instance
  std::unique_ptr<WasmInstance> instance;
  FakeContext* root_ = nullptr;
  FakeContext* stream_ = nullptr;
};

inline std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i)
    s[i] = char(uint8_t(v >> (8 * i)));
  return s;
}

} // namespace wasmgate::wasm::abi::testing
