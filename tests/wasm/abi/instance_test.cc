// WasmInstance: loading (import/export/version errors), startup, the lifecycle and HTTP/TCP
// callbacks, the context registry, current/effective context, the allocator, local-reply
// forcing, and traps.

#include <gtest/gtest.h>

#include "abi_fixture.h"

namespace wasmgate::wasm::abi::testing {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

using Instance = AbiFixture;

// ---------------------------------------------------------------------------------------------
// Loading

TEST_F(Instance, LoadsEachVersion) {
  load("probe_v021");
  EXPECT_EQ(inst().abiVersion(), AbiVersion::V0_2_1);
  load("probe_v020");
  EXPECT_EQ(inst().abiVersion(), AbiVersion::V0_2_0);
  load("probe_v010");
  EXPECT_EQ(inst().abiVersion(), AbiVersion::V0_1_0);
}

TEST_F(Instance, MissingVersion) {
  auto r = tryLoad("no_version");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "missing or unknown Proxy-Wasm ABI version (expected an export "
                                  "proxy_abi_version_0_1_0, _0_2_0 or _0_2_1)"))
      << r.error();
}

TEST_F(Instance, UnknownImportNamesIt) {
  auto r = tryLoad("unknown_import");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "missing import env.proxy_does_not_exist")) << r.error();
}

TEST_F(Instance, ImportWithWrongSignature) {
  auto r = tryLoad("bad_import_signature");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "import type mismatch for env.proxy_log")) << r.error();
}

TEST_F(Instance, VersionGatedImports) {
  for (auto [stem, name] :
       {std::pair{"v020_imports_log_level", "env.proxy_get_log_level"},
        std::pair{"v021_imports_get_configuration", "env.proxy_get_configuration"},
        std::pair{"v010_imports_continue_stream", "env.proxy_continue_stream"}}) {
    auto r = tryLoad(stem);
    ASSERT_FALSE(r.ok()) << stem;
    EXPECT_TRUE(contains(r.error(), std::string("missing import ") + name)) << r.error();
  }
}

TEST_F(Instance, ExportWithWrongSignatureNamesIt) {
  auto r = tryLoad("bad_export_signature");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "bad signature for export proxy_on_request_headers")) << r.error();
  EXPECT_TRUE(contains(r.error(), "expected (i32,i32,i32)->i32, got (i32,i32)->i32")) << r.error();
  // The same export is right for 0.1.0.
  InstanceConfig c = config();
  c.abi_version = AbiVersion::V0_1_0;
  EXPECT_TRUE(tryLoad("bad_export_signature", std::move(c)).ok());
}

TEST_F(Instance, MissingAllocator) {
  auto r = tryLoad("no_malloc");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "missing malloc function")) << r.error();
}

TEST_F(Instance, HostcallFromWasmStartFunction) {
  auto r = tryLoad("start_section");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "before the Proxy-Wasm instance was set up")) << r.error();
}

// ---------------------------------------------------------------------------------------------
// Startup

TEST_F(Instance, InitializeThenMain) {
  InstanceConfig c = config();
  c.environment = {{"A", "1"}, {"B", "two"}};
  load("startup_initialize", std::move(c));
  ASSERT_EQ(vm_logs.size(), 4u);
  EXPECT_EQ(vm_logs[0].message, "init");
  EXPECT_EQ(vm_logs[1].message, "hello stdout"); // fd 1, newline stripped
  EXPECT_EQ(vm_logs[1].level, 2u);
  EXPECT_EQ(vm_logs[2].message, "hello stdout"); // wasi_unstable, fd 2
  EXPECT_EQ(vm_logs[2].level, 4u);
  EXPECT_EQ(vm_logs[3].message, "main");
  EXPECT_EQ(call(0, "main_args"), 0u); // main(0, 0)
  EXPECT_EQ(call(0, "env_count"), 2u);
  EXPECT_EQ(get(256, 10), std::string("A=1\0B=two\0", 10));
  EXPECT_EQ(u32(128), 256u);
  EXPECT_EQ(u32(132), 260u);
}

