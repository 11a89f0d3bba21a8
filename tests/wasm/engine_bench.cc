// Measures what the isolate decision trades: memory and time per additional VM instance, plus
// call costs. Usage: wasm_engine_bench [instances=200] [module.wasm|-] [calls=200000]
// Without a module it builds a synthetic plugin-sized one: 200 functions, 17 pages of memory,
// a 64 KiB data segment, one host import.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "synthetic_module.h"
#include "wasm/engine.h"
#include "wasm/engines/v8/v8_engine.h"

using namespace wasmgate::wasm;
using Clock = std::chrono::steady_clock;

namespace {

long rssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

} // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 200;
  std::string bytes;
  if (argc > 2 && std::string(argv[2]) != "-") {
    std::ifstream in(argv[2], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  } else {
    bytes = wasmgate::wasm::bench::syntheticModule();
  }
  auto engine = createV8Engine();
  std::printf("trap handler: %s\n", v8TrapHandlerEnabled() ? "on" : "off");
  ImportTable imports;
  imports.add("env", "h", [](HostCallContext&, uint32_t x) -> uint32_t { return x + 1; });

  auto t0 = Clock::now();
  auto module = engine->compile(bytes, "bench");
  if (!module.ok()) {
    std::fprintf(stderr, "compile: %s\n", module.error().c_str());
    return 1;
  }
  std::printf("module: %zu bytes, compile %.2f ms\n", bytes.size(), ms(Clock::now() - t0));

  // A thread's first instance also creates that thread's isolate and context.
  std::thread([&] {
    auto t = Clock::now();
    long r = rssKiB();
    auto vm = (*module)->instantiate(imports);
    std::printf("first instance on a new thread (isolate + context + instance): %.2f ms, "
                "%ld KiB\n",
                ms(Clock::now() - t), rssKiB() - r);
  }).join();

  std::vector<std::unique_ptr<WasmVm>> vms;
  vms.reserve(n + 2);
  for (int i = 0; i < 2; ++i) // warm up this thread's isolate
    vms.push_back(std::move(*(*module)->instantiate(imports)));
  const long rss0 = rssKiB();
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto vm = (*module)->instantiate(imports);
    if (!vm.ok()) {
      std::fprintf(stderr, "instantiate %d: %s\n", i, vm.error().c_str());
      return 1;
    }
    // Touch what a plugin would: one call, one memory read.
    (void)(*vm)->call<uint32_t>("f7", 1u);
    (void)(*vm)->getMemory(1024, 16);
    vms.push_back(std::move(*vm));
  }
  const double per_instance_ms = ms(Clock::now() - t0) / n;
  const long rss1 = rssKiB();
  std::printf("%d more instances on one thread: %.1f KiB RSS and %.3f ms each\n", n,
              double(rss1 - rss0) / n, per_instance_ms);

  auto& vm = *vms.back();
  const int calls = argc > 3 ? std::atoi(argv[3]) : 200000;
  if (auto add = vm.getFunction<uint32_t(uint32_t, uint32_t)>("add")) {
    t0 = Clock::now();
    for (int i = 0; i < calls; ++i)
      (void)(*add)(uint32_t(i), 1u);
    std::printf("host->guest call: %.0f ns\n", ms(Clock::now() - t0) * 1e6 / calls);
  }
  if (auto callh = vm.getFunction<uint32_t(uint32_t)>("callh")) {
    t0 = Clock::now();
    for (int i = 0; i < calls; ++i)
      (void)(*callh)(uint32_t(i));
    std::printf("host->guest->host call: %.0f ns\n", ms(Clock::now() - t0) * 1e6 / calls);
  }
  return 0;
}
