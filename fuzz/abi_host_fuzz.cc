// libFuzzer target for the Proxy-Wasm ABI surface: every host function, called the way a
// hostile plugin would call it. The probe module (tests/wasm/abi/data/probe_v021.wat) re-exports
// each import as t_<name>; an input is a program of operations, each either writing bytes into
// guest memory or calling one t_ export on one context (VM, root, stream, or an id that does
// not exist) with arguments decoded from the input and biased towards the pairs that break
// hosts: pointers straddling the end of memory, lengths that wrap, huge sizes, enum values out
// of range. A fresh VM and fresh contexts per input keep runs reproducible.
//
// Invariants (abort on violation): the host never crashes (ASan/UBSan watch the host side); a
// proxy_* hostcall answers a WasmResult; a WASI call answers a WASI errno; a call that fails
// leaves the VM failed (and nothing else is called on it); otherwise the VM still works after
// the program (a well-formed hostcall still answers Ok).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fake_context.h"
#include "wasm/abi/wasm_instance.h"
#include "wasm/engines/v8/v8_engine.h"

namespace {

using namespace wasmgate;
using namespace wasmgate::wasm;
using namespace wasmgate::wasm::abi;
using wasmgate::wasm::abi::testing::FakeContext;

// Probe memory layout (as tests/wasm/abi/abi_fixture.h).
constexpr uint32_t kScratch = 0x1000, kScratchSize = 0x2000, kOutPtr = 0x3000, kOutSize = 0x3004;
constexpr uint32_t kOut = 0x3010;
constexpr uint32_t kMaxWasiErrno = 76;

// Reads the input front to back; past the end it yields zeros.
class Reader {
public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool done() const { return p_ >= end_; }
  uint8_t u8() { return p_ < end_ ? *p_++ : 0; }
  uint16_t u16() { return uint16_t(u8() | (u8() << 8)); }
  uint32_t u32() { return uint32_t(u16()) | (uint32_t(u16()) << 16); }
  uint64_t u64() { return uint64_t(u32()) | (uint64_t(u32()) << 32); }
  std::string_view bytes(size_t n) {
    n = std::min<size_t>(n, size_t(end_ - p_));
    std::string_view v(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return v;
  }

private:
  const uint8_t* p_;
  const uint8_t* end_;
};

struct Hostcall {
  std::string name; // without the t_ prefix
  uint32_t function;
  FunctionType type;
  bool wasi;
};

struct Probe {
  std::shared_ptr<WasmEngine> engine;
  std::shared_ptr<CompiledModule> module;
  std::vector<Hostcall> calls; // filled from the first instance
};

Probe& probe() {
  static Probe* p = [] {
    auto* p = new Probe;
    p->engine = createV8Engine();
    std::FILE* f = std::fopen(WG_FUZZ_PROBE_MODULE, "rb");
    if (!f)
      fuzzViolation("probe module missing", WG_FUZZ_PROBE_MODULE);
    std::string bytes;
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
      bytes.append(buf, n);
    std::fclose(f);
    auto m = p->engine->compile(bytes, "probe_v021");
    if (!m.ok())
      fuzzViolation("probe module does not compile", m.error());
    p->module = *m;
    return p;
  }();
  return *p;
}

uint32_t pointerArg(Reader& in, uint64_t mem_size) {
  switch (in.u8() % 9) {
  case 0: return in.u8();                                    // small: sizes, enums, ids
  case 1: return kScratch + in.u16() % kScratchSize;         // inside the data area
  case 2: return uint32_t(mem_size - in.u8());               // straddles the end of memory
  case 3: return 0xffffffffu - in.u8();                      // wraps when a length is added
  case 4: return in.u32();                                   // anything
  case 5: return kOutPtr;                                    // return-pair slots
  case 6: return kOutSize;
  case 7: return uint32_t(mem_size + in.u8());               // just past the end
  default: return kOut + in.u8();                            // fixed-size out-params
  }
}

void seedContext(FakeContext& c) {
  c.services = true;
  c.setMap(MapType::HttpRequestHeaders,
           {{":method", "GET"}, {":path", "/a"}, {":authority", "h"}, {"x-a", "1"}});
  c.setMap(MapType::HttpResponseHeaders, {{":status", "200"}, {"content-type", "text/plain"}});
  c.setMap(MapType::HttpRequestTrailers, {{"grpc-status", "0"}});
  c.setBuffer(BufferType::HttpRequestBody, "request body bytes");
  c.setBuffer(BufferType::HttpResponseBody, "response body");
  c.setBuffer(BufferType::PluginConfiguration, "{\"k\":1}");
  c.properties["request.path"] = "/a";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Probe& p = probe();
  InstanceConfig config;
  config.plugin.name = "fuzz_plugin";
  config.plugin.root_id = "fuzz_root";
  config.plugin.vm_id = "fuzz_vm";
  config.plugin.vm_configuration = "vm config";
  config.plugin.plugin_configuration = "{}";
  config.vm_log = [](uint32_t, std::string_view) {};
  auto created = WasmInstance::create(p.module, std::move(config));
  CHECK(created.ok(), created.ok() ? "" : created.error());
  WasmInstance& instance = **created;

  if (p.calls.empty()) {
    for (const auto& e : p.module->info().exports) {
      if (e.kind != ExternKind::Function || !e.name.starts_with("t_"))
        continue;
      const std::string name = e.name.substr(2);
      auto type = instance.vm().functionType(e.name);
      auto fn = type ? instance.vm().findFunction(e.name, *type) : std::nullopt;
      CHECK(fn.has_value(), e.name);
      const bool wasi = name.find("proxy_") != 0 && name != "envoy_resolve_dns" &&
                        name != "pthread_equal" && name != "emscripten_notify_memory_growth";
      p.calls.push_back({name, *fn, *type, wasi});
    }
    CHECK(!p.calls.empty(), "");
  }

  // Contexts outlive the instance (declared after it is created, destroyed first: reset below).
  FakeContext root(instance.allocateContextId());
  FakeContext stream(instance.allocateContextId(), &root);
  seedContext(root);
  seedContext(stream);
  CHECK(instance.registerContext(root).ok(), "");
  CHECK(instance.registerContext(stream).ok(), "");
  CHECK(instance.onContextCreate(root.contextId(), 0).ok(), "");
  CHECK(instance.onContextCreate(stream.contextId(), root.contextId()).ok(), "");
  const uint32_t contexts[4] = {0, root.contextId(), stream.contextId(), 4242};

  Reader in(data, size);
  bool failed = false;
  for (int ops = 0; !in.done() && ops < 64 && !failed; ++ops) {
    const uint8_t op = in.u8();
    const uint64_t mem_size = instance.vm().memorySize();
    if (op < 0x20) { // write bytes into the data area
      const uint32_t at = kScratch + in.u16() % kScratchSize;
      std::string_view bytes = in.bytes(in.u8());
      bytes = bytes.substr(0, kScratch + kScratchSize - at);
      CHECK(instance.vm().setMemory(at, bytes), "setMemory inside the data area");
      continue;
    }
    const Hostcall& call = p.calls[op % p.calls.size()];
    if (call.name == "proc_exit")
      continue; // ends the VM by design (covered by the ABI tests)
    const uint32_t context = contexts[in.u8() % 4];
    std::vector<uint64_t> args;
    for (ValType t : call.type.params)
      args.push_back(t == ValType::I64 ? (in.u8() & 1 ? in.u64() : in.u8()) : pointerArg(in, mem_size));

    auto r = instance.callExportRaw(context, call.function, args);
    if (!r.ok()) {
      // Only the unknown context is refused before the guest runs; anything else that fails
      // must have failed the VM (a host trap).
      if (context != 4242) {
        CHECK(instance.failed(), call.name + ": " + r.error());
        failed = true;
      }
      continue;
    }
    if (call.type.results.empty() || call.name == "pthread_equal")
      continue;
    if (call.wasi)
      CHECK(*r <= kMaxWasiErrno, call.name + " errno " + std::to_string(*r));
    else
      CHECK(*r <= uint64_t(WasmResult::Unimplemented), call.name + " status " + std::to_string(*r));
  }

  if (!failed && !instance.failed()) {
    // Still usable: a well-formed hostcall answers Ok.
    for (const auto& c : p.calls) {
      if (c.name != "proxy_get_current_time_nanoseconds")
        continue;
      auto r = instance.callExportRaw(stream.contextId(), c.function,
                                      std::vector<uint64_t>{kOut});
      CHECK(r.ok() && *r == 0, r.ok() ? std::to_string(*r) : r.error());
    }
  }
  created->reset(); // the instance goes before the contexts it points to
  return 0;
}
