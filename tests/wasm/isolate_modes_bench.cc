// Compares the three ways to host N instances of one compiled module in V8, with raw V8 calls
// (the engine implements only the winner): RSS and time per additional instance.
//   isolate:  a new isolate + context per instance
//   context:  one isolate, a new context per instance
//   shared:   one isolate, one context, instances side by side (what v8_engine.cc does)
// Usage: wasm_isolate_modes_bench isolate|context|shared [instances=100]
// Each mode runs in a fresh process so earlier modes don't pollute RSS.

#include <libplatform/libplatform.h>
#include <v8.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "synthetic_module.h"

namespace {

long rssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

v8::Local<v8::String> str(v8::Isolate* iso, const char* s) {
  return v8::String::NewFromUtf8(iso, s).ToLocalChecked();
}

void hostH(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetReturnValue().Set(info[0]->Int32Value(info.GetIsolate()->GetCurrentContext()).FromJust());
}

struct Instance {
  v8::Isolate* isolate;
  v8::Global<v8::Context> context;
  v8::Global<v8::Object> instance;
};

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "shared";
  const int n = argc > 2 ? std::atoi(argv[2]) : 100;
  if (mode != "isolate" && mode != "context" && mode != "shared") {
    std::fprintf(stderr, "usage: %s isolate|context|shared [instances]\n", argv[0]);
    return 2;
  }
  const std::string bytes = wasmgate::wasm::bench::syntheticModule();
  auto platform = v8::platform::NewDefaultPlatform();
  v8::V8::InitializePlatform(platform.get());
  v8::V8::EnableWebAssemblyTrapHandler(true);
  v8::V8::Initialize();
  auto* allocator = v8::ArrayBuffer::Allocator::NewDefaultAllocator();
  auto newIsolate = [&] {
    v8::Isolate::CreateParams params;
    params.array_buffer_allocator = allocator;
    return v8::Isolate::New(params);
  };

  std::unique_ptr<v8::CompiledWasmModule> compiled;
  v8::Isolate* shared = newIsolate();
  v8::Global<v8::Context> shared_context;
  {
    v8::Isolate::Scope is(shared);
    v8::HandleScope hs(shared);
    auto ctx = v8::Context::New(shared);
    shared_context.Reset(shared, ctx);
    v8::Context::Scope cs(ctx);
    auto module = v8::WasmModuleObject::Compile(
                      shared, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()})
                      .ToLocalChecked();
    compiled = std::make_unique<v8::CompiledWasmModule>(module->GetCompiledModule());
  }

  std::vector<Instance> instances;
  instances.reserve(n + 2);
  auto make = [&] {
    v8::Isolate* iso = mode == "isolate" ? newIsolate() : shared;
    v8::Isolate::Scope is(iso);
    v8::HandleScope hs(iso);
    auto ctx = mode == "shared" ? shared_context.Get(iso) : v8::Context::New(iso);
    v8::Context::Scope cs(ctx);
    auto module = v8::WasmModuleObject::FromCompiledModule(iso, *compiled).ToLocalChecked();
    auto wasm = ctx->Global()->Get(ctx, str(iso, "WebAssembly")).ToLocalChecked().As<v8::Object>();
    auto ctor = wasm->Get(ctx, str(iso, "Instance")).ToLocalChecked().As<v8::Function>();
    auto env = v8::Object::New(iso);
    env->Set(ctx, str(iso, "h"), v8::Function::New(ctx, hostH).ToLocalChecked()).Check();
    auto imports = v8::Object::New(iso);
    imports->Set(ctx, str(iso, "env"), env).Check();
    v8::Local<v8::Value> args[] = {module, imports};
    auto instance = ctor->NewInstance(ctx, 2, args).ToLocalChecked();
    auto exports = instance->Get(ctx, str(iso, "exports")).ToLocalChecked().As<v8::Object>();
    auto f7 = exports->Get(ctx, str(iso, "f7")).ToLocalChecked().As<v8::Function>();
    v8::Local<v8::Value> one[] = {v8::Integer::New(iso, 1)};
    (void)f7->Call(ctx, v8::Undefined(iso), 1, one).ToLocalChecked();
    Instance r;
    r.isolate = iso;
    r.context.Reset(iso, ctx);
    r.instance.Reset(iso, instance);
    instances.push_back(std::move(r));
  };
  make();
  make();
  const long rss0 = rssKiB();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    make();
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  std::printf("mode=%-7s instances=%d  %.0f KiB RSS and %.0f us per additional instance\n",
              mode.c_str(), n, double(rssKiB() - rss0) / n, us / n);
  std::fflush(stdout);
  std::_Exit(0); // skip tearing down hundreds of isolates
}
