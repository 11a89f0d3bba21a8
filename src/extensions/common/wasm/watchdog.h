#pragma once

// The CPU watchdog behind `max_callback_duration`: one thread for the process looks at every
// watched VM a few times per limit and terminates a guest call that has run too long
// (WasmVm::terminate: V8's TerminateExecution, scoped to that VM). The call then fails with
// "terminated (callback took too long)", the VM is failed, and the failure policy applies: an
// endless loop costs that request, not the worker.
//
// The request path pays one coarse clock read and two relaxed stores per guest call
// (WasmInstance's FrameScope); the watchdog thread sleeps between scans.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "wasm/abi/wasm_instance.h"

namespace wasmgate::extensions::wasm {

class CallWatchdog {
public:
  static CallWatchdog& global();
  ~CallWatchdog();

  // Watches `instance` (which must outlive the returned registration) with `limit`; start-up
  // callbacks get at least `startup_floor`.
  class Registration {
  public:
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

  private:
    friend class CallWatchdog;
    Registration(CallWatchdog& w, uint64_t id) : watchdog_(w), id_(id) {}
    CallWatchdog& watchdog_;
    uint64_t id_;
  };
  std::unique_ptr<Registration> watch(::wasmgate::wasm::abi::WasmInstance& instance,
                                      std::chrono::milliseconds limit,
                                      std::chrono::milliseconds startup_floor);

private:
  struct Entry {
    uint64_t id;
    ::wasmgate::wasm::abi::WasmInstance* instance;
    int64_t limit_ns;
    int64_t startup_limit_ns;
    int64_t terminated_call = 0; // start time of the call already terminated
  };
  void unwatch(uint64_t id);
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> entries_;
  uint64_t next_id_ = 1;
  int64_t period_ns_ = 5000000;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace wasmgate::extensions::wasm
