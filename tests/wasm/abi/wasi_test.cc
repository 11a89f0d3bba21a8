// WASI preview1 as the ABI layer provides it (ABI doc section 5): stdio as log lines, clocks,
// randomness, environment, proc_exit, and the errno of every stub.

#include <gtest/gtest.h>

#include "abi_fixture.h"

namespace wasmgate::wasm::abi::testing {
namespace {

using namespace std::string_literals;

constexpr uint32_t kSuccess = 0, kBadf = 8, kExist = 20, kFault = 21, kInval = 28, kNoent = 44,
                   kNosys = 52, kNotsup = 58;

class Wasi : public AbiFixture {
protected:
  void SetUp() override {
    InstanceConfig c = config();
    c.environment = {{"HOME", "/nowhere"}, {"EMPTY", ""}, {"K", "v=w"}};
    load("probe_v021", std::move(c));
    ctx = stream().contextId();
  }

  // iovecs at 0x1800 pointing at the given strings (stored from 0x1000).
  uint32_t iovecs(const std::vector<std::string>& parts) {
    uint32_t data = 0x1000, vec = 0x1800;
    for (const auto& p : parts) {
      put(data, p);
      put(vec, le32(data) + le32(uint32_t(p.size())));
      data += uint32_t(p.size());
      vec += 8;
    }
    return uint32_t(parts.size());
  }
  template <class... A> uint32_t call64(const std::string& fn, A... args) {
    auto r = inst().callExport<uint32_t>(ctx, fn, args...);
    EXPECT_TRUE(r.ok()) << fn << ": " << r.error();
    return r.ok() ? *r : 0xdead;
  }

