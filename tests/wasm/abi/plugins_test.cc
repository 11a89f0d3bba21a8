// Real plugins built from examples/plugins with the C++ SDK, run through the ABI layer with the
// fake context: startup, root context (plugin_root_id inside proxy_on_context_create),
// vm_start, configure, and a request/response. Each test runs twice from one plugin source:
//   v8:   the .wasm built by scripts/build-plugins.sh (clang to wasm32-wasi) into
//         WG_PLUGINS_DIR; skipped, naming the missing file, when it has not been built;
//   null: the same source compiled natively into this binary (null engine).

#include <filesystem>
#include <iostream>

#include <gtest/gtest.h>

#include "abi_fixture.h"
#include "wasm/engines/null/null_engine.h"

namespace wasmgate::wasm::abi::testing {
namespace {

namespace fs = std::filesystem;
using Entries = std::vector<std::pair<std::string, std::string>>;

class Plugins : public AbiFixture, public ::testing::WithParamInterface<std::string> {
protected:
  bool onNullEngine() const { return GetParam() == "null"; }

  // Loads WG_PLUGINS_DIR/<name>.wasm (v8) or the native plugin <name> (null); false (after
  // GTEST_SKIP) when the .wasm is not there.
  bool loadPlugin(const std::string& name, const std::string& root_id,
                  const std::string& configuration) {
    Result<std::shared_ptr<CompiledModule>> module = Status::error("not loaded");
    if (onNullEngine()) {
      static std::shared_ptr<WasmEngine> null_engine = createNullEngine();
      module = null_engine->compile(name, name);
    } else {
      const std::string path = std::string(WG_PLUGINS_DIR) + "/" + name + ".wasm";
      if (!fs::exists(path)) {
        skipped_ = path;
        return false;
      }
      module = compileFile(path, name);
    }
    EXPECT_TRUE(module.ok()) << module.error();
    if (!module.ok())
      return false;
    InstanceConfig c = config();
    c.plugin.name = name;
    c.plugin.root_id = root_id;
    c.plugin.vm_configuration.clear();
    c.plugin.plugin_configuration = configuration;
    auto created = WasmInstance::create(*module, std::move(c));
    EXPECT_TRUE(created.ok()) << created.error();
    if (!created.ok())
      return false;
    instance = std::move(*created);
    return true;
  }

  // Root context through context_create, vm_start and configure; returns configure's answer.
  bool startRoot() {
    FakeContext& r = newRoot();
    r.services = root_services_;
    root_ = &r;
    EXPECT_TRUE(inst().onContextCreate(r.contextId(), 0).ok());
    auto started = inst().onVmStart(r.contextId(), 0);
    EXPECT_TRUE(started.ok()) << started.error();
    EXPECT_TRUE(started.ok() && *started);
    auto configured = inst().onConfigure(r.contextId(), uint32_t(inst().plugin().plugin_configuration.size()));
    EXPECT_TRUE(configured.ok()) << configured.error();
    return configured.ok() && *configured;
  }

  FakeContext& newRequest() {
    FakeContext& s = newStream(*root_);
    s.setMap(MapType::HttpRequestHeaders, {{":method", "GET"},
                                           {":path", "/api/v1/users?id=7"},
                                           {":authority", "example.com"},
                                           {"user-agent", "test"}});
    EXPECT_TRUE(inst().onContextCreate(s.contextId(), root_->contextId()).ok());
    return s;
  }

  // Ends a stream the way Envoy does: log, done, delete.
  void finish(FakeContext& s) {
    EXPECT_TRUE(inst().onLog(s.contextId()).ok());
    auto done = inst().onDone(s.contextId());
    EXPECT_TRUE(done.ok()) << done.error();
    EXPECT_TRUE(inst().onDelete(s.contextId()).ok());
    EXPECT_FALSE(inst().failed()) << inst().failureReason();
  }

  std::string allLogs(const FakeContext& c) {
    std::string out;
    for (const auto& l : c.logs)
      out += "[" + std::to_string(l.level) + "] " + l.message + "\n";
    return out;
  }

