// The sandbox rules the ABI layer enforces for the embedder: hidden headers
// (PluginInfo::hidden_headers) and capability_restriction_config
// (InstanceConfig::allowed_capabilities), against the probe module.

#include <gtest/gtest.h>

#include "abi_fixture.h"
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

} // namespace
} // namespace wasmgate::wasm::abi::testing
