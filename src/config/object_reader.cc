#include "config/object_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "config/duration.h"

namespace wasmgate::config {
namespace {

bool isIgnored(const YAML::Node& key, const YAML::Node& value) {
  return key.Tag() == "!ignore" || value.Tag() == "!ignore";
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

} // namespace

std::string joinPath(const std::string& base, std::string_view key) {
  if (base.empty())
    return std::string(key);
  std::string out = base;
  out += '.';
  out += key;
  return out;
}

std::string indexPath(const std::string& base, size_t index) {
  return base + "[" + std::to_string(index) + "]";
}

Status fieldError(const std::string& path, std::string_view what) {
  return Status::error((path.empty() ? std::string("(root)") : path) + ": " + std::string(what));
}

std::string describeNode(const YAML::Node& node) {
  if (!node || node.IsNull())
    return "null";
  if (node.IsMap())
    return "a map";
  if (node.IsSequence())
    return "a list";
  return "'" + node.Scalar() + "'";
}

Result<std::string> nodeString(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar())
    return fieldError(path, "expected a string, got " + describeNode(node));
  return node.Scalar();
}

Result<bool> nodeBool(const YAML::Node& node, const std::string& path) {
  // Only true/false: yaml-cpp would also take yes/no/on/off, which protobuf JSON rejects.
  if (node.IsScalar()) {
    if (node.Scalar() == "true")
      return true;
    if (node.Scalar() == "false")
      return false;
  }
  return fieldError(path, "expected true or false, got " + describeNode(node));
}

Result<uint64_t> nodeUint(const YAML::Node& node, const std::string& path, uint64_t min,
                          uint64_t max) {
  // YAML ints and quoted digit strings are both fine (protobuf JSON allows "123").
  if (!node.IsScalar())
    return fieldError(path, "expected an integer, got " + describeNode(node));
  const std::string& s = node.Scalar();
  if (s.size() > 1 && s[0] == '-' && std::isdigit(static_cast<unsigned char>(s[1])))
    return fieldError(path, "expected a non-negative integer, got '" + s + "'");
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ptr != s.data() + s.size() || (ec != std::errc() && ec != std::errc::result_out_of_range))
    return fieldError(path, "expected an integer, got '" + s + "'");
  if (ec == std::errc::result_out_of_range || v < min || v > max)
    return fieldError(path, "value " + s + " is out of range " + std::to_string(min) + ".." +
                                std::to_string(max));
  return v;
}

Result<int64_t> nodeInt(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar())
    return fieldError(path, "expected an integer, got " + describeNode(node));
  const std::string& s = node.Scalar();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ptr != s.data() + s.size() || (ec != std::errc() && ec != std::errc::result_out_of_range))
    return fieldError(path, "expected an integer, got '" + s + "'");
  if (ec == std::errc::result_out_of_range)
    return fieldError(path, "value " + s + " is out of range for a 64-bit integer");
  return v;
}

Result<ObjectReader> ObjectReader::make(const YAML::Node& node, std::string path) {
  ObjectReader reader(std::move(path));
  if (!node || node.IsNull())
    return reader;
  if (!node.IsMap())
    return fieldError(reader.path_, "expected a map, got " + describeNode(node));
  std::vector<YAML::Node> merges;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar())
      return fieldError(reader.path_, "map keys must be strings, got " + describeNode(it->first));
    const std::string& key = it->first.Scalar();
    // An unquoted "<<" is a YAML merge key. Its value is often an alias of an !ignore'd
    // anchor, so the ignore tag must not drop the merge itself.
    if (key == "<<" && it->first.Tag() != "!") {
      if (it->second.IsSequence()) {
        for (const auto& m : it->second)
          merges.push_back(m);
      } else {
        merges.push_back(it->second);
      }
      continue;
    }
    if (isIgnored(it->first, it->second))
      continue;
    if (reader.find(key))
      return fieldError(joinPath(reader.path_, key), "duplicate key");
    reader.entries_.push_back({key, it->second});
  }
  // Merged maps fill in only keys the map does not set itself; earlier merges win.
  for (const auto& m : merges) {
    if (!m.IsMap())
      return fieldError(joinPath(reader.path_, "<<"), "merge key needs a map, got " +
                                                          describeNode(m));
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (isIgnored(it->first, it->second) || !it->first.IsScalar())
        continue;
      if (!reader.find(it->first.Scalar()))
        reader.entries_.push_back({it->first.Scalar(), it->second});
    }
  }
  return reader;
}