  std::string skipped_;
  bool root_services_ = false;
};

#define LOAD_OR_SKIP(...)                                                                          \
  do {                                                                                             \
    if (!loadPlugin(__VA_ARGS__)) {                                                                \
      if (!skipped_.empty())                                                                       \
        GTEST_SKIP() << "plugin not built: " << skipped_ << " (run scripts/build-plugins.sh)";     \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

TEST_P(Plugins, AddHeader) {
  LOAD_OR_SKIP("add_header", "add_header_root_id",
               R"json({"name": "x-hello", "value": "wasmgate", "to": "both"})json");
  ASSERT_TRUE(startRoot()) << allLogs(*root_);
  FakeContext& s = newRequest();
  auto h = inst().onRequestHeaders(s.contextId(), 4, true);
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(h->status, 0u);
  EXPECT_EQ(s.maps[0].getView("x-hello"), "wasmgate");
  s.setMap(MapType::HttpResponseHeaders, {{":status", "200"}});
  auto r = inst().onResponseHeaders(s.contextId(), 1, true);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(s.maps[2].entries(), (Entries{{":status", "200"}, {"x-hello", "wasmgate"}}));
  finish(s);
}

TEST_P(Plugins, AddHeaderRejectsABadConfiguration) {
  LOAD_OR_SKIP("add_header", "add_header_root_id", R"json({"nmae": "typo"})json");
  EXPECT_FALSE(startRoot());
  EXPECT_NE(allLogs(*root_).find("unknown configuration field"), std::string::npos)
      << allLogs(*root_);
  EXPECT_FALSE(inst().failed());
}

TEST_P(Plugins, PathRewrite) {
  LOAD_OR_SKIP("path_rewrite", "",
               R"json({"rewrites": [{"pattern": "^/api/v1/(.*)", "replacement": "/v2/$1"}]})json");
  ASSERT_TRUE(startRoot()) << allLogs(*root_);
  FakeContext& s = newRequest();
  auto h = inst().onRequestHeaders(s.contextId(), 4, true);
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(h->status, 0u);
  EXPECT_EQ(s.maps[0].getView(":path"), "/v2/users?id=7");
  EXPECT_EQ(s.modified, std::vector<MapType>{MapType::HttpRequestHeaders});
  finish(s);
}

TEST_P(Plugins, BodyRedact) {
  LOAD_OR_SKIP("body_redact", "body_redact_root_id",
               R"json({"literals": ["secret-token"], "replacement": "[X]"})json");
  root_services_ = true; // the counter is defined on the root in on_configure
  ASSERT_TRUE(startRoot()) << allLogs(*root_);
  FakeContext& s = newRequest();
  ASSERT_TRUE(inst().onRequestHeaders(s.contextId(), 4, true).ok());
  s.services = true; // ...and incremented from the stream
  s.setMap(MapType::HttpResponseHeaders,
           {{":status", "200"}, {"content-type", "text/plain"}, {"content-length", "20"}});
  auto h = inst().onResponseHeaders(s.contextId(), 3, false);
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_FALSE(s.maps[2].has("content-length"));
  // First chunk: buffered.
  s.setBuffer(BufferType::HttpResponseBody, "abc secret-");
  auto b1 = inst().onResponseBody(s.contextId(), 11, false);
  ASSERT_TRUE(b1.ok()) << b1.error();
  EXPECT_EQ(b1->status, 1u); // StopIterationAndBuffer
  // The whole buffered body at end of stream: rewritten in place.
  s.setBuffer(BufferType::HttpResponseBody, "abc secret-token xyz");
  auto b2 = inst().onResponseBody(s.contextId(), 20, true);
  ASSERT_TRUE(b2.ok()) << b2.error();
  EXPECT_EQ(b2->status, 0u);
  EXPECT_EQ(s.buffers[1].view(), "abc [X] xyz");
  EXPECT_EQ(s.increments, std::vector<int64_t>{1});
  finish(s);
}

// Every plugin goes through the whole lifecycle without a trap: each module in the directory
// (v8), each native plugin linked into this binary (null).
TEST_P(Plugins, EveryBuiltPluginRunsALifecycle) {
  std::vector<std::string> names;
  const fs::path dir(WG_PLUGINS_DIR);
  if (onNullEngine()) {
    names = nullPluginNames();
  } else {
    if (fs::is_directory(dir))
      for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".wasm")
          names.push_back(e.path().stem().string());
    if (names.empty())
      GTEST_SKIP() << "no plugin built: " << (dir / "*.wasm").string()
                   << " (run scripts/build-plugins.sh)";
  }
  size_t ran = 0;
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    contexts.clear();
    instance.reset();
    root_ = nullptr;
    ASSERT_TRUE(loadPlugin(name, "", "{}"));
    root_services_ = true; // metrics and shared data available, as in the proxy
    startRoot(); // "{}" may be rejected; what matters is that nothing traps
    FakeContext& s = newRequest();
    s.services = true;
    s.setMap(MapType::HttpResponseHeaders, {{":status", "200"}});
    ASSERT_TRUE(inst().onRequestHeaders(s.contextId(), 4, true).ok()) << inst().failureReason();
    ASSERT_TRUE(inst().onResponseHeaders(s.contextId(), 1, true).ok()) << inst().failureReason();
    finish(s);
    auto done = inst().onDone(root_->contextId());
    ASSERT_TRUE(done.ok()) << done.error();
    EXPECT_TRUE(inst().onDelete(root_->contextId()).ok());
    ++ran;
  }
  EXPECT_EQ(ran, names.size());
  std::cout << "[          ] " << ran << " " << GetParam() << " plugin(s)\n";
}

INSTANTIATE_TEST_SUITE_P(Engines, Plugins, ::testing::Values("v8", "null"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

} // namespace
} // namespace wasmgate::wasm::abi::testing