  uint32_t ctx = 0;
};

TEST_F(Wasi, FdWriteLogsOneLinePerCall) {
  FakeContext& s = stream();
  uint32_t n = iovecs({"hello ", "world", "\n"});
  EXPECT_EQ(call(ctx, "t_fd_write", 1, 0x1800, n, kOut), kSuccess);
  EXPECT_EQ(u32(kOut), 12u);
  n = iovecs({"oops\n\n"});
  EXPECT_EQ(call(ctx, "t_fd_write", 2, 0x1800, n, kOut), kSuccess);
  ASSERT_EQ(s.logs.size(), 2u);
  EXPECT_EQ(s.logs[0].level, 2u); // stdout: info
  EXPECT_EQ(s.logs[0].message, "hello world");
  EXPECT_EQ(s.logs[1].level, 4u); // stderr: error
  EXPECT_EQ(s.logs[1].message, "oops\n"); // one newline stripped
  // Empty writes log nothing but succeed.
  EXPECT_EQ(call(ctx, "t_fd_write", 1, 0x1800, 0, kOut), kSuccess);
  EXPECT_EQ(u32(kOut), 0u);
  n = iovecs({"\n"});
  EXPECT_EQ(call(ctx, "t_fd_write", 1, 0x1800, n, kOut), kSuccess);
  EXPECT_EQ(s.logs.size(), 2u);
  // Legacy module name, and fd_pwrite (offset ignored).
  n = iovecs({"legacy"});
  EXPECT_EQ(call(ctx, "t_unstable_fd_write", 1, 0x1800, n, kOut), kSuccess);
  EXPECT_EQ(s.logs.back().message, "legacy");
  EXPECT_EQ(call64("t_fd_pwrite", 2u, 0x1800u, n, uint64_t(99), kOut), kSuccess);
  EXPECT_EQ(s.logs.back().message, "legacy");
  EXPECT_EQ(s.logs.back().level, 4u);
}

TEST_F(Wasi, FdWriteErrors) {
  FakeContext& s = stream();
  uint32_t n = iovecs({"x"});
  EXPECT_EQ(call(ctx, "t_fd_write", 0, 0x1800, n, kOut), kBadf);
  EXPECT_EQ(call(ctx, "t_fd_write", 3, 0x1800, n, kOut), kBadf);
  EXPECT_EQ(call64("t_fd_pwrite", 7u, 0x1800u, n, uint64_t(0), kOut), kBadf);
  // The iovec array, an iovec's buffer, and nwritten out of bounds.
  EXPECT_EQ(call(ctx, "t_fd_write", 1, kMemSize - 4, 1, kOut), kFault);
  EXPECT_EQ(call(ctx, "t_fd_write", 1, 0xfffffffc, 1, kOut), kFault);
  EXPECT_EQ(call(ctx, "t_fd_write", 1, kMemSize - 80, 1000, kOut), kFault); // runs past the end
  put(0x1800, le32(kMemSize - 1) + le32(2));
  EXPECT_EQ(call(ctx, "t_fd_write", 1, 0x1800, 1, kOut), kFault);
  put(0x1800, le32(0x1000) + le32(0xffffffff));
  EXPECT_EQ(call(ctx, "t_fd_write", 1, 0x1800, 1, kOut), kFault);
  n = iovecs({"x"});
  EXPECT_EQ(call(ctx, "t_fd_write", 1, 0x1800, n, kMemSize), kFault);
  EXPECT_EQ(call(ctx, "t_fd_write", 1, 0x1800, 0x20000000, kOut), kInval); // > IOV_MAX
  EXPECT_TRUE(s.logs.empty());
  EXPECT_FALSE(inst().failed());
}

TEST_F(Wasi, FdWriteFromTheAllocatorIsAllowed) {
  // fd_write is on the allocator's allow-list (Go's runtime may print while allocating); it is
  // exercised through proxy_log in the instance tests; here: a plain call on context 0 works.
  uint32_t n = iovecs({"vm"});
  EXPECT_EQ(call(0, "t_fd_write", 1, 0x1800, n, kOut), kSuccess);
  EXPECT_EQ(vm_logs.back().message, "vm");
}

TEST_F(Wasi, Clocks) {
  FakeContext& s = stream();
  EXPECT_EQ(call64("t_clock_time_get", 0u, uint64_t(1), kOut), kSuccess);
  EXPECT_EQ(u64(kOut), s.realtime);
  EXPECT_EQ(call64("t_clock_time_get", 1u, uint64_t(1000), kOut), kSuccess);
  EXPECT_EQ(u64(kOut), s.monotonic);
  EXPECT_EQ(call64("t_clock_time_get", 2u, uint64_t(1), kOut), kNotsup);
  EXPECT_EQ(call64("t_clock_time_get", 0u, uint64_t(1), kMemSize - 4), kFault);
  EXPECT_EQ(call(ctx, "t_clock_res_get", 1, kOut), kSuccess);
  EXPECT_EQ(u64(kOut), 1u);
  EXPECT_EQ(call(ctx, "t_clock_res_get", 3, kOut), kNotsup);
  EXPECT_EQ(call(ctx, "t_clock_res_get", 0, 0xfffffff9), kFault);
  // The default HostContext clocks (VM context): real time, and monotonic moves forward.
  EXPECT_EQ(call64("t_clock_time_get", 0u, uint64_t(1), kOut), kSuccess);
  auto r = inst().callExport<uint32_t>(0, "t_clock_time_get", 0u, uint64_t(1), kOut);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(u64(kOut), 1'600'000'000'000'000'000ull);
}

TEST_F(Wasi, RandomGet) {
  put(0x1000, std::string(64, '\0'));
  EXPECT_EQ(call(ctx, "t_random_get", 0x1000, 32), kSuccess);
  const std::string a = get(0x1000, 32);
  EXPECT_NE(a, std::string(32, '\0'));
  EXPECT_EQ(get(0x1020, 32), std::string(32, '\0')); // nothing past len
  EXPECT_EQ(call(ctx, "t_unstable_random_get", 0x1000, 32), kSuccess);
  EXPECT_NE(get(0x1000, 32), a);
  EXPECT_EQ(call(ctx, "t_random_get", 0x4000, 65536), kSuccess);
  EXPECT_EQ(call(ctx, "t_random_get", 0x4000, 65537), kInval);
  EXPECT_EQ(call(ctx, "t_random_get", kMemSize, 0), kSuccess);
  EXPECT_EQ(call(ctx, "t_random_get", kMemSize - 8, 16), kFault);
  EXPECT_EQ(call(ctx, "t_random_get", 0xfffffff0, 32), kFault);
}

TEST_F(Wasi, Environment) {
  EXPECT_EQ(call(ctx, "t_environ_sizes_get", kOut, kOut + 4), kSuccess);
  EXPECT_EQ(u32(kOut), 3u);
  const std::string expected = "HOME=/nowhere\0EMPTY=\0K=v=w\0"s;
  EXPECT_EQ(u32(kOut + 4), expected.size());
  EXPECT_EQ(call(ctx, "t_environ_get", 0x1000, 0x1100), kSuccess);
  EXPECT_EQ(get(0x1100, uint32_t(expected.size())), expected);
  EXPECT_EQ(u32(0x1000), 0x1100u);
  EXPECT_EQ(u32(0x1004), 0x1100u + 14);
  EXPECT_EQ(u32(0x1008), 0x1100u + 14 + 7);
  EXPECT_EQ(call(ctx, "t_environ_sizes_get", kMemSize, kOut), kFault);
  EXPECT_EQ(call(ctx, "t_environ_get", kMemSize - 8, 0x1100), kFault);
  EXPECT_EQ(call(ctx, "t_environ_get", 0x1000, kMemSize - 10), kFault);
}

TEST_F(Wasi, NoEnvironmentAndNoArguments) {
  load("probe_v021"); // default config: no variables
  ctx = newRoot().contextId();
  put(kOut, std::string(8, '\xff'));
  EXPECT_EQ(call(ctx, "t_environ_sizes_get", kOut, kOut + 4), kSuccess);
  EXPECT_EQ(u32(kOut), 0u);
  EXPECT_EQ(u32(kOut + 4), 0u);
  EXPECT_EQ(call(ctx, "t_environ_get", 0x1000, 0x1100), kSuccess);
  put(kOut, std::string(8, '\xff'));
  EXPECT_EQ(call(ctx, "t_args_sizes_get", kOut, kOut + 4), kSuccess);
  EXPECT_EQ(u32(kOut), 0u);
  EXPECT_EQ(u32(kOut + 4), 0u);
  EXPECT_EQ(call(ctx, "t_args_get", 0x1000, 0x1100), kSuccess);
  EXPECT_EQ(call(ctx, "t_args_sizes_get", kOut, 0xffffffff), kFault);
}

TEST_F(Wasi, ProcExitTraps) {
  auto r = inst().callExport<void>(ctx, "t_proc_exit", 3u);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("proc_exit(3)"), std::string::npos) << r.message();
  EXPECT_TRUE(inst().failed());
}

TEST_F(Wasi, ProcExitTrapsUnderWasiUnstable) {
  auto r = inst().callExport<void>(ctx, "t_unstable_proc_exit", 0u);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("proc_exit(0)"), std::string::npos) << r.message();
}

