#pragma once

// Proxy-Wasm shared queues (proxy_register/resolve/enqueue/dequeue_shared_queue), process-wide,
// as proxy-wasm-cpp-host's SharedQueue:
//   - a queue is named by (vm_id, name); registering it again returns the same token and the
//     items already queued, and the latest registrant receives proxy_on_queue_ready from then on
//     (a registration with no event loop, the config-time validation run, does not take over a
//     live one);
//   - tokens are unique in the process; resolve finds a queue by (vm_id, name) from any VM;
//   - enqueue appends and tells the registrant on its own thread (its worker's event loop);
//     dequeue pops the oldest item, Empty when there is none, NotFound for an unknown token.
// Past Envoy, queues are bounded (SharedQueueLimits): an item too large is BadArgument, a full
// queue InternalFailure; the queue is unchanged.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "wasm/abi/host_context.h"

namespace wasmgate::event {
class Dispatcher;
}

namespace wasmgate::extensions::wasm {

struct SharedQueueLimits {
  size_t max_item_bytes = 1 << 20;
  size_t max_items = 10000; // per queue
};

// Where proxy_on_queue_ready goes: a root context on a worker. The root clears it (under the
// mutex) when it goes away, so a notification is either posted to a live event loop or dropped.
class QueueReceiver {
public:
  using Deliver = std::function<void(uint32_t token)>;
  QueueReceiver(event::Dispatcher* dispatcher, Deliver deliver)
      : dispatcher_(dispatcher), deliver_(std::move(deliver)) {}
  // Any thread: posts the notification to the receiver's loop; false if it is gone.
  bool notify(const std::shared_ptr<QueueReceiver>& self, uint32_t token);
  // The owner's thread, before the owner is destroyed.
  void detach();
  bool alive() const;

private:
  mutable std::mutex mu_;
  event::Dispatcher* dispatcher_;
  Deliver deliver_; // runs on the receiver's thread
};

class SharedQueues {
public:
  using WasmResult = ::wasmgate::wasm::abi::WasmResult;

  static SharedQueues& global();

  WasmResult registerQueue(std::string_view vm_id, std::string_view name,
                           std::shared_ptr<QueueReceiver> receiver, uint32_t& token);
  WasmResult resolve(std::string_view vm_id, std::string_view name, uint32_t& token) const;
  WasmResult enqueue(uint32_t token, std::string_view value);
  WasmResult dequeue(uint32_t token, std::string& value);

  void setLimits(SharedQueueLimits limits);

private:
  struct Queue {
    std::shared_ptr<QueueReceiver> receiver;
    std::deque<std::string> items;
  };

  mutable std::mutex mu_;
  SharedQueueLimits limits_;
  uint32_t next_token_ = 1;
  std::map<std::pair<std::string, std::string>, uint32_t, std::less<>> tokens_;
  std::unordered_map<uint32_t, Queue> queues_;
};

} // namespace wasmgate::extensions::wasm
