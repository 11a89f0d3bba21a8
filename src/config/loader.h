#pragma once

// Loads an Envoy v3 bootstrap (YAML or JSON) into the plain structs of bootstrap.h. Errors are
// "<path>: <what>" with Envoy field names and list indexes, e.g.
//   static_resources.clusters[2].lb_policy: unsupported value MAGLEV
// Only the first error is reported. Nothing here throws.

#include <string>
#include <string_view>

#include "common/status.h"
#include "config/bootstrap.h"

namespace wasmgate::config {

// `source` (a file name) prefixes YAML syntax errors.
Result<Bootstrap> loadBootstrapFromString(std::string_view yaml_or_json, const std::string& source = "");
// File errors and YAML syntax errors name the file ("<file>:<line>:<col>: ...").
Result<Bootstrap> loadBootstrapFromFile(const std::string& path);

} // namespace wasmgate::config
