#include "config/yaml_json.h"

#include <cstdlib>
#include <string>

namespace wasmgate::config {

nlohmann::json yamlToJson(const YAML::Node& n) {
  switch (n.Type()) {
  case YAML::NodeType::Map: {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& kv : n)
      o[kv.first.as<std::string>()] = yamlToJson(kv.second);
    return o;
  }
  case YAML::NodeType::Sequence: {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& v : n)
      a.push_back(yamlToJson(v));
    return a;
  }
  case YAML::NodeType::Scalar: {
    const std::string& s = n.Scalar();
    if (n.Tag() == "!")
      return s; // quoted in the source: keep as a string
    if (s == "true" || s == "false")
      return s == "true";
    char* end = nullptr;
    long long i = strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0')
      return i;
    double d = strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0' && s.find_first_of("0123456789") != std::string::npos)
      return d;
    return s;
  }
  default:
    return nullptr;
  }
}

} // namespace wasmgate::config