TEST_F(Instance, InitializeThenMainVoid) {
  load("startup_main_void");
  ASSERT_EQ(vm_logs.size(), 2u);
  EXPECT_EQ(vm_logs[0].message, "init");
  EXPECT_EQ(vm_logs[1].message, "main_void");
}

TEST_F(Instance, StartWithoutInitialize) {
  load("startup_start");
  ASSERT_EQ(vm_logs.size(), 1u);
  EXPECT_EQ(vm_logs[0].message, "start");
}

TEST_F(Instance, RestrictedHostcallDuringStartupTraps) {
  auto r = tryLoad("startup_restricted");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "restricted callback: env.proxy_get_property is not allowed "
                                  "during VM startup"))
      << r.error();
  EXPECT_TRUE(contains(r.error(), "_initialize")) << r.error();
}

TEST_F(Instance, ProcExitDuringStartTraps) {
  auto r = tryLoad("startup_proc_exit");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "proc_exit(0)")) << r.error();
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

TEST_F(Instance, RootLifecycleSeesPluginProperties) {
  load("probe_v021");
  FakeContext& r = newRoot();
  EXPECT_EQ(r.contextId(), 1u); // cpp-host numbering: first root is 1
  ASSERT_TRUE(inst().onContextCreate(1, 0).ok());
  EXPECT_EQ(record(0), (std::array<uint32_t, 4>{1, 0, 0, 1}));
  EXPECT_EQ(u32(0x9f4), kOk); // proxy_get_property("plugin_root_id") inside context_create
  EXPECT_EQ(r.messages(), std::vector<std::string>{"probe_root"});

  auto started = inst().onVmStart(1, 15);
  ASSERT_TRUE(started.ok()) << started.error();
  EXPECT_TRUE(*started);
  EXPECT_EQ(record(1), (std::array<uint32_t, 4>{1, 15, 0, 1}));

  auto configured = inst().onConfigure(1, 15);
  ASSERT_TRUE(configured.ok());
  EXPECT_TRUE(*configured);
  EXPECT_EQ(u32(0x9f8), kOk); // buffer 7 readable inside on_configure
  EXPECT_EQ(r.messages().back(), "{\"plugin\":true}");

  ASSERT_TRUE(callVoid(0, "set_bool_ret", 0).ok());
  EXPECT_FALSE(*inst().onVmStart(1, 0));
  EXPECT_FALSE(*inst().onConfigure(1, 0));
  EXPECT_FALSE(*inst().validateConfiguration(1, 3));
  EXPECT_EQ(record(3), (std::array<uint32_t, 4>{1, 3, 0, 1}));
  EXPECT_FALSE(*inst().onDone(1));

  ASSERT_TRUE(inst().onTick(1).ok());
  EXPECT_EQ(record(4)[3], 1u);
  ASSERT_TRUE(inst().onQueueReady(1, 77).ok());
  EXPECT_EQ(record(5), (std::array<uint32_t, 4>{1, 77, 0, 1}));
  ASSERT_TRUE(inst().onForeignFunction(1, 3, 9).ok());
  EXPECT_EQ(record(6), (std::array<uint32_t, 4>{1, 3, 9, 1}));

  ASSERT_TRUE(inst().onDelete(1).ok());
  EXPECT_EQ(record(29), (std::array<uint32_t, 4>{1, 0, 0, 1}));
  EXPECT_EQ(inst().findContext(1), nullptr); // unregistered
  EXPECT_FALSE(inst().onTick(1).ok());       // nothing reaches a deleted context
}

