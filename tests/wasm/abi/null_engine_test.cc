// The null engine (src/wasm/engines/null): native plugins compiled into this test binary run
// through the same ABI layer as wasm modules. null_probe_plugin.cc drives every marshalled
// hostcall shape; the example plugins run in plugins_test.cc on both engines.

#include <algorithm>

#include <gtest/gtest.h>

#include "abi_fixture.h"
#include "wasm/engines/null/null_engine.h"

namespace wasmgate::wasm::abi::testing {
namespace {

std::shared_ptr<WasmEngine> nullEngine() {
  static std::shared_ptr<WasmEngine> e = createNullEngine();
  return e;
}

class NullEngine : public AbiFixture {
protected:
  void loadProbe(std::string configuration = "probe-config") {
    auto module = nullEngine()->compile("null_probe", "null_probe");
    ASSERT_TRUE(module.ok()) << module.error();
    InstanceConfig c = config();
    c.plugin.root_id = ""; // the probe registers its factories for the default root id
    c.plugin.plugin_configuration = std::move(configuration);
    auto created = WasmInstance::create(*module, std::move(c));
    ASSERT_TRUE(created.ok()) << created.error();
    instance = std::move(*created);
  }

  bool configure() {
    FakeContext& r = root();
    auto started = inst().onVmStart(r.contextId(), 0);
    EXPECT_TRUE(started.ok() && *started);
    auto configured =
        inst().onConfigure(r.contextId(), uint32_t(inst().plugin().plugin_configuration.size()));
    EXPECT_TRUE(configured.ok()) << configured.error();
    return configured.ok() && *configured;
  }

  // The value the probe logged as "key=value" on `c` (after the SDK's "[file:line]::fn() "
  // prefix), or "<absent>".
  static std::string logged(const FakeContext& c, const std::string& key) {
    std::string found = "<absent>";
    const std::string marker = "() " + key + "=";
    for (const auto& line : c.logs)
      if (size_t at = line.message.find(marker); at != std::string::npos)
        found = line.message.substr(at + marker.size());
    return found;
  }