TEST_F(Wasi, SchedulingStubs) {
  EXPECT_EQ(call(ctx, "t_sched_yield"), kSuccess);
  put(kOut, le32(7));
  EXPECT_EQ(call(ctx, "t_poll_oneoff", 0x1000, 0x1100, 1, kOut), kSuccess);
  EXPECT_EQ(u32(kOut), 0u); // no events, at once
  EXPECT_EQ(call(ctx, "t_poll_oneoff", 0x1000, 0x1100, 1, kMemSize), kFault);
}

TEST_F(Wasi, FileDescriptorStubs) {
  FakeContext& s = stream();
  EXPECT_EQ(call(ctx, "t_fd_read", 0, 0x1800, 1, kOut), kNosys);
  EXPECT_EQ(call64("t_fd_pread", 0u, 0x1800u, 1u, uint64_t(0), kOut), kNosys);
  // fd_seek / fd_close: "success", logged, nothing written (cpp-host).
  put(kOut, std::string(8, '\x5a'));
  EXPECT_EQ(call64("t_fd_seek", 1u, int64_t(10), 0u, kOut), kSuccess);
  EXPECT_EQ(u64(kOut), 0x5a5a5a5a5a5a5a5aull);
  EXPECT_EQ(call(ctx, "t_fd_close", 1), kSuccess);
  ASSERT_EQ(s.logs.size(), 2u);
  EXPECT_EQ(s.logs[0].level, 4u);
  EXPECT_NE(s.logs[0].message.find("fd_seek"), std::string::npos);
  // fd_tell
  EXPECT_EQ(call(ctx, "t_fd_tell", 1, kOut), kSuccess);
  EXPECT_EQ(u64(kOut), 0u);
  EXPECT_EQ(call(ctx, "t_fd_tell", 5, kOut), kBadf);
  EXPECT_EQ(call(ctx, "t_fd_tell", 2, kMemSize - 4), kFault);
  // fd_fdstat_get: 24 bytes, rights_base = FD_WRITE.
  put(0x1000, std::string(24, '\x77'));
  EXPECT_EQ(call(ctx, "t_fd_fdstat_get", 1, 0x1000), kSuccess);
  EXPECT_EQ(get(0x1000, 24), "\0\0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"s);
  EXPECT_EQ(call(ctx, "t_fd_fdstat_get", 3, 0x1000), kBadf);
  EXPECT_EQ(call(ctx, "t_fd_fdstat_set_flags", 1, 0), kNosys);
  EXPECT_EQ(call64("t_fd_fdstat_set_rights", 2u, uint64_t(0), uint64_t(0)), kSuccess);
  EXPECT_EQ(call64("t_fd_fdstat_set_rights", 3u, uint64_t(0), uint64_t(0)), kBadf);
  EXPECT_EQ(call(ctx, "t_fd_filestat_get", 1, 0x1000), kBadf);
  EXPECT_EQ(call64("t_fd_filestat_set_size", 1u, uint64_t(5)), kSuccess);
  EXPECT_EQ(call64("t_fd_filestat_set_size", 0u, uint64_t(5)), kBadf);
  EXPECT_EQ(call64("t_fd_filestat_set_times", 2u, uint64_t(1), uint64_t(2), 0u), kSuccess);
  EXPECT_EQ(call64("t_fd_filestat_set_times", 9u, uint64_t(1), uint64_t(2), 0u), kBadf);
  EXPECT_EQ(call64("t_fd_advise", 9u, uint64_t(1), uint64_t(2), 0u), kSuccess);
  EXPECT_EQ(call64("t_fd_allocate", 1u, uint64_t(1), uint64_t(2)), kSuccess);
  EXPECT_EQ(call64("t_fd_allocate", 4u, uint64_t(1), uint64_t(2)), kBadf);
  EXPECT_EQ(call(ctx, "t_fd_datasync", 2), kSuccess);
  EXPECT_EQ(call(ctx, "t_fd_datasync", 3), kBadf);
  EXPECT_EQ(call(ctx, "t_fd_sync", 1), kSuccess);
  EXPECT_EQ(call(ctx, "t_fd_sync", 0), kBadf);
  // No preopens: the scan from fd 3 ends at once.
  EXPECT_EQ(call(ctx, "t_fd_prestat_get", 3, 0x1000), kBadf);
  EXPECT_EQ(call(ctx, "t_fd_prestat_dir_name", 3, 0x1000, 10), kNosys);
  put(kOut, le32(99));
  EXPECT_EQ(call64("t_fd_readdir", 3u, 0x1000u, 100u, uint64_t(0), kOut), kExist);
  EXPECT_EQ(u32(kOut), 0u);
  EXPECT_EQ(call(ctx, "t_fd_renumber", 1, 2), kNotsup);
  EXPECT_EQ(call(ctx, "t_fd_renumber", 1, 3), kBadf);
  EXPECT_EQ(call(ctx, "t_fd_renumber", 4, 2), kBadf);
}

