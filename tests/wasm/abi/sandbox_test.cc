// The sandbox rules the ABI layer enforces for the embedder: hidden headers
// (PluginInfo::hidden_headers) and capability_restriction_config
// (InstanceConfig::allowed_capabilities), against the probe module; and the CPU watchdog
// (extensions/common/wasm/watchdog) stopping an endless loop in any callback.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "abi_fixture.h"
#include "extensions/common/wasm/watchdog.h"
#include "wasm/abi/pairs.h"

namespace wasmgate::wasm::abi::testing {
namespace {

using namespace std::string_literals;
using Entries = std::vector<std::pair<std::string, std::string>>;

class Sandbox : public AbiFixture {
protected:
  uint32_t str(std::string_view s, uint32_t at = kScratch) {
    put(at, s);
    return uint32_t(s.size());
  }
};

TEST_F(Sandbox, HiddenHeadersAreNeitherReadableNorWritable) {
  InstanceConfig c = config();
  c.plugin.hidden_headers = {"authorization", "cookie"};
  load("probe_v021", std::move(c));
  FakeContext& s = stream();
  s.setMap(MapType::HttpRequestHeaders,
           {{":path", "/"}, {"authorization", "Bearer secret"}, {"cookie", "a=b"}, {"x-ok", "1"}});
  const uint32_t ctx = s.contextId();

  uint32_t n = str("Authorization");
  EXPECT_EQ(call(ctx, "t_proxy_get_header_map_value", 0, kScratch, n, kOutPtr, kOutSize), kNotFound);
  n = str("x-ok");
  EXPECT_EQ(call(ctx, "t_proxy_get_header_map_value", 0, kScratch, n, kOutPtr, kOutSize), kOk);

  ASSERT_EQ(call(ctx, "t_proxy_get_header_map_pairs", 0, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(deserializePairs(pairAt()), (Pairs{{":path", "/"}, {"x-ok", "1"}}));
  ASSERT_EQ(call(ctx, "t_proxy_get_header_map_size", 0, kOut), kOk);
  EXPECT_EQ(u32(kOut), uint32_t(std::string(":path/x-ok1").size()));

  // Writes to a hidden name are refused; other writes work.
  n = str("cookie");
  const uint32_t v = str("evil", kScratch2);
  EXPECT_EQ(call(ctx, "t_proxy_add_header_map_value", 0, kScratch, n, kScratch2, v), kBadArgument);
  EXPECT_EQ(call(ctx, "t_proxy_replace_header_map_value", 0, kScratch, n, kScratch2, v), kBadArgument);
  EXPECT_EQ(call(ctx, "t_proxy_remove_header_map_value", 0, kScratch, n), kBadArgument);
  EXPECT_EQ(s.maps[0].getView("cookie"), "a=b");

  // Replacing the whole map keeps the hidden headers and ignores hidden names in the input.
  const std::string data = serializePairs(Pairs{{"x-new", "v"}, {"authorization", "forged"}});
  put(kScratch, data);
  ASSERT_EQ(call(ctx, "t_proxy_set_header_map_pairs", 0, kScratch, data.size()), kOk);
  EXPECT_EQ(s.maps[0].entries(),
            (Entries{{"authorization", "Bearer secret"}, {"cookie", "a=b"}, {"x-new", "v"}}));
}

TEST_F(Sandbox, CapabilityRestrictionRefusesHostcallsAndSkipsCallbacks) {
  std::vector<std::string> denied;
  InstanceConfig c = config();
  // proxy_log allowed; proxy_get_header_map_value and fd_write not; no proxy_on_* callbacks
  // except proxy_on_context_create.
  c.allowed_capabilities = std::set<std::string, std::less<>>{"proxy_log", "proxy_on_context_create"};
  c.on_capability_denied = [&](std::string_view name) { denied.emplace_back(name); };
  load("probe_v021", std::move(c));
  FakeContext& s = stream();
  s.setMap(MapType::HttpRequestHeaders, {{"x-ok", "1"}});
  const uint32_t ctx = s.contextId();

  uint32_t n = str("hello");
  EXPECT_EQ(call(ctx, "t_proxy_log", 2, kScratch, n), kOk);
  n = str("x-ok");
  EXPECT_EQ(call(ctx, "t_proxy_get_header_map_value", 0, kScratch, n, kOutPtr, kOutSize),
            kUnimplemented);
  // (The probe's proxy_on_context_create also asked for a property: refused too.)
  EXPECT_EQ(denied, (std::vector<std::string>{"proxy_get_property", "proxy_get_header_map_value"}));
  // A denied callback is not called: the probe records nothing for it.
  const auto before = record(7); // proxy_on_request_headers
  ASSERT_TRUE(inst().onRequestHeaders(ctx, 1, true).ok());
  EXPECT_EQ(record(7), before);
}

TEST_F(Sandbox, EndlessLoopInEveryCallbackIsTerminated) {
  using Call = std::function<Status(WasmInstance&, uint32_t root, uint32_t stream)>;
  auto status = [](const auto& r) { return r.ok() ? Status() : Status::error(r.error()); };
  const std::vector<std::pair<uint32_t, Call>> cases = {
      {1, [](WasmInstance& i, uint32_t r, uint32_t s) { return i.onContextCreate(s, r); }},
      {2, [&](WasmInstance& i, uint32_t r, uint32_t) { return status(i.onVmStart(r, 0)); }},
      {3, [&](WasmInstance& i, uint32_t r, uint32_t) { return status(i.onConfigure(r, 0)); }},
      {4, [](WasmInstance& i, uint32_t r, uint32_t) { return i.onTick(r); }},
      {5, [](WasmInstance& i, uint32_t r, uint32_t) { return i.onQueueReady(r, 1); }},
      {6, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onRequestHeaders(s, 1, false)); }},
      {7, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onRequestBody(s, 1, true)); }},
      {8, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onRequestTrailers(s, 1)); }},
      {9, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onResponseHeaders(s, 1, false)); }},
      {10, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onResponseBody(s, 1, true)); }},
      {11, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onResponseTrailers(s, 1)); }},
      {12, [](WasmInstance& i, uint32_t, uint32_t s) { return i.onLog(s); }},
      {13, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onDone(s)); }},
      {14, [](WasmInstance& i, uint32_t, uint32_t s) { return i.onDelete(s); }},
      {15, [](WasmInstance& i, uint32_t r, uint32_t) { return i.onHttpCallResponse(r, 1, 0, 0, 0); }},
      {16, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onNewConnection(s)); }},
      {17, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onDownstreamData(s, 1, false)); }},
      {18, [&](WasmInstance& i, uint32_t, uint32_t s) { return status(i.onUpstreamData(s, 1, false)); }},
      {19, [](WasmInstance& i, uint32_t, uint32_t s) { return i.onDownstreamConnectionClose(s, 0); }},
      {20, [](WasmInstance& i, uint32_t, uint32_t s) { return i.onUpstreamConnectionClose(s, 0); }},
      {99, [&](WasmInstance& i, uint32_t, uint32_t) { return status(i.allocate(16)); }},
  };
  for (const auto& [id, call] : cases) {
    SCOPED_TRACE("callback #" + std::to_string(id));
    load("loop_everywhere");
    FakeContext& r = newRoot();
    FakeContext& s = newStream(r);
    ASSERT_TRUE(inst().onContextCreate(r.contextId(), 0).ok());
    if (id != 1) {
      ASSERT_TRUE(inst().onContextCreate(s.contextId(), r.contextId()).ok());
    }
    ASSERT_TRUE(callVoid(0, "loop_in", id).ok());
    auto watch = extensions::wasm::CallWatchdog::global().watch(
        inst(), std::chrono::milliseconds(20), std::chrono::milliseconds(20));
    const auto started = std::chrono::steady_clock::now();
    Status result = call(inst(), r.contextId(), s.contextId());
    const auto took = std::chrono::steady_clock::now() - started;
    watch.reset(); // before the instance it watches
    EXPECT_FALSE(result.ok());
    EXPECT_NE(result.message().find("terminated"), std::string::npos) << result.message();
    EXPECT_TRUE(inst().failed());
    EXPECT_TRUE(inst().vm().terminated()); // a timeout, not a trap: what callback_timeouts counts
    EXPECT_LT(took, std::chrono::seconds(2));
    instance.reset();
  }
}

} // namespace
} // namespace wasmgate::wasm::abi::testing
