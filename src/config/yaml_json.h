#pragma once

// YAML -> JSON, for /config_dump and for Any payloads handed to plugins as JSON
// (google.protobuf.Struct configurations). Scalars become numbers/bools when they read as such,
// unless they were quoted in the source.

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace wasmgate::config {

nlohmann::json yamlToJson(const YAML::Node& node);

} // namespace wasmgate::config