ObjectReader::Entry* ObjectReader::find(std::string_view key) {
  for (auto& e : entries_)
    if (e.key == key)
      return &e;
  return nullptr;
}

const ObjectReader::Entry* ObjectReader::find(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key == key)
      return &e;
  return nullptr;
}

std::vector<std::string> ObjectReader::keys() const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    out.push_back(e.key);
  return out;
}

bool ObjectReader::has(std::string_view key) const {
  const Entry* e = find(key);
  return e && e->value && !e->value.IsNull();
}

YAML::Node ObjectReader::take(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end())
    known_.emplace_back(key);
  Entry* e = find(key);
  if (!e)
    return YAML::Node(YAML::NodeType::Undefined);
  e->consumed = true;
  return e->value;
}

std::optional<std::string> ObjectReader::suggest(std::string_view key) const {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(2, key.size() / 4) + 1;
  for (const auto& k : known_) {
    size_t d = editDistance(key, k);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  return best;
}

Status ObjectReader::missing(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end())
    known_.emplace_back(key);
  // A misspelt required key is far more likely than a forgotten one: point at the typo. The
  // bound is tight because other valid keys of this map may not have been consumed yet.
  size_t limit = std::max<size_t>(1, key.size() / 4);
  for (const auto& e : entries_) {
    if (!e.consumed && e.key != key && editDistance(e.key, key) <= limit)
      return fieldError(pathOf(e.key), "unknown field (did you mean '" + std::string(key) + "'?)");
  }
  return fieldError(pathOf(key), "required field is missing");
}

Status ObjectReader::getString(std::string_view key, std::string& out) {
  YAML::Node node = take(key);
  if (!node || node.IsNull())
    return okStatus();
  auto v = nodeString(node, pathOf(key));
  if (!v.ok())
    return v.status();
  out = std::move(*v);
  return okStatus();
}

Status ObjectReader::getString(std::string_view key, std::optional<std::string>& out) {
  if (!has(key)) {
    take(key);
    return okStatus();
  }
  std::string v;
  WG_RETURN_IF_ERROR(getString(key, v));
  out = std::move(v);
  return okStatus();
}

Status ObjectReader::requireString(std::string_view key, std::string& out) {
  if (!has(key))
    return missing(key);
  WG_RETURN_IF_ERROR(getString(key, out));
  if (out.empty())
    return fieldError(pathOf(key), "must not be empty");
  return okStatus();
}

Status ObjectReader::getBool(std::string_view key, bool& out) {
  YAML::Node node = take(key);
  if (!node || node.IsNull())
    return okStatus();
  auto v = nodeBool(node, pathOf(key));
  if (!v.ok())
    return v.status();
  out = *v;
  return okStatus();
}

Status ObjectReader::getBool(std::string_view key, std::optional<bool>& out) {
  bool v = false;
  bool present = has(key);
  WG_RETURN_IF_ERROR(getBool(key, v));
  if (present)
    out = v;
  return okStatus();
}

Status ObjectReader::getUint32(std::string_view key, uint32_t& out, uint32_t min, uint32_t max) {
  uint64_t v = out;
  WG_RETURN_IF_ERROR(getUint64(key, v, min, max));
  out = static_cast<uint32_t>(v);
  return okStatus();
}

Status ObjectReader::getUint32(std::string_view key, std::optional<uint32_t>& out, uint32_t min,
                               uint32_t max) {
  std::optional<uint64_t> v;
  WG_RETURN_IF_ERROR(getUint64(key, v, min, max));
  if (v)
    out = static_cast<uint32_t>(*v);
  return okStatus();
}

