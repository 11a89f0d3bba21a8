#include "network/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logger.h"

namespace wasmgate::network {

Result<int> createListenSocket(const Address& addr, bool reuse_port, int backlog) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Status::error(std::string("socket(): ") + strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port)
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (addr.family() == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, addr.sa(), addr.len) != 0) {
    std::string err = strerror(errno);
    ::close(fd);
    return Status::error("cannot bind " + addr.text + ": " + err);
  }
  if (::listen(fd, backlog) != 0) {
    std::string err = strerror(errno);
    ::close(fd);
    return Status::error("cannot listen on " + addr.text + ": " + err);
  }
  return fd;
}

TcpListener::TcpListener(event::Dispatcher& d, int fd, AcceptCb cb) : fd_(fd), cb_(std::move(cb)) {
  file_event_ = std::make_unique<event::FileEvent>(d, fd_, [this](uint32_t ev) {
    if (ev & event::FileReadyType::Read)
      onAccept();
  });
}

TcpListener::~TcpListener() {
  file_event_.reset();
  ::close(fd_);
}

void TcpListener::onAccept() {
  // Edge-triggered: accept until the queue is empty, but yield after a batch so one busy
  // listener cannot starve the connections it already has.
  for (int i = 0; i < 64; ++i) {
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        WG_WARN("accept() failed: {}", strerror(errno));
      return;
    }
    cb_(fd);
  }
  file_event_->activate(event::FileReadyType::Read);
}

} // namespace wasmgate::network
