// What the test plugins did, in order (shared by the plugin and test translation units).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace sdk_test {

inline std::vector<std::string> &events() {
  static std::vector<std::string> list;
  return list;
}

inline void record(std::string event) { events().push_back(std::move(event)); }

inline bool happened(const std::string &event) {
  return std::find(events().begin(), events().end(), event) != events().end();
}

} // namespace sdk_test
