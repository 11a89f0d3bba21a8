#include "config/reload.h"

#include <gtest/gtest.h>

namespace wasmgate::config {
namespace {

constexpr const char* kBase = R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: 10000}}
    filter_chains: [{filters: [{name: a}]}]
  clusters:
  - name: up
    connect_timeout: 1s
)";

std::string with(std::string_view from, std::string_view to) {
  std::string s = kBase;
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    s.replace(at, from.size(), to);
  return s;
}

TEST(ConfigReload, IdenticalOrFilterChainOnlyChangesAreReloadable) {
  EXPECT_TRUE(checkReloadable(kBase, kBase).ok());
  EXPECT_TRUE(checkReloadable(kBase, with("{name: a}", "{name: b}, {name: c}")).ok());
  // Formatting is not a change: the same document as JSON.
  EXPECT_TRUE(checkReloadable(kBase, with("connect_timeout: 1s", "\"connect_timeout\": \"1s\"")).ok());
}

TEST(ConfigReload, AnythingElseNamesTheFirstChangedField) {
  Status s = checkReloadable(kBase, with("connect_timeout: 1s", "connect_timeout: 2s"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "static_resources.clusters[0].connect_timeout: changed, and only "
                         "listeners' filter_chains can change without a restart");
  s = checkReloadable(kBase, with("port_value: 10000", "port_value: 10001"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("static_resources.listeners[0].address.socket_address.port_value: changed", 0), 0u)
      << s.message();
  s = checkReloadable(kBase, with("- name: up", "- name: up2"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("static_resources.clusters[0].name"), std::string::npos);
  // A new top-level section is a change too.
  s = checkReloadable(kBase, std::string(kBase) + "stats_config: {stats_tags: []}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("stats_config: changed", 0), 0u) << s.message();
}

TEST(ConfigReload, KeysWithSlashesAreUnescaped) {
  Status s = checkReloadable("a: {\"x/y\": 1}", "a: {\"x/y\": 2}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("a.x/y: changed", 0), 0u) << s.message();
}

TEST(ConfigReload, UnparsableTextIsAnErrorNotAnException) {
  EXPECT_FALSE(checkReloadable(kBase, "a: [unclosed").ok());
}

} // namespace
} // namespace wasmgate::config
