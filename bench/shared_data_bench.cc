// The cost of one Proxy-Wasm shared-data CAS update (proxy_get_shared_data + a
// proxy_set_shared_data with the token read, retried on CasMismatch) on the process-wide store
// (src/extensions/common/wasm/shared_data.h), with 1 thread and with one thread per core all
// hammering the same key: the rate limiter's pattern. Google Benchmark; reported per update.
//
//   build/bench/shared_data_bench [--benchmark_min_time=0.5]

#include <benchmark/benchmark.h>

#include <atomic>
#include <charconv>
#include <string>
#include <thread>

#include "extensions/common/wasm/shared_data.h"

namespace {

using wasmgate::extensions::wasm::SharedData;
using R = SharedData::WasmResult;

SharedData& store() {
  static SharedData data;
  return data;
}

std::atomic<uint64_t> g_retries{0};

void BM_SharedDataCasIncrement(benchmark::State& state) {
  if (state.thread_index() == 0)
    store().set("bench", "counter", "0", 0);
  uint64_t retries = 0;
  std::string value;
  char buf[24];
  for (auto _ : state) {
    for (;;) {
      uint32_t cas = 0;
      uint64_t n = 0;
      if (store().get("bench", "counter", value, cas) == R::Ok)
        std::from_chars(value.data(), value.data() + value.size(), n);
      auto end = std::to_chars(buf, buf + sizeof(buf), n + 1).ptr;
      if (store().set("bench", "counter", std::string_view(buf, size_t(end - buf)), cas) == R::Ok)
        break;
      ++retries;
    }
  }
  g_retries += retries;
  state.counters["retries_per_update"] =
      benchmark::Counter(double(retries), benchmark::Counter::kAvgIterations);
}

BENCHMARK(BM_SharedDataCasIncrement)->Threads(1)->UseRealTime();
BENCHMARK(BM_SharedDataCasIncrement)->Threads(2)->UseRealTime();
BENCHMARK(BM_SharedDataCasIncrement)
    ->Threads(int(std::max(2u, std::thread::hardware_concurrency())) * 2)
    ->UseRealTime();

} // namespace

BENCHMARK_MAIN();
