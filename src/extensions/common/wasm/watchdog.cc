#include "extensions/common/wasm/watchdog.h"

#include <algorithm>

namespace wasmgate::extensions::wasm {

using ::wasmgate::wasm::abi::Callback;
using ::wasmgate::wasm::abi::WasmInstance;

CallWatchdog& CallWatchdog::global() {
  static CallWatchdog watchdog;
  return watchdog;
}

CallWatchdog::~CallWatchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

CallWatchdog::Registration::~Registration() { watchdog_.unwatch(id_); }

std::unique_ptr<CallWatchdog::Registration> CallWatchdog::watch(WasmInstance& instance,
                                                                std::chrono::milliseconds limit,
                                                                std::chrono::milliseconds startup_floor) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  const int64_t limit_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(limit).count();
  const int64_t startup_ns =
      std::max(limit_ns, int64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(startup_floor).count()));
  entries_.push_back({id, &instance, limit_ns, startup_ns});
  // Scan a few times per limit (the coarse clock has a few ms of resolution anyway).
  period_ns_ = std::clamp<int64_t>(std::min(period_ns_, limit_ns / 4), 1000000, 5000000);
  if (!thread_.joinable())
    thread_ = std::thread([this] { run(); });
  return std::unique_ptr<Registration>(new Registration(*this, id));
}

void CallWatchdog::unwatch(uint64_t id) {
  // Under the lock: once this returns the watchdog no longer touches the instance.
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [id](const Entry& e) { return e.id == id; });
}

void CallWatchdog::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::nanoseconds(period_ns_));
    if (stop_)
      break;
    const int64_t now = WasmInstance::coarseNowNs();
    for (Entry& e : entries_) {
      const int64_t started = e.instance->callStartedNs();
      if (started == 0 || started == e.terminated_call)
        continue;
      const Callback cb = e.instance->runningCallback();
      const bool startup = cb == Callback::Startup || cb == Callback::VmStart ||
                           cb == Callback::Configure || cb == Callback::ValidateConfiguration;
      if (now - started <= (startup ? e.startup_limit_ns : e.limit_ns))
        continue;
      // Thread-safe by contract; scoped to this VM.
      e.instance->vm().terminate();
      e.terminated_call = started;
    }
  }
}

} // namespace wasmgate::extensions::wasm