Status ObjectReader::getUint64(std::string_view key, uint64_t& out, uint64_t min, uint64_t max) {
  YAML::Node node = take(key);
  if (!node || node.IsNull())
    return okStatus();
  auto v = nodeUint(node, pathOf(key), min, max);
  if (!v.ok())
    return v.status();
  out = *v;
  return okStatus();
}

Status ObjectReader::getUint64(std::string_view key, std::optional<uint64_t>& out, uint64_t min,
                               uint64_t max) {
  bool present = has(key);
  uint64_t v = 0;
  WG_RETURN_IF_ERROR(getUint64(key, v, min, max));
  if (present)
    out = v;
  return okStatus();
}

Status ObjectReader::getInt64(std::string_view key, int64_t& out) {
  YAML::Node node = take(key);
  if (!node || node.IsNull())
    return okStatus();
  auto v = nodeInt(node, pathOf(key));
  if (!v.ok())
    return v.status();
  out = *v;
  return okStatus();
}

Status ObjectReader::getDuration(std::string_view key, std::chrono::milliseconds& out) {
  YAML::Node node = take(key);
  if (!node || node.IsNull())
    return okStatus();
  auto v = parseDuration(node, pathOf(key));
  if (!v.ok())
    return v.status();
  out = *v;
  return okStatus();
}

Status ObjectReader::getDuration(std::string_view key,
                                 std::optional<std::chrono::milliseconds>& out) {
  bool present = has(key);
  std::chrono::milliseconds v{0};
  WG_RETURN_IF_ERROR(getDuration(key, v));
  if (present)
    out = v;
  return okStatus();
}

Status ObjectReader::getStringList(std::string_view key, std::vector<std::string>& out) {
  return getList(key, [&](const YAML::Node& element, const std::string& path, size_t) {
    auto v = nodeString(element, path);
    if (!v.ok())
      return v.status();
    out.push_back(std::move(*v));
    return okStatus();
  });
}

Status ObjectReader::getList(std::string_view key, const ElementFn& fn) {
  YAML::Node node = take(key);
  if (!node || node.IsNull())
    return okStatus();
  const std::string path = pathOf(key);
  if (!node.IsSequence())
    return fieldError(path, "expected a list, got " + describeNode(node));
  size_t i = 0;
  for (const auto& element : node) {
    WG_RETURN_IF_ERROR(fn(element, indexPath(path, i), i));
    ++i;
  }
  return okStatus();
}

Status ObjectReader::getObject(std::string_view key, const ObjectFn& fn) {
  YAML::Node node = take(key);
  if (!node || node.IsNull())
    return okStatus();
  return readObject(node, pathOf(key), fn);
}

void ObjectReader::ignore(std::string_view key) { take(key); }

Status ObjectReader::unsupported(std::string_view key, std::string_view why) {
  // A null value means "unset" in protobuf JSON, so only a real value is an error.
  bool present = has(key);
  take(key);
  if (!present)
    return okStatus();
  return fieldError(pathOf(key), why.empty() ? std::string("unsupported")
                                             : "unsupported (" + std::string(why) + ")");
}

Status ObjectReader::unsupportedValue(std::string_view key, std::string_view value,
                                      std::string_view why) {
  std::string what = "unsupported value " + std::string(value);
  if (!why.empty())
    what += " (" + std::string(why) + ")";
  return fieldError(pathOf(key), what);
}

Status ObjectReader::finish() {
  for (const auto& e : entries_) {
    if (e.consumed)
      continue;
    if (auto s = suggest(e.key))
      return fieldError(pathOf(e.key), "unknown field (did you mean '" + *s + "'?)");
    return fieldError(pathOf(e.key), "unknown field");
  }
  return okStatus();
}

Status readObject(const YAML::Node& node, const std::string& path,
                  const ObjectReader::ObjectFn& fn) {
  auto reader = ObjectReader::make(node, path);
  if (!reader.ok())
    return reader.status();
  WG_RETURN_IF_ERROR(fn(*reader));
  return reader->finish();
}

} // namespace wasmgate::config
