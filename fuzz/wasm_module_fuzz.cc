// libFuzzer target for module loading and linking: each input is a candidate plugin module
// that goes the way a configured plugin goes (src/extensions/common/wasm): compiled by V8 with
// the memory limit rewritten in, linked against the Proxy-Wasm host (ABI version detection,
// import resolution, allocator and callback signature checks), started (_initialize/_start)
// under the CPU watchdog, then driven through a root and a stream context (vm start,
// configure, request and response headers and body, log, done, delete). The seed corpus is the
// test suite's modules (scripts/fuzz.sh copies them in), so mutations stay near real plugins.
//
// Invariants (abort on violation): nothing the module does crashes or hangs the host; a module
// that fails to load gives an error message; a VM that fails stays failed and refuses calls.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "extensions/common/wasm/watchdog.h"
#include "fake_context.h"
#include "wasm/abi/wasm_instance.h"
#include "wasm/engines/v8/v8_engine.h"

namespace {

using namespace wasmgate;
using namespace wasmgate::wasm;
using namespace wasmgate::wasm::abi;
using wasmgate::extensions::wasm::CallWatchdog;
using wasmgate::wasm::abi::testing::FakeContext;

constexpr uint64_t kMemoryLimit = 16u << 20;
constexpr std::chrono::milliseconds kCallLimit{100};

WasmEngine& engine() {
  static std::shared_ptr<WasmEngine> e = createV8Engine();
  return *e;
}

const std::string& messageOf(const Status& s) { return s.message(); }
template <class T> const std::string& messageOf(const Result<T>& r) { return r.error(); }

// Runs one lifecycle step; once the VM failed every later step must be refused.
template <class R> void step(WasmInstance& instance, bool& failed, const R& result) {
  if (failed) {
    CHECK(!result.ok(), "a failed VM accepted a call");
    return;
  }
  if (!result.ok()) {
    CHECK(!messageOf(result).empty(), "an error without a message");
    failed = instance.failed();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CompileOptions options;
  options.max_memory_bytes = kMemoryLimit;
  auto module = engine().compile(bytes, "fuzz_module", options);
  if (!module.ok()) {
    CHECK(!module.error().empty(), "compile error without a message");
    return 0;
  }

  InstanceConfig config;
  config.plugin.name = "fuzz_plugin";
  config.plugin.root_id = "";
  config.plugin.vm_id = "fuzz_vm";
  config.plugin.vm_configuration = "vm";
  config.plugin.plugin_configuration = "{\"a\":1}";
  config.vm_log = [](uint32_t, std::string_view) {};
  config.before_startup = [](WasmInstance& instance) {
    instance.keepUntilDestroyed(
        CallWatchdog::global().watch(instance, kCallLimit, kCallLimit));
  };
  auto created = WasmInstance::create(*module, std::move(config));
  if (!created.ok()) {
    CHECK(!created.error().empty(), "link error without a message");
    return 0;
  }
  WasmInstance& instance = **created;

  {
    FakeContext root(instance.allocateContextId());
    FakeContext stream(instance.allocateContextId(), &root);
    root.setBuffer(BufferType::VmConfiguration, "vm");
    root.setBuffer(BufferType::PluginConfiguration, "{\"a\":1}");
    stream.setMap(MapType::HttpRequestHeaders, {{":method", "GET"}, {":path", "/"}});
    stream.setMap(MapType::HttpResponseHeaders, {{":status", "200"}});
    stream.setBuffer(BufferType::HttpRequestBody, "body");
    stream.setBuffer(BufferType::HttpResponseBody, "body");
    CHECK(instance.registerContext(root).ok(), "");
    CHECK(instance.registerContext(stream).ok(), "");
    const uint32_t r = root.contextId(), s = stream.contextId();
    bool failed = false;
    step(instance, failed, instance.onContextCreate(r, 0));
    step(instance, failed, instance.onVmStart(r, 2));
    step(instance, failed, instance.onConfigure(r, 7));
    step(instance, failed, instance.onContextCreate(s, r));
    step(instance, failed, instance.onRequestHeaders(s, 2, false));
    step(instance, failed, instance.onRequestBody(s, 4, true));
    step(instance, failed, instance.onResponseHeaders(s, 1, false));
    step(instance, failed, instance.onResponseBody(s, 4, true));
    step(instance, failed, instance.onLog(s));
    step(instance, failed, instance.onDone(s));
    step(instance, failed, instance.onDelete(s));
    step(instance, failed, instance.onDone(r));
    step(instance, failed, instance.onDelete(r));
    created->reset(); // before the contexts it points to
  }
  return 0;
}
