// WASI preview1 as a proxy host provides it (ABI doc section 5, cpp-host behaviour): stdout and
// stderr become log lines, clocks and randomness work, environment variables come from the VM
// configuration, and the filesystem, sockets and stdin are stubs returning the errno SDK
// runtimes expect (wasi-libc and Go enumerate preopens until BADF, Go needs poll_oneoff and
// both clocks to succeed). Registered under wasi_snapshot_preview1 and wasi_unstable.
//
// Guest pointers are checked like everywhere else, but a bad one is errno FAULT here.

#include <sys/random.h>

#include <cerrno>

#include "wasm/abi/host_call.h"

namespace wasmgate::wasm::abi {

namespace {

using namespace wasi;

constexpr uint32_t kStdout = 1;
constexpr uint32_t kStderr = 2;
constexpr uint32_t kClockRealtime = 0;
constexpr uint32_t kClockMonotonic = 1;
constexpr uint32_t kMaxRandomBytes = 64 * 1024;
constexpr uint32_t kLogInfo = 2;
constexpr uint32_t kLogError = 4;
// Bounds what one fd_write can make the host copy: iovecs may all point at the same large
// region. wasi-libc's IOV_MAX is 1024; longer output is logged truncated.
constexpr uint32_t kMaxIovecs = 1024;
constexpr size_t kMaxLogLine = 1024 * 1024;

bool isStdio(uint32_t fd) { return fd == kStdout || fd == kStderr; }

// Concatenates the iovecs of one write into one log line (one trailing newline stripped,
// empty writes log nothing) and reports the byte count.
uint32_t writeStdio(HostCall& c, uint32_t fd, uint32_t iovs, uint32_t iovs_len,
                    uint32_t nwritten_ptr) {
  if (!isStdio(fd))
    return kBadf;
  if (iovs_len > kMaxIovecs)
    return kInval;
  auto vec = c.read(iovs, iovs_len * 8); // <= 8 KiB, cannot overflow
  if (!vec)
    return kFault;
  // Copy the descriptors: reading the buffers below does not run guest code, but keep the
  // rule simple.
  std::vector<std::pair<uint32_t, uint32_t>> parts(iovs_len);
  for (uint32_t i = 0; i < iovs_len; ++i) {
    const auto* b = reinterpret_cast<const unsigned char*>(vec->data() + 8 * i);
    parts[i].first = uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 |
                     uint32_t(b[3]) << 24;
    parts[i].second = uint32_t(b[4]) | uint32_t(b[5]) << 8 | uint32_t(b[6]) << 16 |
                      uint32_t(b[7]) << 24;
  }
  std::string line;
  uint64_t total = 0;
  for (const auto& [buf, len] : parts) {
    auto bytes = c.read(buf, len);
    if (!bytes)
      return kFault;
    total += len;
    if (line.size() < kMaxLogLine)
      line.append(bytes->substr(0, kMaxLogLine - line.size()));
  }
  if (!c.writeU32(nwritten_ptr, uint32_t(std::min<uint64_t>(total, UINT32_MAX))))
    return kFault;
  if (!line.empty() && line.back() == '\n')
    line.pop_back();
  if (!line.empty())
    c.context().log(fd == kStdout ? kLogInfo : kLogError, line);
  return kSuccess;
}

uint32_t fdWrite(HostCall& c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t nwritten) {
  return writeStdio(c, fd, iovs, iovs_len, nwritten);
}

uint32_t fdPwrite(HostCall& c, uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint64_t,
                  uint32_t nwritten) {
  return writeStdio(c, fd, iovs, iovs_len, nwritten); // the offset means nothing for a log
}

uint32_t fdRead(HostCall&, uint32_t, uint32_t, uint32_t, uint32_t) { return kNosys; }

uint32_t fdPread(HostCall&, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t) { return kNosys; }

// cpp-host: logs and claims success without moving anything (emscripten/wasi-libc stdio may
// seek stdout); the new offset is not written.
uint32_t fdSeek(HostCall& c, uint32_t fd, uint64_t, uint32_t, uint32_t) {
  c.context().log(kLogError, "wasi fd_seek(" + std::to_string(fd) + ") is not supported");
  return kSuccess;
}

uint32_t fdTell(HostCall& c, uint32_t fd, uint32_t offset_ptr) {
  if (!isStdio(fd))
    return kBadf;
  return c.writeU64(offset_ptr, 0) ? kSuccess : kFault;
}

// cpp-host: logs and claims success.
uint32_t fdClose(HostCall& c, uint32_t fd) {
  c.context().log(kLogError, "wasi fd_close(" + std::to_string(fd) + ") is not supported");
  return kSuccess;
}

uint32_t fdFdstatGet(HostCall& c, uint32_t fd, uint32_t stat_ptr) {
  if (!isStdio(fd))
    return kBadf;
  // fdstat: u8 filetype (0 unknown), u16 flags at 2, u64 rights_base at 8 (FD_WRITE = 64),
  // u64 rights_inheriting at 16. cpp-host ignores a failed write and still succeeds.
  char stat[24] = {};
  stat[8] = 64;
  (void)c.writeBytes(stat_ptr, std::string_view(stat, sizeof(stat)));
  return kSuccess;
}

uint32_t fdFdstatSetFlags(HostCall&, uint32_t, uint32_t) { return kNosys; }

uint32_t stdioOrBadf(uint32_t fd) { return isStdio(fd) ? kSuccess : kBadf; }

uint32_t fdFdstatSetRights(HostCall&, uint32_t fd, uint64_t, uint64_t) { return stdioOrBadf(fd); }
uint32_t fdFilestatGet(HostCall&, uint32_t, uint32_t) { return kBadf; }
uint32_t fdFilestatSetSize(HostCall&, uint32_t fd, uint64_t) { return stdioOrBadf(fd); }
uint32_t fdFilestatSetTimes(HostCall&, uint32_t fd, uint64_t, uint64_t, uint32_t) {
  return stdioOrBadf(fd);
}
uint32_t fdAdvise(HostCall&, uint32_t, uint64_t, uint64_t, uint32_t) { return kSuccess; }
uint32_t fdAllocate(HostCall&, uint32_t fd, uint64_t, uint64_t) { return stdioOrBadf(fd); }
uint32_t fdDatasync(HostCall&, uint32_t fd) { return stdioOrBadf(fd); }
uint32_t fdSync(HostCall&, uint32_t fd) { return stdioOrBadf(fd); }

// No preopened directories: wasi-libc and Go scan from fd 3 until BADF.
uint32_t fdPrestatGet(HostCall&, uint32_t, uint32_t) { return kBadf; }
uint32_t fdPrestatDirName(HostCall&, uint32_t, uint32_t, uint32_t) { return kNosys; }

// cpp-host returns 20 (EXIST; its comment says ENOTDIR) after writing bufused = 0.
uint32_t fdReaddir(HostCall& c, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t bufused_ptr) {
  return c.writeU32(bufused_ptr, 0) ? kExist : kFault;
}

uint32_t fdRenumber(HostCall&, uint32_t fd, uint32_t to) {
  return isStdio(fd) && isStdio(to) ? kNotsup : kBadf;
}

uint32_t pathOpen(HostCall&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint64_t, uint64_t,
                  uint32_t, uint32_t) {
  return kNoent;
}
uint32_t pathFilestatGet(HostCall&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) {
  return kNotsup;
}
uint32_t pathFilestatSetTimes(HostCall&, uint32_t, uint32_t, uint32_t, uint32_t, uint64_t,
                              uint64_t, uint32_t) {
  return kNotsup;
}
uint32_t pathFd3(HostCall&, uint32_t, uint32_t, uint32_t) { return kNotsup; }
uint32_t pathRename(HostCall&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) {
  return kNotsup;
}
uint32_t pathReadlink(HostCall& c, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t,
                      uint32_t bufused_ptr) {
  return c.writeU32(bufused_ptr, 0) ? kNotsup : kFault;
}
// The real WASI signatures (cpp-host declares too few parameters for these two).
uint32_t pathLink(HostCall&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t,
                  uint32_t) {
  return kNotsup;
}
uint32_t pathSymlink(HostCall&, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) {
  return kNotsup;
}

uint32_t sockAccept(HostCall& c, uint32_t, uint32_t, uint32_t fd_ptr) {
  return c.writeU32(fd_ptr, 0) ? kNotsup : kFault;
}
uint32_t sockRecv(HostCall& c, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t ro_len_ptr,
                  uint32_t ro_flags_ptr) {
  if (!c.writeU32(ro_len_ptr, 0) || !c.writeBytes(ro_flags_ptr, std::string_view("\0\0", 2)))
    return kFault;
  return kNotsup;
}
uint32_t sockSend(HostCall& c, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t so_len_ptr) {
  return c.writeU32(so_len_ptr, 0) ? kNotsup : kFault;
}
uint32_t sockShutdown(HostCall&, uint32_t, uint32_t) { return kNotsup; }

// ---------------------------------------------------------------------------------------------
// Environment, arguments, clocks, randomness, scheduling

uint32_t environSizesGet(HostCall& c, uint32_t count_ptr, uint32_t buf_size_ptr) {
  uint64_t size = 0;
  for (const auto& [k, v] : c.environment())
    size += k.size() + 1 + v.size() + 1;
  if (size > UINT32_MAX)
    return kInval;
  if (!c.writeU32(count_ptr, uint32_t(c.environment().size())) ||
      !c.writeU32(buf_size_ptr, uint32_t(size)))
    return kFault;
  return kSuccess;
}

// Writes "KEY=VALUE\0" strings back to back into buf and each start address into the array.
uint32_t environGet(HostCall& c, uint32_t array_ptr, uint32_t buf_ptr) {
  const auto& env = c.environment();
  std::string buf;
  for (const auto& [k, v] : env) {
    buf += k;
    buf += '=';
    buf += v;
    buf += '\0';
  }
  if (uint64_t(env.size()) * 4 > UINT32_MAX || buf.size() > UINT32_MAX ||
      !c.inBounds(array_ptr, uint32_t(env.size() * 4)) || !c.writeBytes(buf_ptr, buf))
    return kFault;
  uint64_t addr = buf_ptr;
  for (size_t i = 0; i < env.size(); ++i) {
    if (!c.writeU32(array_ptr + uint32_t(i * 4), uint32_t(addr)))
      return kFault;
    addr += env[i].first.size() + 1 + env[i].second.size() + 1;
  }
  return kSuccess;
}

uint32_t argsSizesGet(HostCall& c, uint32_t argc_ptr, uint32_t buf_size_ptr) {
  return c.writeU32(argc_ptr, 0) && c.writeU32(buf_size_ptr, 0) ? kSuccess : kFault;
}

uint32_t argsGet(HostCall&, uint32_t, uint32_t) { return kSuccess; }

uint32_t clockTimeGet(HostCall& c, uint32_t id, uint64_t, uint32_t time_ptr) {
  uint64_t now;
  if (id == kClockRealtime)
    now = c.context().realTimeNanoseconds(); // same as proxy_get_current_time_nanoseconds
  else if (id == kClockMonotonic)
    now = c.context().monotonicTimeNanoseconds();
  else
    return kNotsup;
  return c.writeU64(time_ptr, now) ? kSuccess : kFault;
}

uint32_t clockResGet(HostCall& c, uint32_t id, uint32_t res_ptr) {
  if (id != kClockRealtime && id != kClockMonotonic)
    return kNotsup;
  return c.writeU64(res_ptr, 1) ? kSuccess : kFault;
}

uint32_t randomGet(HostCall& c, uint32_t buf_ptr, uint32_t len) {
  if (len > kMaxRandomBytes)
    return kInval;
  if (len == 0)
    return kSuccess;
  if (!c.inBounds(buf_ptr, len))
    return kFault;
  std::string bytes(len, '\0');
  size_t filled = 0;
  while (filled < len) {
    ssize_t n = ::getrandom(bytes.data() + filled, len - filled, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return kIo;
    }
    filled += size_t(n);
  }
  return c.writeBytes(buf_ptr, bytes) ? kSuccess : kFault;
}

uint32_t schedYield(HostCall&) { return kSuccess; }

// Go's runtime sleeps and parks its GC through poll_oneoff and needs it to succeed: report no
// events at once, never sleep on a proxy worker thread.
uint32_t pollOneoff(HostCall& c, uint32_t, uint32_t, uint32_t, uint32_t nevents_ptr) {
  return c.writeU32(nevents_ptr, 0) ? kSuccess : kFault;
}

// Ends the guest: a plugin has no process to exit. (cpp-host logs and returns, but traps during
// startup where it is not allowed; a trap is the honest answer everywhere.)
void procExit(HostCall& c, uint32_t code) { c.trap("proc_exit(" + std::to_string(code) + ")"); }

} // namespace

void registerWasiFunctions(Registrar& r) {
  // During startup cpp-host allows everything except proc_exit, sched_yield, fd_read, fd_seek,
  // fd_close and path_open; while the allocator runs only fd_write, clock_time_get and
  // poll_oneoff (plus env.proxy_log). proc_exit traps wherever it is called.
  r.wasi<&fdWrite>("fd_write", kAnywhere);
  r.wasi<&fdRead>("fd_read");
  r.wasi<&fdPwrite>("fd_pwrite", kInStartup);
  r.wasi<&fdPread>("fd_pread", kInStartup);
  r.wasi<&fdSeek>("fd_seek");
  r.wasi<&fdTell>("fd_tell", kInStartup);
  r.wasi<&fdClose>("fd_close");
  r.wasi<&fdFdstatGet>("fd_fdstat_get", kInStartup);
  r.wasi<&fdFdstatSetFlags>("fd_fdstat_set_flags", kInStartup);
  r.wasi<&fdFdstatSetRights>("fd_fdstat_set_rights", kInStartup);
  r.wasi<&fdFilestatGet>("fd_filestat_get", kInStartup);
  r.wasi<&fdFilestatSetSize>("fd_filestat_set_size", kInStartup);
  r.wasi<&fdFilestatSetTimes>("fd_filestat_set_times", kInStartup);
  r.wasi<&fdAdvise>("fd_advise", kInStartup);
  r.wasi<&fdAllocate>("fd_allocate", kInStartup);
  r.wasi<&fdDatasync>("fd_datasync", kInStartup);
  r.wasi<&fdSync>("fd_sync", kInStartup);
  r.wasi<&fdPrestatGet>("fd_prestat_get", kInStartup);
  r.wasi<&fdPrestatDirName>("fd_prestat_dir_name", kInStartup);
  r.wasi<&fdReaddir>("fd_readdir", kInStartup);
  r.wasi<&fdRenumber>("fd_renumber", kInStartup);
  r.wasi<&pathOpen>("path_open");
  r.wasi<&pathFilestatGet>("path_filestat_get", kInStartup);
  r.wasi<&pathFilestatSetTimes>("path_filestat_set_times", kInStartup);
  r.wasi<&pathFd3>("path_create_directory", kInStartup);
  r.wasi<&pathFd3>("path_remove_directory", kInStartup);
  r.wasi<&pathFd3>("path_unlink_file", kInStartup);
  r.wasi<&pathRename>("path_rename", kInStartup);
  r.wasi<&pathReadlink>("path_readlink", kInStartup);
  r.wasi<&pathLink>("path_link", kInStartup);
  r.wasi<&pathSymlink>("path_symlink", kInStartup);
  r.wasi<&sockAccept>("sock_accept", kInStartup);
  r.wasi<&sockRecv>("sock_recv", kInStartup);
  r.wasi<&sockSend>("sock_send", kInStartup);
  r.wasi<&sockShutdown>("sock_shutdown", kInStartup);
  r.wasi<&environSizesGet>("environ_sizes_get", kInStartup);
  r.wasi<&environGet>("environ_get", kInStartup);
  r.wasi<&argsSizesGet>("args_sizes_get", kInStartup);
  r.wasi<&argsGet>("args_get", kInStartup);
  r.wasi<&clockTimeGet>("clock_time_get", kAnywhere);
  r.wasi<&clockResGet>("clock_res_get", kInStartup);
  r.wasi<&randomGet>("random_get", kInStartup);
  r.wasi<&schedYield>("sched_yield");
  r.wasi<&pollOneoff>("poll_oneoff", kAnywhere);
  r.wasi<&procExit>("proc_exit", kAnywhere);
}

} // namespace wasmgate::wasm::abi
