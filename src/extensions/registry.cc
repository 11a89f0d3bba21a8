#include "extensions/registry.h"

#include <map>

namespace wasmgate::extensions {

namespace {
// Function-local so registration from other translation units' static objects is safe.
std::map<std::string, HttpFilterFactory*, std::less<>>& httpFilters() {
  static std::map<std::string, HttpFilterFactory*, std::less<>> m;
  return m;
}
} // namespace

void registerHttpFilterFactory(HttpFilterFactory* factory) {
  for (const auto& n : factory->names())
    httpFilters()[n] = factory;
}

HttpFilterFactory* findHttpFilterFactory(std::string_view name) {
  auto it = httpFilters().find(name);
  return it == httpFilters().end() ? nullptr : it->second;
}

namespace {
std::map<std::string, NetworkFilterFactory*, std::less<>>& networkFilters() {
  static std::map<std::string, NetworkFilterFactory*, std::less<>> m;
  return m;
}
} // namespace

void registerNetworkFilterFactory(NetworkFilterFactory* factory) {
  for (const auto& n : factory->names())
    networkFilters()[n] = factory;
}

NetworkFilterFactory* findNetworkFilterFactory(std::string_view name) {
  auto it = networkFilters().find(name);
  return it == networkFilters().end() ? nullptr : it->second;
}

namespace {
std::map<std::string, BootstrapExtensionFactory*, std::less<>>& bootstrapExtensions() {
  static std::map<std::string, BootstrapExtensionFactory*, std::less<>> m;
  return m;
}
} // namespace

void registerBootstrapExtensionFactory(BootstrapExtensionFactory* factory) {
  for (const auto& n : factory->names())
    bootstrapExtensions()[n] = factory;
}

BootstrapExtensionFactory* findBootstrapExtensionFactory(std::string_view name) {
  auto it = bootstrapExtensions().find(name);
  return it == bootstrapExtensions().end() ? nullptr : it->second;
}

std::vector<std::string> registeredBootstrapExtensionNames() {
  std::vector<std::string> out;
  for (const auto& [n, f] : bootstrapExtensions())
    out.push_back(n);
  return out;
}

std::vector<std::string> registeredHttpFilterNames() {
  std::vector<std::string> out;
  for (const auto& [n, f] : httpFilters())
    out.push_back(n);
  return out;
}

} // namespace wasmgate::extensions