TEST_F(Instance, HttpStreamCallbacks) {
  load("probe_v021");
  FakeContext& s = stream();
  const uint32_t id = s.contextId();
  EXPECT_EQ(id, 2u);
  EXPECT_EQ(record(0), (std::array<uint32_t, 4>{2, 1, 0, 2}));

  ASSERT_TRUE(callVoid(0, "set_ret", 1).ok()); // "Pause"
  auto h = inst().onRequestHeaders(id, 5, true);
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(record(7), (std::array<uint32_t, 4>{2, 5, 1, 1}));
  EXPECT_EQ(h->guest_status, 1u);
  EXPECT_EQ(h->status, 4u); // StopIteration -> StopAllIterationAndWatermark by default
  EXPECT_FALSE(h->local_response_sent);

  auto b = inst().onRequestBody(id, 100, false);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(record(8), (std::array<uint32_t, 4>{2, 100, 0, 1}));
  EXPECT_EQ(b->status, 1u); // StopIterationAndBuffer
  auto t = inst().onRequestTrailers(id, 2);
  EXPECT_EQ(record(9), (std::array<uint32_t, 4>{2, 2, 0, 1}));
  EXPECT_EQ(t->status, 1u);
  auto m = inst().onRequestMetadata(id, 3);
  EXPECT_EQ(m->status, 0u); // metadata always continues
  EXPECT_EQ(m->guest_status, 1u);

  ASSERT_TRUE(callVoid(0, "set_ret", 0).ok());
  EXPECT_EQ(inst().onResponseHeaders(id, 7, false)->status, 0u);
  EXPECT_EQ(record(11), (std::array<uint32_t, 4>{2, 7, 0, 1}));
  EXPECT_EQ(inst().onResponseBody(id, 9, true)->status, 0u);
  EXPECT_EQ(record(12), (std::array<uint32_t, 4>{2, 9, 1, 1}));
  EXPECT_EQ(inst().onResponseTrailers(id, 1)->status, 0u);
  EXPECT_EQ(inst().onResponseMetadata(id, 1)->status, 0u);
  EXPECT_EQ(record(14)[3], 1u);

  ASSERT_TRUE(inst().onLog(id).ok());
  EXPECT_EQ(record(27)[0], id);
  EXPECT_TRUE(*inst().onDone(id));
  ASSERT_TRUE(inst().onDelete(id).ok());
  EXPECT_EQ(record(29)[0], id);
}

TEST_F(Instance, StatusMapping) {
  EXPECT_EQ(toFilterHeadersStatus(0, false), 0u);
  EXPECT_EQ(toFilterHeadersStatus(1, false), 4u);
  EXPECT_EQ(toFilterHeadersStatus(1, true), 1u);
  EXPECT_EQ(toFilterHeadersStatus(2, false), 0u); // ContinueAndEndStream
  EXPECT_EQ(toFilterHeadersStatus(3, false), 3u);
  EXPECT_EQ(toFilterHeadersStatus(4, false), 4u);
  EXPECT_EQ(toFilterHeadersStatus(99, true), 4u);
  EXPECT_EQ(toFilterDataStatus(2), 2u);
  EXPECT_EQ(toFilterDataStatus(7), 3u);
  EXPECT_EQ(toFilterTrailersStatus(0), 0u);
  EXPECT_EQ(toFilterTrailersStatus(5), 1u);

  InstanceConfig c = config();
  c.plugin.allow_on_headers_stop_iteration = true;
  load("probe_v021", std::move(c));
  ASSERT_TRUE(callVoid(0, "set_ret", 1).ok());
  EXPECT_EQ(inst().onRequestHeaders(stream().contextId(), 1, false)->status, 1u);
  ASSERT_TRUE(callVoid(0, "set_ret", 4).ok());
  EXPECT_EQ(inst().onRequestHeaders(stream().contextId(), 1, false)->status, 4u);
}

TEST_F(Instance, StatusOutsideTheEnumFailsTheVm) {
  EXPECT_FALSE(invalidFilterStatus(Callback::RequestHeaders, 4));
  EXPECT_FALSE(invalidFilterStatus(Callback::RequestBody, 3));
  EXPECT_FALSE(invalidFilterStatus(Callback::ResponseTrailers, 1));
  EXPECT_FALSE(invalidFilterStatus(Callback::RequestMetadata, 77)); // ignored by Envoy too
  EXPECT_TRUE(invalidFilterStatus(Callback::ResponseBody, 4));
  EXPECT_TRUE(invalidFilterStatus(Callback::RequestTrailers, 2));

  load("probe_v021");
  ASSERT_TRUE(callVoid(0, "set_ret", 0xdeadbeef).ok());
  auto r = inst().onRequestHeaders(stream().contextId(), 1, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("proxy_on_request_headers returned 3735928559, which is not a "
                           "FilterHeadersStatus (0-4)"),
            std::string::npos)
      << r.error();
  EXPECT_TRUE(inst().failed());
  EXPECT_FALSE(inst().onResponseHeaders(stream().contextId(), 1, false).ok());
}

