// wasmgate: command line in Envoy's style (-c, --config-yaml, --concurrency, --log-level,
// --mode validate, --drain-time-s).

#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "common/logger.h"
#include "server/server.h"

int main(int argc, char** argv) {
  CLI::App app{"wasmgate: an HTTP proxy with Proxy-Wasm plugins, configured like Envoy"};
  wasmgate::server::Options opts;
  std::string log_level = "info";
  double drain_time_s = 600;
  uint32_t concurrency = std::max(1u, std::thread::hardware_concurrency());
  app.add_option("-c,--config-path", opts.config_path, "Path to the configuration file (YAML or JSON)");
  app.add_option("--config-yaml", opts.config_yaml, "Inline YAML configuration");
  app.add_option("--concurrency", concurrency, "Number of worker threads (default: CPU count)")
      ->check(CLI::Range(1u, 256u));
  app.add_option("-l,--log-level", log_level, "Log level: trace, debug, info, warning, error, critical, off");
  app.add_option("--mode", opts.mode, "serve (default) or validate")->check(CLI::IsMember({"serve", "validate"}));
  app.add_option("--drain-time-s", drain_time_s, "Seconds to let in-flight requests finish on SIGTERM")
      ->check(CLI::Range(0.0, 86400.0));
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (version) {
    std::cout << "wasmgate version 0.1.0\n";
    return 0;
  }
  wasmgate::log::Level level;
  if (!wasmgate::log::parseLevel(log_level, level)) {
    std::cerr << "error: --log-level: unknown level '" << log_level << "'\n";
    return 1;
  }
  wasmgate::log::setLevel(level);
  opts.concurrency = concurrency;
  opts.drain_time = std::chrono::milliseconds(int64_t(drain_time_s * 1000));
  wasmgate::server::Server server(std::move(opts));
  if (server.validate_mode())
    return server.validate();
  return server.run();
}
