#include "event/dispatcher.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/logger.h"

namespace wasmgate::event {

FileEvent::FileEvent(Dispatcher& d, int fd, std::function<void(uint32_t)> cb)
    : dispatcher_(d), fd_(fd), cb_(std::move(cb)) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = this;
  if (epoll_ctl(d.epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    WG_ERROR("epoll_ctl(ADD, fd={}) failed: {}", fd, strerror(errno));
}

FileEvent::~FileEvent() {
  epoll_ctl(dispatcher_.epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
  if (pending_activation_) {
    for (auto& slot : dispatcher_.activated_)
      if (slot == this)
        slot = nullptr;
  }
}

void FileEvent::activate(uint32_t events) {
  if (pending_activation_ == 0)
    dispatcher_.activated_.push_back(this);
  pending_activation_ |= events;
}

Timer::Timer(Dispatcher& d, std::function<void()> cb) : dispatcher_(d), cb_(std::move(cb)) {}
Timer::~Timer() { disableTimer(); }

void Timer::enableTimer(std::chrono::milliseconds delay) {
  disableTimer();
  // The loop's cached time is at most one iteration old: precise enough for timeouts and
  // saves a clock read per timer (several per request).
  deadline_ = dispatcher_.now() + delay;
  dispatcher_.addTimer(this);
}

void Timer::disableTimer() {
  if (heap_index_ != kNotArmed)
    dispatcher_.removeTimer(this);
}

Dispatcher::Dispatcher(std::string name) : name_(std::move(name)) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr; // nullptr marks the wake fd
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  now_ = std::chrono::steady_clock::now();
}

Dispatcher::~Dispatcher() {
  runDeferredDeletes();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

bool Dispatcher::isThreadSafe() const { return std::this_thread::get_id() == thread_id_; }

void Dispatcher::exit() {
  exit_flag_.store(true);
  uint64_t one = 1;
  ssize_t rc = ::write(wake_fd_, &one, sizeof(one));
  (void)rc;
}

void Dispatcher::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t rc = ::write(wake_fd_, &one, sizeof(one));
  (void)rc;
}

void Dispatcher::deferredDelete(DeferredDeletablePtr obj) { to_delete_.push_back(std::move(obj)); }

bool Dispatcher::timerLess(size_t a, size_t b) const {
  const Timer* ta = timer_heap_[a];
  const Timer* tb = timer_heap_[b];
  if (ta->deadline_ != tb->deadline_)
    return ta->deadline_ < tb->deadline_;
  return ta->seq_ < tb->seq_;
}

void Dispatcher::heapSwap(size_t a, size_t b) {
  std::swap(timer_heap_[a], timer_heap_[b]);
  timer_heap_[a]->heap_index_ = a;
  timer_heap_[b]->heap_index_ = b;
}

void Dispatcher::siftUp(size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!timerLess(i, parent))
      break;
    heapSwap(i, parent);
    i = parent;
  }
}

void Dispatcher::siftDown(size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < timer_heap_.size() && timerLess(l, m))
      m = l;
    if (r < timer_heap_.size() && timerLess(r, m))
      m = r;
    if (m == i)
      break;
    heapSwap(i, m);
    i = m;
  }
}

void Dispatcher::addTimer(Timer* t) {
  t->seq_ = ++timer_seq_;
  t->heap_index_ = timer_heap_.size();
  timer_heap_.push_back(t);
  siftUp(t->heap_index_);
}

void Dispatcher::removeTimer(Timer* t) {
  size_t i = t->heap_index_;
  size_t last = timer_heap_.size() - 1;
  if (i != last) {
    heapSwap(i, last);
    timer_heap_.pop_back();
    siftDown(i);
    siftUp(i);
  } else {
    timer_heap_.pop_back();
  }
  t->heap_index_ = Timer::kNotArmed;
}

int Dispatcher::nextTimeoutMs() const {
  if (!activated_.empty() || !to_delete_.empty())
    return 0;
  if (timer_heap_.empty())
    return -1;
  auto delta = timer_heap_[0]->deadline_ - std::chrono::steady_clock::now();
  if (delta <= std::chrono::steady_clock::duration::zero())
    return 0;
  // Round up so a timer never fires early.
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(delta).count() + 1;
  return int(std::min<int64_t>(ms, 60000));
}

void Dispatcher::runTimers() {
  auto now = std::chrono::steady_clock::now();
  // Only run timers that were due at entry; timers re-armed by callbacks wait for next turn.
  while (!timer_heap_.empty() && timer_heap_[0]->deadline_ <= now) {
    Timer* t = timer_heap_[0];
    removeTimer(t);
    t->cb_();
  }
}

void Dispatcher::runPosted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    work.swap(posted_);
  }
  for (auto& fn : work)
    fn();
}

void Dispatcher::runDeferredDeletes() {
  // Deleting may schedule more deletions: they land in to_delete_ and run in the next turn of
  // the loop. The two vectors trade places so both keep their capacity (no allocation per
  // request), and a nested call (a destructor running the loop) leaves the work to this one.
  if (deleting_now_)
    return;
  deleting_now_ = true;
  while (!to_delete_.empty()) {
    deleting_.swap(to_delete_);
    deleting_.clear();
  }
  deleting_now_ = false;
}

void Dispatcher::runActivations() {
  // Callbacks may activate more events (appended and run in this pass) or destroy events still
  // queued (their destructor nulls the slot).
  for (size_t i = 0; i < activated_.size(); ++i) {
    FileEvent* fe = activated_[i];
    if (fe == nullptr)
      continue;
    activated_[i] = nullptr;
    uint32_t events = fe->pending_activation_;
    fe->pending_activation_ = 0;
    fe->cb_(events);
  }
  activated_.clear();
}

void Dispatcher::run() {
  thread_id_ = std::this_thread::get_id();
  now_ = std::chrono::steady_clock::now();
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!exit_flag_.load(std::memory_order_relaxed)) {
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, nextTimeoutMs());
    now_ = std::chrono::steady_clock::now();
    if (n < 0 && errno != EINTR) {
      WG_ERROR("epoll_wait failed: {}", strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      auto* fe = static_cast<FileEvent*>(events[i].data.ptr);
      if (fe == nullptr) {
        uint64_t v;
        while (::read(wake_fd_, &v, sizeof(v)) > 0) {
        }
        continue;
      }
      uint32_t mask = 0;
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        mask |= FileReadyType::Read;
      if (events[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        mask |= FileReadyType::Write;
      if (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        mask |= FileReadyType::Closed;
      fe->activate(mask);
    }
    runActivations();
    runTimers();
    runPosted();
    runDeferredDeletes();
  }
  runDeferredDeletes();
}

} // namespace wasmgate::event