TEST_F(Instance, TcpCallbacks) {
  load("probe_v021");
  const uint32_t id = stream().contextId();
  EXPECT_EQ(*inst().onNewConnection(id), 0u);
  ASSERT_TRUE(callVoid(0, "set_ret", 7).ok());
  EXPECT_EQ(*inst().onDownstreamData(id, 10, true), 1u); // non-zero = StopIteration
  EXPECT_EQ(record(16), (std::array<uint32_t, 4>{id, 10, 1, 1}));
  EXPECT_EQ(*inst().onUpstreamData(id, 11, false), 1u);
  EXPECT_EQ(record(17), (std::array<uint32_t, 4>{id, 11, 0, 1}));
  ASSERT_TRUE(inst().onDownstreamConnectionClose(id, 2).ok());
  EXPECT_EQ(record(18), (std::array<uint32_t, 4>{id, 2, 0, 1}));
  ASSERT_TRUE(inst().onUpstreamConnectionClose(id, 0).ok());
  EXPECT_EQ(record(19)[3], 1u);
}

TEST_F(Instance, CalloutCallbacks) {
  load("probe_v021");
  const uint32_t r = root().contextId();
  ASSERT_TRUE(inst().onHttpCallResponse(r, 4, 3, 100, 0).ok());
  EXPECT_EQ(record(20), (std::array<uint32_t, 4>{4, 3, 100, 1}));
  ASSERT_TRUE(inst().onGrpcReceiveInitialMetadata(r, 6, 2).ok());
  EXPECT_EQ(record(21), (std::array<uint32_t, 4>{r, 6, 2, 1}));
  ASSERT_TRUE(inst().onGrpcReceive(r, 5, 12).ok());
  EXPECT_EQ(record(22), (std::array<uint32_t, 4>{r, 5, 12, 1}));
  ASSERT_TRUE(inst().onGrpcReceiveTrailingMetadata(r, 6, 1).ok());
  EXPECT_EQ(record(23), (std::array<uint32_t, 4>{r, 6, 1, 1}));
  ASSERT_TRUE(inst().onGrpcClose(r, 6, 14).ok());
  EXPECT_EQ(record(24), (std::array<uint32_t, 4>{r, 6, 14, 1}));
  ASSERT_TRUE(inst().onResolveDns(r, 8, 20).ok());
  EXPECT_EQ(record(25), (std::array<uint32_t, 4>{r, 8, 20, 1}));
  ASSERT_TRUE(inst().onStatsUpdate(r, 30).ok());
  EXPECT_EQ(record(26), (std::array<uint32_t, 4>{r, 30, 0, 1}));
}

TEST_F(Instance, MissingExportsAreNoOps) {
  load("probe_v020"); // exports only proxy_on_request_headers
  FakeContext& r = newRoot();
  ASSERT_TRUE(inst().onContextCreate(r.contextId(), 0).ok());
  EXPECT_TRUE(*inst().onVmStart(r.contextId(), 0));
  EXPECT_TRUE(*inst().onConfigure(r.contextId(), 0));
  EXPECT_TRUE(inst().onTick(r.contextId()).ok());
  EXPECT_EQ(inst().onRequestBody(r.contextId(), 1, true)->status, 0u);
  EXPECT_EQ(*inst().onNewConnection(r.contextId()), 0u);
  EXPECT_TRUE(*inst().onDone(r.contextId()));
  EXPECT_TRUE(inst().onDelete(r.contextId()).ok());
  EXPECT_TRUE(inst().hasExport("proxy_on_request_headers"));
  EXPECT_FALSE(inst().hasExport("proxy_on_tick"));
}

TEST_F(Instance, V010HeaderCallbacksHaveNoEndOfStream) {
  load("probe_v010");
  FakeContext& r = newRoot();
  const uint32_t id = r.contextId();
  auto h = inst().onRequestHeaders(id, 3, true);
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(u32(0x8000), 103u);
  ASSERT_TRUE(inst().onResponseHeaders(id, 4, true).ok());
  EXPECT_EQ(u32(0x8004), 204u);
}

