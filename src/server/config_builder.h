#pragma once

// Turns a loaded Bootstrap into a runtime Snapshot: compiles route tables, builds each HTTP
// filter through its registered factory, opens access logs and registers stats. Every error
// names the config path. Used both for serving and for --mode validate.

#include "common/status.h"
#include "config/bootstrap.h"
#include "server/snapshot.h"
#include "stats/stats.h"

namespace wasmgate::upstream {
class ClusterManager;
}

namespace wasmgate::server {

struct BuildOptions {
  bool validate_only = false;
  // False for a config reload: bootstrap extensions (services) and stats tag extractors keep
  // running from the first build; only the listeners' chains are built again.
  bool process_wide = true;
};

Result<SnapshotConstSharedPtr> buildSnapshot(const config::Bootstrap& bootstrap, stats::Store& store,
                                             upstream::ClusterManager* cluster_manager,
                                             BuildOptions options);

} // namespace wasmgate::server