TEST_F(Wasi, PathAndSocketStubs) {
  EXPECT_EQ(call64("t_path_open", 3u, 0u, 0x1000u, 4u, 0u, uint64_t(0), uint64_t(0), 0u, kOut),
            kNoent);
  EXPECT_EQ(call(ctx, "t_path_filestat_get", 3, 0, 0x1000, 4, 0x1100), kNotsup);
  EXPECT_EQ(call64("t_path_filestat_set_times", 3u, 0u, 0x1000u, 4u, uint64_t(0), uint64_t(0), 0u),
            kNotsup);
  EXPECT_EQ(call(ctx, "t_path_create_directory", 3, 0x1000, 4), kNotsup);
  EXPECT_EQ(call(ctx, "t_path_remove_directory", 3, 0x1000, 4), kNotsup);
  EXPECT_EQ(call(ctx, "t_path_unlink_file", 3, 0x1000, 4), kNotsup);
  EXPECT_EQ(call(ctx, "t_path_rename", 3, 0x1000, 4, 3, 0x1100, 4), kNotsup);
  put(kOut, le32(99));
  EXPECT_EQ(call(ctx, "t_path_readlink", 3, 0x1000, 4, 0x1100, 10, kOut), kNotsup);
  EXPECT_EQ(u32(kOut), 0u);
  EXPECT_EQ(call(ctx, "t_path_link", 3, 0, 0x1000, 4, 3, 0x1100, 4), kNotsup); // 7 params
  EXPECT_EQ(call(ctx, "t_path_symlink", 0x1000, 4, 3, 0x1100, 4), kNotsup);    // 5 params
  put(kOut, le32(99));
  EXPECT_EQ(call(ctx, "t_sock_accept", 3, 0, kOut), kNotsup);
  EXPECT_EQ(u32(kOut), 0u);
  put(kOut, std::string(8, '\x11'));
  EXPECT_EQ(call(ctx, "t_sock_recv", 3, 0x1000, 1, 0, kOut, kOut + 4), kNotsup);
  EXPECT_EQ(u32(kOut), 0u);
  EXPECT_EQ(get(kOut + 4, 4), "\0\0\x11\x11"s); // ro_flags is a u16
  EXPECT_EQ(call(ctx, "t_sock_send", 3, 0x1000, 1, 0, kOut), kNotsup);
  EXPECT_EQ(call(ctx, "t_sock_shutdown", 3, 0), kNotsup);
  EXPECT_EQ(call(ctx, "t_sock_accept", 3, 0, kMemSize), kFault);
}

} // namespace
} // namespace wasmgate::wasm::abi::testing