TEST_F(Instance, V020HeaderCallbacksHaveEndOfStream) {
  load("probe_v020");
  FakeContext& r = newRoot();
  ASSERT_TRUE(inst().onRequestHeaders(r.contextId(), 3, true).ok());
  EXPECT_EQ(u32(0x8000), 31u);
}

// ---------------------------------------------------------------------------------------------
// Contexts

TEST_F(Instance, ContextRegistry) {
  load("probe_v021");
  FakeContext zero(0);
  EXPECT_FALSE(inst().registerContext(zero).ok());
  FakeContext& r = newRoot();
  FakeContext dup(r.contextId());
  EXPECT_FALSE(inst().registerContext(dup).ok());
  EXPECT_EQ(inst().findContext(r.contextId()), &r);

  // Unknown ids, a second create, an unknown parent.
  auto unknown = inst().onRequestHeaders(99, 1, true);
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(contains(unknown.error(), "unknown context id 99"));
  ASSERT_TRUE(inst().onContextCreate(r.contextId(), 0).ok());
  EXPECT_FALSE(inst().onContextCreate(r.contextId(), 0).ok()); // Rust SDK panics on duplicates
  FakeContext& s = newStream(r);
  EXPECT_FALSE(inst().onContextCreate(s.contextId(), 77).ok());

  // A context that was never created is deleted without proxy_on_delete.
  ASSERT_TRUE(inst().onDelete(s.contextId()).ok());
  EXPECT_EQ(record(29)[3], 0u);
  // Ids are not reused while registered and keep counting.
  EXPECT_EQ(inst().allocateContextId(), 3u);
  inst().unregisterContext(r.contextId());
  EXPECT_EQ(inst().findContext(r.contextId()), nullptr);
}

TEST_F(Instance, PerRootPluginInfo) {
  load("probe_v021");
  contexts.push_back(std::make_unique<FakeContext>(inst().allocateContextId()));
  FakeContext& other = *contexts.back();
  auto info = std::make_shared<PluginInfo>();
  info->root_id = "second_root";
  info->plugin_configuration = "second-config";
  ASSERT_TRUE(inst().registerContext(other, info).ok());
  ASSERT_TRUE(inst().onContextCreate(other.contextId(), 0).ok());
  EXPECT_EQ(other.messages(), std::vector<std::string>{"second_root"});
  ASSERT_TRUE(inst().onConfigure(other.contextId(), 13).ok());
  EXPECT_EQ(other.messages().back(), "second-config");
  // A stream of that root sees the same plugin.
  FakeContext& s = newStream(other);
  put(kScratch, "plugin_root_id");
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, 14, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "second_root");
}

