#include "config/reload.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "config/yaml_json.h"

namespace wasmgate::config {

namespace {

// A JSON pointer ("/static_resources/clusters/0/name") as a config path
// ("static_resources.clusters[0].name"), the form every config error uses.
std::string configPathOf(const std::string& pointer) {
  std::string out;
  size_t i = 1;
  while (i <= pointer.size()) {
    size_t j = pointer.find('/', i);
    if (j == std::string::npos)
      j = pointer.size();
    std::string seg = pointer.substr(i, j - i);
    for (size_t k; (k = seg.find("~1")) != std::string::npos;)
      seg.replace(k, 2, "/");
    for (size_t k; (k = seg.find("~0")) != std::string::npos;)
      seg.replace(k, 2, "~");
    if (!seg.empty() && seg.find_first_not_of("0123456789") == std::string::npos)
      out += "[" + seg + "]";
    else
      out += (out.empty() ? "" : ".") + seg;
    i = j + 1;
  }
  return out.empty() ? "<document>" : out;
}

void dropFilterChains(nlohmann::json& doc) {
  if (!doc.is_object())
    return;
  auto sr = doc.find("static_resources");
  if (sr == doc.end() || !sr->is_object())
    return;
  auto listeners = sr->find("listeners");
  if (listeners == sr->end() || !listeners->is_array())
    return;
  for (auto& l : *listeners)
    if (l.is_object())
      l.erase("filter_chains");
}

} // namespace

Status checkReloadable(std::string_view before, std::string_view after) {
  nlohmann::json a, b;
  try {
    a = yamlToJson(YAML::Load(std::string(before)));
    b = yamlToJson(YAML::Load(std::string(after)));
  } catch (const std::exception& e) {
    return Status::error(std::string("cannot compare the configurations: ") + e.what());
  }
  dropFilterChains(a);
  dropFilterChains(b);
  const nlohmann::json patch = nlohmann::json::diff(a, b);
  if (patch.empty())
    return okStatus();
  return Status::error(configPathOf(patch[0].value("path", std::string())) +
                       ": changed, and only listeners' filter_chains can change without a restart");
}

} // namespace wasmgate::config