  FakeContext& request(std::vector<std::pair<std::string, std::string>> extra = {}) {
    FakeContext& s = stream();
    std::vector<std::pair<std::string, std::string>> headers = {
        {":method", "GET"}, {":path", "/"}, {"x-in", "hello"}, {"x-replace", "old"},
        {"x-remove", "gone"}};
    for (auto& h : extra)
      headers.push_back(std::move(h));
    s.setMap(MapType::HttpRequestHeaders, headers);
    return s;
  }
};

TEST_F(NullEngine, UnknownPluginNamesWhatTheBuildHas) {
  auto module = nullEngine()->compile("no_such_plugin", "x");
  ASSERT_FALSE(module.ok());
  EXPECT_NE(module.error().find("no native (null runtime) plugin named 'no_such_plugin'"),
            std::string::npos)
      << module.error();
  EXPECT_NE(module.error().find("null_probe"), std::string::npos) << module.error();
  EXPECT_NE(module.error().find("add_header"), std::string::npos) << module.error();
  auto names = nullPluginNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST_F(NullEngine, ModuleLooksLikeAnAbi021Module) {
  auto module = nullEngine()->compile("null_probe", "null_probe");
  ASSERT_TRUE(module.ok()) << module.error();
  EXPECT_EQ(detectAbiVersion((*module)->info()).value(), AbiVersion::V0_2_1);
  EXPECT_NE((*module)->info().findExport("proxy_on_request_headers"), nullptr);
  EXPECT_NE((*module)->info().findExport("malloc"), nullptr);
  EXPECT_EQ((*module)->info().findExport("_start"), nullptr);
  auto before = nullEngine()->stats().instantiations;
  loadProbe();
  EXPECT_EQ(vm().engineName(), kNullRuntimeName);
  EXPECT_EQ(nullEngine()->stats().instantiations, before + 1);
}

TEST_F(NullEngine, ConfigurationIsReadAndCanBeRejected) {
  loadProbe("probe-config");
  ASSERT_TRUE(configure());
  EXPECT_EQ(logged(root(), "configuration"), "probe-config");
  instance.reset();
  contexts.clear();
  root_ = nullptr;
  loadProbe("reject");
  EXPECT_FALSE(configure());
  EXPECT_FALSE(inst().failed());
}

TEST_F(NullEngine, HeaderHostcallsMarshalInputsOutputsAndReturnedBlocks) {
  loadProbe();
  ASSERT_TRUE(configure());
  FakeContext& s = request();
  auto r = inst().onRequestHeaders(s.contextId(), 5, false);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->status, 0u);
  EXPECT_EQ(logged(s, "headers_arg"), "5");
  EXPECT_EQ(logged(s, "x-in"), "hello");             // returned block -> native pointer
  EXPECT_EQ(logged(s, "x-missing.found"), "no");     // NotFound leaves the out-params alone
  EXPECT_EQ(logged(s, "pairs"), "5");                // serialized pairs round-trip
  EXPECT_EQ(s.maps[0].getView("x-added"), "v-hello");
  EXPECT_EQ(s.maps[0].getView("x-replace"), "new");
  EXPECT_FALSE(s.maps[0].has("x-remove"));
  EXPECT_EQ(logged(s, "map_size.result"), "0");
  EXPECT_EQ(logged(s, "map_size"), std::to_string(s.maps[0].byteSize())); // size_t out-param
  EXPECT_EQ(logged(s, "plugin_name.found"), "yes");
  EXPECT_EQ(logged(s, "plugin_name"), "probe_plugin");
  EXPECT_EQ(logged(s, "time.result"), "0");          // u64 out-param
  EXPECT_EQ(logged(s, "time.nonzero"), "yes");
  EXPECT_EQ(logged(s, "foreign.result"), std::to_string(kNotFound)); // null out-params
  EXPECT_EQ(logged(s, "body_status.result"), std::to_string(kNotFound));
  EXPECT_EQ(logged(s, "body_size"), "99"); // untouched on failure
  EXPECT_FALSE(inst().failed()) << inst().failureReason();
}

TEST_F(NullEngine, BadNativePointersGetTheAbiErrors) {
  loadProbe();
  ASSERT_TRUE(configure());
  FakeContext& s = request({{"x-bad-pointers", "1"}});
  auto r = inst().onRequestHeaders(s.contextId(), 6, false);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(logged(s, "bad.log"), std::to_string(kInvalidMemoryAccess));
  EXPECT_EQ(logged(s, "bad.add"), std::to_string(kInvalidMemoryAccess));
  EXPECT_EQ(logged(s, "bad.map_type"), std::to_string(kBadArgument));
  EXPECT_EQ(logged(s, "bad.out"), std::to_string(kInvalidMemoryAccess));
  EXPECT_FALSE(inst().failed()) << inst().failureReason();
}

TEST_F(NullEngine, LocalReplyForcesStop) {
  loadProbe();
  ASSERT_TRUE(configure());
  FakeContext& s = request({{"x-reply", "1"}});
  auto r = inst().onRequestHeaders(s.contextId(), 6, false);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->local_response_sent);
  EXPECT_EQ(r->status, 4u);
  ASSERT_EQ(s.local_replies.size(), 1u);
  EXPECT_EQ(s.local_replies[0].status, 403u);
  EXPECT_EQ(s.local_replies[0].details, "denied_by_probe");
  EXPECT_EQ(s.local_replies[0].body, "no entry");
  EXPECT_EQ(s.local_replies[0].headers,
            (std::vector<std::pair<std::string, std::string>>{{"x-probe", "1"}}));
}

TEST_F(NullEngine, BodyIsReadAndRewritten) {
  loadProbe();
  ASSERT_TRUE(configure());
  FakeContext& s = request();
  ASSERT_TRUE(inst().onRequestHeaders(s.contextId(), 5, false).ok());
  s.setBuffer(BufferType::HttpRequestBody, "abc");
  auto b1 = inst().onRequestBody(s.contextId(), 3, false);
  ASSERT_TRUE(b1.ok()) << b1.error();
  EXPECT_EQ(b1->status, 1u);
  s.setBuffer(BufferType::HttpRequestBody, "abc def");
  auto b2 = inst().onRequestBody(s.contextId(), 7, true);
  ASSERT_TRUE(b2.ok()) << b2.error();
  EXPECT_EQ(b2->status, 0u);
  EXPECT_EQ(s.buffers[0].view(), "ABC DEF");
}

TEST_F(NullEngine, AThrowingPluginFailsItsVmOnly) {
  loadProbe();
  ASSERT_TRUE(configure());
  FakeContext& s = request({{"x-throw", "1"}});
  auto r = inst().onRequestHeaders(s.contextId(), 6, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("probe exploded"), std::string::npos) << r.error();
  EXPECT_TRUE(inst().failed());
  // Later calls are refused without entering the plugin.
  EXPECT_FALSE(inst().onLog(s.contextId()).ok());
  // Another instance of the same plugin is unaffected.
  auto module = nullEngine()->compile("null_probe", "null_probe");
  ASSERT_TRUE(module.ok());
  auto other = WasmInstance::create(*module, config());
  ASSERT_TRUE(other.ok()) << other.error();
  EXPECT_FALSE((*other)->failed());
}

TEST_F(NullEngine, TerminateRefusesLaterCalls) {
  loadProbe();
  ASSERT_TRUE(configure());
  FakeContext& s = request();
  vm().terminate();
  EXPECT_TRUE(inst().failed());
  auto r = inst().onRequestHeaders(s.contextId(), 5, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("terminated"), std::string::npos) << r.error();
}

TEST_F(NullEngine, NoMemoryOutsideAHostcall) {
  loadProbe();
  EXPECT_EQ(vm().memorySize(), 0u);
  EXPECT_TRUE(vm().getMemory(0, 0).has_value());
  EXPECT_FALSE(vm().getMemory(0, 1).has_value());
  EXPECT_FALSE(vm().getMemory(1u << 24, 1).has_value());
  EXPECT_FALSE(vm().getMemoryMutable(0xFFFFFFFF, 4).has_value());
  // The allocator only hands out blocks inside a hostcall.
  auto a = inst().allocate(16);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 0u);
}

} // namespace
} // namespace wasmgate::wasm::abi::testing