TEST_F(Instance, EffectiveContext) {
  load("probe_v021");
  FakeContext& s = stream();
  FakeContext& r = root();
  put(kScratch, "to-root");
  // Set on the stream call, the log goes to the root.
  EXPECT_EQ(call(s.contextId(), "effective_log", r.contextId(), kScratch, 7), kOk);
  EXPECT_EQ(r.messages().back(), "to-root");
  EXPECT_TRUE(s.logs.empty());
  // Reset on the next host->guest call.
  put(kScratch, "own");
  EXPECT_EQ(call(s.contextId(), "t_proxy_log", 2, kScratch, 3), kOk);
  EXPECT_EQ(s.messages(), std::vector<std::string>{"own"});
  // Unknown ids (and the VM context) are BadArgument; the current context stays.
  EXPECT_EQ(call(s.contextId(), "effective_log", 999, kScratch, 3), 100u + kBadArgument);
  EXPECT_EQ(call(s.contextId(), "effective_log", 0, kScratch, 3), 100u + kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_effective_context", 999), kBadArgument);
}

TEST_F(Instance, EffectiveContextSurvivesNestedCalls) {
  load("probe_v021");
  FakeContext& s = stream();
  FakeContext& r = root();
  ASSERT_TRUE(callVoid(0, "set_malloc_mode", 5).ok()); // the allocator logs "alloc"
  vm_logs.clear();
  put(kScratch, "after");
  EXPECT_EQ(call(s.contextId(), "effective_nested", r.contextId(), kScratch, 5), kOk);
  // The allocator ran on the VM context with the effective context reset...
  ASSERT_EQ(vm_logs.size(), 1u);
  EXPECT_EQ(vm_logs[0].message, "alloc");
  // ...and the outer call's effective context was restored afterwards.
  EXPECT_EQ(r.messages().back(), "after");
  EXPECT_TRUE(s.logs.empty());
}

// A context whose proxy_done makes the embedder drop it (as a deferred deletion would).
class SelfRemovingContext : public FakeContext {
public:
  SelfRemovingContext(uint32_t id, FakeContext* root, WasmInstance& instance)
      : FakeContext(id, root), instance_(instance) {}
  WasmResult done() override {
    instance_.unregisterContext(contextId());
    return WasmResult::Ok;
  }

private:
  WasmInstance& instance_;
};

TEST_F(Instance, EffectiveContextFallsBackWhenItGoesAway) {
  load("probe_v021");
  FakeContext& s = stream();
  SelfRemovingContext other(inst().allocateContextId(), &root(), inst());
  ASSERT_TRUE(inst().registerContext(other).ok());
  put(kScratch, "fallback");
  // set_effective(other); proxy_done() removes it; proxy_log lands on the current context.
  EXPECT_EQ(call(s.contextId(), "effective_done_log", other.contextId(), kScratch, 8), kOk);
  EXPECT_EQ(s.messages(), std::vector<std::string>{"fallback"});
  EXPECT_TRUE(other.logs.empty());
}

// ---------------------------------------------------------------------------------------------
// Local replies force "stop"

TEST_F(Instance, LocalReplyForcesStop) {
  load("probe_v021");
  FakeContext& s = stream();
  setAction(1);
  auto h = inst().onRequestHeaders(s.contextId(), 1, false);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->local_response_sent);
  EXPECT_EQ(h->guest_status, 0u); // the plugin said Continue...
  EXPECT_EQ(h->status, 4u);       // ...but the stream stops
  EXPECT_EQ(u32(kActionResult), kOk);
  ASSERT_EQ(s.local_replies.size(), 1u);
  EXPECT_EQ(s.local_replies[0].status, 403u);
  EXPECT_EQ(s.local_replies[0].details, "access_denied"); // whitespace -> '_'
  EXPECT_EQ(s.local_replies[0].body, "denied");
  EXPECT_EQ(s.local_replies[0].headers,
            (std::vector<std::pair<std::string, std::string>>{{"x-reply", "yes"}}));
  EXPECT_EQ(s.local_replies[0].grpc_status, -1);

  auto b = inst().onResponseBody(s.contextId(), 1, false);
  EXPECT_EQ(b->status, 3u); // StopIterationNoBuffer
  EXPECT_TRUE(b->local_response_sent);
  EXPECT_EQ(inst().onRequestTrailers(s.contextId(), 1)->status, 1u);
  EXPECT_EQ(inst().onResponseHeaders(s.contextId(), 1, true)->status, 4u);

  // The flag belongs to one callback.
  setAction(0);
  auto next = inst().onRequestHeaders(s.contextId(), 1, false);
  EXPECT_FALSE(next->local_response_sent);
  EXPECT_EQ(next->status, 0u);
}

// ---------------------------------------------------------------------------------------------
// Traps and failure

TEST_F(Instance, TrapInCallbackFailsTheInstanceWithABacktrace) {
  load("probe_v021");
  FakeContext& s = stream();
  setAction(2);
  auto h = inst().onRequestHeaders(s.contextId(), 1, false);
  ASSERT_FALSE(h.ok());
  EXPECT_TRUE(contains(h.error(), "unreachable")) << h.error();
  EXPECT_TRUE(contains(h.error(), "proxy_on_request_headers")) << h.error();
  EXPECT_TRUE(contains(h.error(), "backtrace:")) << h.error();
  EXPECT_TRUE(contains(h.error(), "trap_inner")) << h.error();
  EXPECT_TRUE(contains(h.error(), "trap_outer")) << h.error();
  EXPECT_TRUE(inst().failed());
  // Refuses everything afterwards.
  auto again = inst().onRequestBody(s.contextId(), 1, true);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(contains(again.error(), "wasm VM has failed")) << again.error();
  EXPECT_FALSE(inst().onLog(s.contextId()).ok());
  EXPECT_FALSE(callVoid(0, "set_action", 0).ok());
  EXPECT_FALSE(inst().allocate(4).ok());
  // Deleting still forgets the context.
  EXPECT_FALSE(inst().onDelete(s.contextId()).ok());
  EXPECT_EQ(inst().findContext(s.contextId()), nullptr);
}

