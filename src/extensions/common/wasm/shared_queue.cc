#include "extensions/common/wasm/shared_queue.h"

#include "event/dispatcher.h"

namespace wasmgate::extensions::wasm {

bool QueueReceiver::notify(const std::shared_ptr<QueueReceiver>& self, uint32_t token) {
  std::lock_guard lock(mu_);
  if (dispatcher_ == nullptr)
    return false;
  // The posted task holds the receiver, not the root: the root may be gone when it runs.
  dispatcher_->post([self, token] {
    Deliver deliver;
    {
      std::lock_guard lock(self->mu_);
      if (self->dispatcher_ == nullptr)
        return;
      deliver = self->deliver_;
    }
    deliver(token);
  });
  return true;
}

void QueueReceiver::detach() {
  std::lock_guard lock(mu_);
  dispatcher_ = nullptr;
  deliver_ = nullptr;
}

bool QueueReceiver::alive() const {
  std::lock_guard lock(mu_);
  return dispatcher_ != nullptr;
}

SharedQueues& SharedQueues::global() {
  static SharedQueues queues;
  return queues;
}

SharedQueues::WasmResult SharedQueues::registerQueue(std::string_view vm_id, std::string_view name,
                                                     std::shared_ptr<QueueReceiver> receiver,
                                                     uint32_t& token) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(std::string(vm_id), std::string(name));
  auto it = tokens_.find(key);
  if (it != tokens_.end()) {
    token = it->second;
    Queue& q = queues_[token];
    // As cpp-host: the latest registrant receives the notifications (a new worker's root, a
    // reloaded plugin). A registration without a receiver (the config-time validation run) only
    // fills in for one that is gone.
    if (receiver || !q.receiver || !q.receiver->alive())
      q.receiver = std::move(receiver);
    return WasmResult::Ok;
  }
  token = next_token_++;
  if (next_token_ == 0)
    next_token_ = 1;
  tokens_.emplace(std::move(key), token);
  queues_[token].receiver = std::move(receiver);
  return WasmResult::Ok;
}

SharedQueues::WasmResult SharedQueues::resolve(std::string_view vm_id, std::string_view name,
                                               uint32_t& token) const {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(std::make_pair(std::string(vm_id), std::string(name)));
  if (it == tokens_.end())
    return WasmResult::NotFound;
  token = it->second;
  return WasmResult::Ok;
}

SharedQueues::WasmResult SharedQueues::enqueue(uint32_t token, std::string_view value) {
  std::shared_ptr<QueueReceiver> receiver;
  {
    std::lock_guard lock(mu_);
    auto it = queues_.find(token);
    if (it == queues_.end())
      return WasmResult::NotFound;
    if (value.size() > limits_.max_item_bytes)
      return WasmResult::BadArgument;
    if (it->second.items.size() >= limits_.max_items)
      return WasmResult::InternalFailure;
    it->second.items.emplace_back(value);
    receiver = it->second.receiver;
  }
  // Outside the lock: the receiver's own lock orders it against its detach().
  if (receiver)
    receiver->notify(receiver, token);
  return WasmResult::Ok;
}

SharedQueues::WasmResult SharedQueues::dequeue(uint32_t token, std::string& value) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(token);
  if (it == queues_.end())
    return WasmResult::NotFound;
  if (it->second.items.empty())
    return WasmResult::Empty;
  value = std::move(it->second.items.front());
  it->second.items.pop_front();
  return WasmResult::Ok;
}

void SharedQueues::setLimits(SharedQueueLimits limits) {
  std::lock_guard lock(mu_);
  limits_ = limits;
}

} // namespace wasmgate::extensions::wasm
