#include "extensions/common/wasm/shared_queue.h"

#include <gtest/gtest.h>

#include <vector>

#include "event/dispatcher.h"

namespace wasmgate::extensions::wasm {
namespace {

using R = SharedQueues::WasmResult;

// Runs what was posted to `d` so far.
void drain(event::Dispatcher& d) {
  d.post([&d] { d.exit(); });
  d.run();
}

TEST(SharedQueues, RegisterResolveEnqueueDequeue) {
  SharedQueues q;
  event::Dispatcher d("test");
  std::vector<uint32_t> ready;
  auto receiver = std::make_shared<QueueReceiver>(&d, [&](uint32_t t) { ready.push_back(t); });
  uint32_t token = 0, again = 0, resolved = 0;
  ASSERT_EQ(q.registerQueue("vm", "jobs", receiver, token), R::Ok);
  EXPECT_NE(token, 0u);
  ASSERT_EQ(q.registerQueue("vm", "jobs", receiver, again), R::Ok);
  EXPECT_EQ(again, token); // same (vm_id, name): same queue
  ASSERT_EQ(q.resolve("vm", "jobs", resolved), R::Ok);
  EXPECT_EQ(resolved, token);
  EXPECT_EQ(q.resolve("other_vm", "jobs", resolved), R::NotFound);

  std::string item;
  EXPECT_EQ(q.dequeue(token, item), R::Empty);
  ASSERT_EQ(q.enqueue(token, "a"), R::Ok);
  ASSERT_EQ(q.enqueue(token, "b"), R::Ok);
  // Notifications run on the registrant's loop, one per enqueue.
  EXPECT_TRUE(ready.empty());
  drain(d);
  EXPECT_EQ(ready, (std::vector<uint32_t>{token, token}));
  ASSERT_EQ(q.dequeue(token, item), R::Ok);
  EXPECT_EQ(item, "a");
  ASSERT_EQ(q.dequeue(token, item), R::Ok);
  EXPECT_EQ(item, "b");
  EXPECT_EQ(q.dequeue(token, item), R::Empty);
  EXPECT_EQ(q.enqueue(token + 1000, "x"), R::NotFound);
  EXPECT_EQ(q.dequeue(token + 1000, item), R::NotFound);
}

TEST(SharedQueues, DetachedReceiverGetsNothingAndIsReplaced) {
  SharedQueues q;
  event::Dispatcher d("test"), d2("test2"); // a dispatcher runs once
  int first = 0, second = 0;
  auto r1 = std::make_shared<QueueReceiver>(&d, [&](uint32_t) { ++first; });
  auto r2 = std::make_shared<QueueReceiver>(&d2, [&](uint32_t) { ++second; });
  uint32_t token = 0;
  ASSERT_EQ(q.registerQueue("vm", "q", r1, token), R::Ok);
  ASSERT_EQ(q.enqueue(token, "1"), R::Ok); // posted to r1...
  r1->detach();                             // ...which goes away before it runs
  drain(d);
  EXPECT_EQ(first, 0);
  uint32_t again = 0;
  ASSERT_EQ(q.registerQueue("vm", "q", r2, again), R::Ok); // takes over the orphaned queue
  EXPECT_EQ(again, token);
  ASSERT_EQ(q.enqueue(token, "2"), R::Ok);
  drain(d2);
  EXPECT_EQ(second, 1);
}

TEST(SharedQueues, LatestRegistrantReceivesAsInCppHost) {
  SharedQueues q;
  event::Dispatcher d("test"), d2("test2");
  int first = 0, second = 0;
  auto r1 = std::make_shared<QueueReceiver>(&d, [&](uint32_t) { ++first; });
  auto r2 = std::make_shared<QueueReceiver>(&d2, [&](uint32_t) { ++second; });
  uint32_t token = 0, again = 0, validation = 0;
  ASSERT_EQ(q.registerQueue("vm", "q", r1, token), R::Ok);
  ASSERT_EQ(q.enqueue(token, "1"), R::Ok);
  ASSERT_EQ(q.registerQueue("vm", "q", r2, again), R::Ok); // r1 is alive: r2 takes over anyway
  ASSERT_EQ(q.enqueue(token, "2"), R::Ok);
  // A registration without an event loop (config-time validation) does not steal it.
  ASSERT_EQ(q.registerQueue("vm", "q", nullptr, validation), R::Ok);
  EXPECT_EQ(validation, token);
  ASSERT_EQ(q.enqueue(token, "3"), R::Ok);
  drain(d);
  drain(d2);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
  std::string item;
  ASSERT_EQ(q.dequeue(token, item), R::Ok); // the items stayed in the one queue
  EXPECT_EQ(item, "1");
}

TEST(SharedQueues, LimitsRefuseCleanly) {
  SharedQueues q;
  q.setLimits({/*max_item_bytes=*/3, /*max_items=*/2});
  uint32_t token = 0;
  ASSERT_EQ(q.registerQueue("vm", "q", nullptr, token), R::Ok);
  EXPECT_EQ(q.enqueue(token, "1234"), R::BadArgument);
  EXPECT_EQ(q.enqueue(token, "a"), R::Ok);
  EXPECT_EQ(q.enqueue(token, "b"), R::Ok);
  EXPECT_EQ(q.enqueue(token, "c"), R::InternalFailure);
  std::string item;
  ASSERT_EQ(q.dequeue(token, item), R::Ok);
  EXPECT_EQ(item, "a");
  EXPECT_EQ(q.enqueue(token, "c"), R::Ok);
}

} // namespace
} // namespace wasmgate::extensions::wasm