// ---------------------------------------------------------------------------------------------
// The allocator

TEST_F(Instance, AllocatorReturningZeroOrBogusPointers) {
  load("probe_v021");
  FakeContext& s = stream();
  s.properties["p"] = "value";
  put(kScratch, "p");
  for (uint32_t mode : {1u, 2u, 6u}) {
    ASSERT_TRUE(callVoid(0, "set_malloc_mode", mode).ok());
    EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, 1, kOutPtr, kOutSize),
              kInvalidMemoryAccess)
        << "mode " << mode;
    EXPECT_FALSE(inst().failed());
  }
  ASSERT_TRUE(callVoid(0, "set_malloc_mode", 0).ok());
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, 1, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "value");
}

TEST_F(Instance, AllocatorTrapFailsTheCall) {
  load("probe_v021");
  FakeContext& s = stream();
  s.properties["p"] = "value";
  put(kScratch, "p");
  ASSERT_TRUE(callVoid(0, "set_malloc_mode", 3).ok());
  auto r = inst().callExport<uint32_t>(s.contextId(), "t_proxy_get_property", kScratch, 1u,
                                       kOutPtr, kOutSize);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "unreachable")) << r.error();
  EXPECT_TRUE(contains(r.error(), "malloc_trap")) << r.error();
  EXPECT_TRUE(inst().failed());
}

TEST_F(Instance, AllocatorMayOnlyMakeAllowedHostcalls) {
  load("probe_v021");
  FakeContext& s = stream();
  s.properties["p"] = "value";
  put(kScratch, "p");
  ASSERT_TRUE(callVoid(0, "set_malloc_mode", 4).ok()); // proxy_get_property inside malloc
  auto r = inst().callExport<uint32_t>(s.contextId(), "t_proxy_get_property", kScratch, 1u,
                                       kOutPtr, kOutSize);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "restricted callback: env.proxy_get_property is not allowed "
                                  "while the guest allocator runs"))
      << r.error();
  EXPECT_TRUE(inst().failed());
}

TEST_F(Instance, ReturnPairAllocatesExactlyAndNotForEmpty) {
  load("probe_v021");
  FakeContext& s = stream();
  s.properties["p"] = "12345";
  s.properties["empty"] = "";
  put(kScratch, "p");
  put(kScratch2, "empty");
  const uint32_t heap = call(0, "heap_top");
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, 1, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(u32(kOutPtr), heap);
  EXPECT_EQ(u32(kOutSize), 5u);
  EXPECT_EQ(call(0, "heap_top"), heap + 5); // exactly the size
  const uint32_t calls = call(0, "malloc_calls");
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch2, 5, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(u32(kOutPtr), 0u);
  EXPECT_EQ(u32(kOutSize), 0u);
  EXPECT_EQ(call(0, "malloc_calls"), calls); // no allocation for an empty result
}

TEST_F(Instance, ProxyOnMemoryAllocateWhenNoMalloc) {
  load("probe_v020");
  FakeContext& r = newRoot();
  put(0x1000, "plugin_vm_id");
  EXPECT_EQ(call(r.contextId(), "t_proxy_get_property", 0x1000, 12, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "probe_vm");
  EXPECT_EQ(call(0, "allocations"), 1u);
}

TEST_F(Instance, TerminateFromWatchdogIsAnError) {
  load("probe_v021");
  FakeContext& s = stream();
  inst().vm().terminate();
  auto r = inst().onRequestHeaders(s.contextId(), 1, true);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(inst().failed());
}

} // namespace
} // namespace wasmgate::wasm::abi::testing
