#pragma once

#include <functional>
#include <memory>

#include "common/status.h"
#include "event/dispatcher.h"
#include "network/address.h"

namespace wasmgate::network {

// Creates a bound, listening, non-blocking TCP socket. With reuse_port every worker binds its
// own socket to the same address and the kernel spreads new connections across them.
Result<int> createListenSocket(const Address& addr, bool reuse_port, int backlog = 1024);

// Accepts connections on one listening fd in one dispatcher.
class TcpListener {
public:
  using AcceptCb = std::function<void(int fd)>;
  TcpListener(event::Dispatcher& d, int fd, AcceptCb cb);
  ~TcpListener(); // closes the fd
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  int fd() const { return fd_; }

private:
  void onAccept();
  int fd_;
  AcceptCb cb_;
  std::unique_ptr<event::FileEvent> file_event_;
};

} // namespace wasmgate::network
