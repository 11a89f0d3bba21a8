// ABI version detection from the export section (ABI doc 0.1), on hand-made ModuleInfos and
// on real modules.

#include <gtest/gtest.h>

#include "abi_fixture.h"
#include "wasm/abi/abi_version.h"
#include "wasm/abi/host_functions.h"

namespace wasmgate::wasm::abi {
namespace {

ModuleInfo withExports(std::vector<std::pair<std::string, ExternKind>> exports) {
  ModuleInfo m;
  for (auto& [name, kind] : exports) {
    Export e;
    e.name = name;
    e.kind = kind;
    m.exports.push_back(e);
  }
  return m;
}

constexpr auto F = ExternKind::Function;

TEST(AbiVersion, DetectsEachVersion) {
  for (auto [name, version] : {std::pair{"proxy_abi_version_0_1_0", AbiVersion::V0_1_0},
                               std::pair{"proxy_abi_version_0_2_0", AbiVersion::V0_2_0},
                               std::pair{"proxy_abi_version_0_2_1", AbiVersion::V0_2_1}}) {
    auto v = detectAbiVersion(withExports({{"malloc", F}, {name, F}, {"memory", ExternKind::Memory}}));
    ASSERT_TRUE(v.ok()) << v.error();
    EXPECT_EQ(*v, version) << name;
  }
  EXPECT_STREQ(abiVersionName(AbiVersion::V0_1_0), "0.1.0");
  EXPECT_STREQ(abiVersionName(AbiVersion::V0_2_0), "0.2.0");
  EXPECT_STREQ(abiVersionName(AbiVersion::V0_2_1), "0.2.1");
}

TEST(AbiVersion, FirstInExportOrderWins) {
  auto v = detectAbiVersion(withExports({{"proxy_abi_version_0_2_0", F}, {"proxy_abi_version_0_2_1", F}}));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, AbiVersion::V0_2_0);
  // Unrecognised markers and non-function exports are skipped.
  v = detectAbiVersion(withExports({{"proxy_abi_version_0_x_x", F},
                                    {"proxy_abi_version_0_2_1", ExternKind::Global},
                                    {"proxy_abi_version_0_1_0", F}}));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, AbiVersion::V0_1_0);
}

TEST(AbiVersion, MissingVersionIsAnError) {
  const std::string expected = "missing or unknown Proxy-Wasm ABI version (expected an export "
                               "proxy_abi_version_0_1_0, _0_2_0 or _0_2_1)";
  auto v = detectAbiVersion(withExports({{"malloc", F}}));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error(), expected);
  v = detectAbiVersion(withExports({{"proxy_abi_version_0_x_x", F}}));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error(), expected);
}

TEST(AbiVersion, RealModules) {
  for (auto [stem, version] : {std::pair{"probe_v010", AbiVersion::V0_1_0},
                               std::pair{"probe_v020", AbiVersion::V0_2_0},
                               std::pair{"probe_v021", AbiVersion::V0_2_1},
                               std::pair{"multi_version", AbiVersion::V0_1_0}}) {
    auto m = testing::compileStem(stem);
    ASSERT_TRUE(m.ok()) << m.error();
    auto v = detectAbiVersion((*m)->info());
    ASSERT_TRUE(v.ok()) << stem;
    EXPECT_EQ(*v, version) << stem;
  }
  auto m = testing::compileStem("no_version");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(detectAbiVersion((*m)->info()).ok());
}

// The version-gated part of the host-function table (ABI doc section 1's version column).
TEST(AbiVersion, ImportSetsPerVersion) {
  auto has = [](AbiVersion v, const std::string& name) {
    auto names = hostFunctionNames(v);
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  using enum AbiVersion;
  for (auto v : {V0_1_0, V0_2_0, V0_2_1}) {
    for (const char* common : {"env.proxy_log", "env.proxy_get_property", "env.proxy_http_call",
                               "env.proxy_grpc_call", "env.proxy_define_metric",
                               "env.proxy_call_foreign_function", "env.proxy_done",
                               "env.envoy_resolve_dns", "env.pthread_equal",
                               "env.emscripten_notify_memory_growth",
                               "wasi_snapshot_preview1.fd_write", "wasi_unstable.fd_write",
                               "wasi_snapshot_preview1.path_link", "wasi_unstable.proc_exit"})
      EXPECT_TRUE(has(v, common)) << common << " for " << abiVersionName(v);
    EXPECT_FALSE(has(v, "wasi_snapshot_preview1.proc_raise"));
  }
  EXPECT_TRUE(has(V0_1_0, "env.proxy_get_configuration"));
  EXPECT_TRUE(has(V0_1_0, "env.proxy_continue_request"));
  EXPECT_TRUE(has(V0_1_0, "env.proxy_continue_response"));
  EXPECT_TRUE(has(V0_1_0, "env.proxy_clear_route_cache"));
  EXPECT_FALSE(has(V0_1_0, "env.proxy_continue_stream"));
  EXPECT_FALSE(has(V0_1_0, "env.proxy_get_log_level"));
  for (auto v : {V0_2_0, V0_2_1}) {
    EXPECT_TRUE(has(v, "env.proxy_continue_stream"));
    EXPECT_TRUE(has(v, "env.proxy_close_stream"));
    EXPECT_FALSE(has(v, "env.proxy_get_configuration"));
    EXPECT_FALSE(has(v, "env.proxy_clear_route_cache"));
  }
  EXPECT_FALSE(has(V0_2_0, "env.proxy_get_log_level"));
  EXPECT_TRUE(has(V0_2_1, "env.proxy_get_log_level"));
  // WASI is identical under both module names.
  size_t preview1 = 0, unstable = 0;
  for (const auto& n : hostFunctionNames(V0_2_1)) {
    preview1 += n.starts_with("wasi_snapshot_preview1.");
    unstable += n.starts_with("wasi_unstable.");
  }
  EXPECT_EQ(preview1, unstable);
  EXPECT_EQ(preview1, 45u);
}

} // namespace
} // namespace wasmgate::wasm::abi
