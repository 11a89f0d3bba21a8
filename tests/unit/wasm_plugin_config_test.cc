#include <fstream>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "extensions/common/wasm/plugin_config.h"

namespace wasmgate::extensions::wasm {
namespace {

Result<PluginConfig> parse(const std::string& yaml) {
  return parseWasmFilterConfig(YAML::Load(yaml), "http_filters[0].typed_config");
}

TEST(WasmPluginConfig, EnvoyShapeWithStringValueConfiguration) {
  std::string file = ::testing::TempDir() + "/plugin.wasm";
  std::ofstream(file, std::ios::binary) << std::string("\0asm\1\0\0\0", 8);
  auto r = parse(R"(
config:
  name: add_header
  root_id: add_header_root
  vm_config:
    vm_id: vm1
    runtime: envoy.wasm.runtime.v8
    code: {local: {filename: )" + file + R"(}}
    configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: vmcfg}
    environment_variables: {key_values: {A: "1"}}
  configuration:
    "@type": type.googleapis.com/google.protobuf.StringValue
    value: '{"name": "x-hello", "value": "wasmgate"}'
  fail_open: true
  allow_on_headers_stop_iteration: true
)");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->name, "add_header");
  EXPECT_EQ(r->root_id, "add_header_root");
  EXPECT_EQ(r->vm.vm_id, "vm1");
  EXPECT_EQ(r->vm.runtime, kRuntimeV8);
  EXPECT_EQ(r->vm.code, std::string("\0asm\1\0\0\0", 8));
  EXPECT_EQ(r->vm.code_origin, "file '" + file + "'");
  EXPECT_EQ(r->vm.configuration, "vmcfg");
  ASSERT_EQ(r->vm.environment.size(), 1u);
  EXPECT_EQ(r->vm.environment[0], std::make_pair(std::string("A"), std::string("1")));
  EXPECT_EQ(r->configuration, R"({"name": "x-hello", "value": "wasmgate"})");
  EXPECT_EQ(r->failure_policy, FailurePolicy::FailOpen);
  EXPECT_TRUE(r->allow_on_headers_stop_iteration);
}

TEST(WasmPluginConfig, StructConfigurationBecomesJsonAndEmptyRuntimeIsV8) {
  auto r = parse(R"(
config:
  vm_config: {code: {local: {inline_string: "my_null_plugin"}}}
  configuration:
    "@type": type.googleapis.com/google.protobuf.Struct
    value: {header: x-a, count: 2, on: true}
  failure_policy: FAIL_RELOAD
)");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->vm.runtime, kRuntimeV8);
  EXPECT_EQ(r->vm.code, "my_null_plugin");
  EXPECT_EQ(r->configuration, R"({"count":2,"header":"x-a","on":true})");
  EXPECT_EQ(r->failure_policy, FailurePolicy::FailReload);
}

TEST(WasmPluginConfig, TypedStructWrappedStringValueAndInlineBytes) {
  auto r = parse(R"(
config:
  vm_config:
    runtime: envoy.wasm.runtime.null
    code: {local: {inline_bytes: "aGVsbG8="}}
  configuration:
    "@type": type.googleapis.com/udpa.type.v1.TypedStruct
    type_url: type.googleapis.com/google.protobuf.StringValue
    value: {value: raw-config}
)");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->vm.runtime, kRuntimeNull);
  EXPECT_EQ(r->vm.code, "hello");
  EXPECT_EQ(r->configuration, "raw-config");
}

TEST(WasmPluginConfig, ErrorsNameThePath) {
  EXPECT_EQ(parse("config: {vm_config: {runtime: envoy.wasm.runtime.wamr, code: {local: {inline_string: x}}}}").error(),
            "http_filters[0].typed_config.config.vm_config.runtime: unsupported runtime "
            "'envoy.wasm.runtime.wamr' (this build has envoy.wasm.runtime.v8 and envoy.wasm.runtime.null)");
  EXPECT_EQ(parse("config: {name: p}").error(), "http_filters[0].typed_config.config.vm_config: required field is missing");
  EXPECT_EQ(parse("{}").error(), "http_filters[0].typed_config.config: required field is missing");
  EXPECT_EQ(parse("config: {vm_config: {code: {local: {filename: /nonexistent/x.wasm}}}}").error(),
            "http_filters[0].typed_config.config.vm_config.code.local.filename: cannot read file "
            "'/nonexistent/x.wasm': No such file or directory");
  EXPECT_EQ(parse("config: {vm_config: {code: {local: {}}}}").error(),
            "http_filters[0].typed_config.config.vm_config.code.local: exactly one of filename, "
            "inline_bytes, inline_string is required");
  EXPECT_EQ(parse("config: {vm_config: {code: {remote: {}}}}").error(),
            "http_filters[0].typed_config.config.vm_config.code.remote: unsupported (remote code sources "
            "are not implemented yet; use local)");
  EXPECT_EQ(parse("config: {vm_config: {code: {local: {inline_string: x}}}, failure_policy: MAYBE}").error(),
            "http_filters[0].typed_config.config.failure_policy: invalid value 'MAYBE' (expected one of "
            "FAIL_UNSPECIFIED, FAIL_CLOSED, FAIL_OPEN, FAIL_RELOAD)");
  EXPECT_EQ(parse("config: {vm_config: {code: {local: {inline_bytes: '!!'}}}}").error(),
            "http_filters[0].typed_config.config.vm_config.code.local.inline_bytes: invalid base64 "
            "(unexpected character)");
  EXPECT_EQ(parse("config: {vm_config: {code: {local: {inline_string: x}}}, colour: red}").error(),
            "http_filters[0].typed_config.config.colour: unknown field");
}

} // namespace
} // namespace wasmgate::extensions::wasm
