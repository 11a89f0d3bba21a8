#pragma once

// One event loop per thread (epoll, edge-triggered), with timers, deferred deletion and a
// thread-safe post() for the rare cross-thread messages (config snapshots, drain, stats).
// Everything else a worker touches is owned by that worker: no locks on the request path.

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wasmgate::event {

using MonotonicTime = std::chrono::steady_clock::time_point;

class Dispatcher;

// Owned objects whose destruction must wait until the current callback stack unwinds.
class DeferredDeletable {
public:
  virtual ~DeferredDeletable() = default;
};
using DeferredDeletablePtr = std::unique_ptr<DeferredDeletable>;

enum FileReadyType : uint32_t { Read = 1, Write = 2, Closed = 4 };

// An fd registered with the loop for read+write readiness (edge-triggered). The callback gets a
// mask of FileReadyType bits.
class FileEvent {
public:
  FileEvent(Dispatcher& d, int fd, std::function<void(uint32_t)> cb);
  ~FileEvent();
  FileEvent(const FileEvent&) = delete;
  FileEvent& operator=(const FileEvent&) = delete;
  // Re-delivers readiness on the next loop iteration (edge-triggered fds need this after
  // reading was paused with data possibly left in the kernel).
  void activate(uint32_t events);

private:
  friend class Dispatcher;
  Dispatcher& dispatcher_;
  int fd_;
  std::function<void(uint32_t)> cb_;
  uint32_t pending_activation_ = 0;
};

class Timer {
public:
  Timer(Dispatcher& d, std::function<void()> cb);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void enableTimer(std::chrono::milliseconds delay);
  void disableTimer();
  bool enabled() const { return heap_index_ != kNotArmed; }

private:
  friend class Dispatcher;
  static constexpr size_t kNotArmed = SIZE_MAX;
  Dispatcher& dispatcher_;
  std::function<void()> cb_;
  MonotonicTime deadline_;
  uint64_t seq_ = 0;
  size_t heap_index_ = kNotArmed;
};
using TimerPtr = std::unique_ptr<Timer>;

class Dispatcher {
public:
  explicit Dispatcher(std::string name);
  ~Dispatcher();

  const std::string& name() const { return name_; }
  // Runs until exit() is called.
  void run();
  // Thread-safe.
  void exit();
  // Thread-safe: runs `fn` on this dispatcher's thread.
  void post(std::function<void()> fn);
  void deferredDelete(DeferredDeletablePtr obj);
  // Time cached at the start of each loop iteration (cheap; good enough for timeouts).
  MonotonicTime now() const { return now_; }
  void updateApproximateTime() { now_ = std::chrono::steady_clock::now(); }
  TimerPtr createTimer(std::function<void()> cb) { return std::make_unique<Timer>(*this, std::move(cb)); }
  bool isThreadSafe() const;

private:
  friend class FileEvent;
  friend class Timer;
  void addTimer(Timer* t);
  void removeTimer(Timer* t);
  void heapSwap(size_t a, size_t b);
  void siftUp(size_t i);
  void siftDown(size_t i);
  bool timerLess(size_t a, size_t b) const;
  void runTimers();
  void runPosted();
  void runDeferredDeletes();
  void runActivations();
  int nextTimeoutMs() const;

  std::string name_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool exit_requested_ = false;
  std::atomic<bool> exit_flag_{false};
  MonotonicTime now_;
  uint64_t timer_seq_ = 0;
  std::vector<Timer*> timer_heap_;
  std::mutex post_lock_;
  std::vector<std::function<void()>> posted_;
  std::vector<DeferredDeletablePtr> to_delete_;
  std::vector<DeferredDeletablePtr> deleting_; // the batch being deleted (runDeferredDeletes)
  bool deleting_now_ = false;
  std::vector<FileEvent*> activated_;
  std::thread::id thread_id_;
};

} // namespace wasmgate::event
