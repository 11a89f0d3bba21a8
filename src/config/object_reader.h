#pragma once

// A typed, path-aware view of one YAML map in the config. Every getter marks its key as
// consumed; finish() then reports the first key nobody asked for as "unknown field", so typos
// in a config are errors instead of silently ignored settings.

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"

namespace wasmgate::config {

// "base.key" (or "key" at the root) and "base[i]".
std::string joinPath(const std::string& base, std::string_view key);
std::string indexPath(const std::string& base, size_t index);
// "<path>: <what>"; the root path renders as "(root)".
Status fieldError(const std::string& path, std::string_view what);
// For messages: "a map", "a list", "null" or the quoted scalar.
std::string describeNode(const YAML::Node& node);

// Scalar conversions shared by the reader and by list elements.
Result<std::string> nodeString(const YAML::Node& node, const std::string& path);
Result<bool> nodeBool(const YAML::Node& node, const std::string& path);
Result<uint64_t> nodeUint(const YAML::Node& node, const std::string& path, uint64_t min,
                          uint64_t max);
Result<int64_t> nodeInt(const YAML::Node& node, const std::string& path);

// One accepted enum spelling. An empty `value` with a reason marks a real Envoy value that
// wasmgate does not implement ("unsupported value X (reason)").
template <class T> struct EnumValue {
  std::string_view name;
  std::optional<T> value;
  std::string_view unsupported_reason = {};
};

class ObjectReader {
public:
  using ElementFn = std::function<Status(const YAML::Node& element, const std::string& path,
                                         size_t index)>;
  using ObjectFn = std::function<Status(ObjectReader& reader)>;

  // Fails unless `node` is a map (null counts as an empty map). Resolves YAML merge keys
  // ("<<") and drops entries tagged !ignore, like Envoy's YAML loader.
  static Result<ObjectReader> make(const YAML::Node& node, std::string path);

  const std::string& path() const { return path_; }
  std::string pathOf(std::string_view key) const { return joinPath(path_, key); }

  // All keys in document order (for free-form maps such as typed_per_filter_config).
  std::vector<std::string> keys() const;
  // Present with a non-null value. Does not consume.
  bool has(std::string_view key) const;
  // Consumes the key and returns its node (an invalid/undefined Node when absent).
  YAML::Node take(std::string_view key);
  // "<path>.<key>: required field is missing" (or, if a near-miss spelling is present, an
  // "unknown field (did you mean ...)" error for that key, which is the likelier mistake).
  Status missing(std::string_view key);
  Status require(std::string_view key) { return has(key) ? okStatus() : missing(key); }

  // Optional getters leave `out` unchanged when the key is absent or null.
  Status getString(std::string_view key, std::string& out);
  Status getString(std::string_view key, std::optional<std::string>& out);
  // Present and non-empty.
  Status requireString(std::string_view key, std::string& out);
  Status getBool(std::string_view key, bool& out);
  Status getBool(std::string_view key, std::optional<bool>& out);
  Status getUint32(std::string_view key, uint32_t& out, uint32_t min = 0,
                   uint32_t max = UINT32_MAX);
  Status getUint32(std::string_view key, std::optional<uint32_t>& out, uint32_t min = 0,
                   uint32_t max = UINT32_MAX);
  Status getUint64(std::string_view key, uint64_t& out, uint64_t min = 0,
                   uint64_t max = UINT64_MAX);
  Status getUint64(std::string_view key, std::optional<uint64_t>& out, uint64_t min = 0,
                   uint64_t max = UINT64_MAX);
  Status getInt64(std::string_view key, int64_t& out);
  Status getDuration(std::string_view key, std::chrono::milliseconds& out);
  Status getDuration(std::string_view key, std::optional<std::chrono::milliseconds>& out);
  Status getStringList(std::string_view key, std::vector<std::string>& out);

  template <class T>
  Status getEnum(std::string_view key, T& out, std::initializer_list<EnumValue<T>> values) {
    YAML::Node node = take(key);
    if (!node || node.IsNull())
      return okStatus();
    auto name = nodeString(node, pathOf(key));
    if (!name.ok())
      return name.status();
    for (const auto& v : values) {
      if (v.name != *name)
        continue;
      if (!v.value)
        return unsupportedValue(key, *name, v.unsupported_reason);
      out = *v.value;
      return okStatus();
    }
    std::string expected;
    for (const auto& v : values) {
      if (!v.value)
        continue;
      expected += expected.empty() ? "" : ", ";
      expected += v.name;
    }
    return fieldError(pathOf(key), "invalid value '" + *name + "' (expected one of " + expected +
                                       ")");
  }

  // Calls fn for each element of a list; absent or null is an empty list.
  Status getList(std::string_view key, const ElementFn& fn);
  // Calls fn with a reader over a map value and then checks it for unknown fields; absent or
  // null does nothing.
  Status getObject(std::string_view key, const ObjectFn& fn);

  // A field that is accepted but has no effect in wasmgate. Callers say why in a comment.
  void ignore(std::string_view key);
  // Errors with "<path>.<key>: unsupported (<why>)" if the key is present.
  Status unsupported(std::string_view key, std::string_view why);
  Status unsupportedValue(std::string_view key, std::string_view value, std::string_view why);

  // Errors on the first key (in document order) that no getter consumed.
  Status finish();

private:
  struct Entry {
    std::string key;
    YAML::Node value;
    bool consumed = false;
  };
  ObjectReader(std::string path) : path_(std::move(path)) {}
  Entry* find(std::string_view key);
  const Entry* find(std::string_view key) const;
  // The closest known key to `key`, if it is close enough to be a typo.
  std::optional<std::string> suggest(std::string_view key) const;

  std::string path_;
  std::vector<Entry> entries_;
  std::vector<std::string> known_; // every key a getter asked for, for "did you mean"
};

// Reads a map node (required) through an ObjectReader, finishing it afterwards.
Status readObject(const YAML::Node& node, const std::string& path, const ObjectReader::ObjectFn& fn);

} // namespace wasmgate::config
