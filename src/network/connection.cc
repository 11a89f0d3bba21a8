#include "network/connection.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logger.h"

namespace wasmgate::network {

namespace {
constexpr size_t kReadChunk = 16 * 1024;
constexpr std::chrono::milliseconds kDelayedCloseTimeout{1000};
} // namespace

Connection::Connection(event::Dispatcher& d, int fd, uint64_t id, State initial)
    : dispatcher_(d), fd_(fd), id_(id), state_(initial) {
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  file_event_ = std::make_unique<event::FileEvent>(d, fd_, [this](uint32_t ev) { onFileEvent(ev); });
}

std::unique_ptr<Connection> Connection::createServer(event::Dispatcher& d, int fd, uint64_t id) {
  auto c = std::unique_ptr<Connection>(new Connection(d, fd, id, State::Open));
  c->remote_ = peerAddressOf(fd);
  c->local_ = localAddressOf(fd);
  return c;
}

std::unique_ptr<Connection> Connection::createClient(event::Dispatcher& d, const Address& to, uint64_t id) {
  int fd = ::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    // Report as an immediately failed connection on the next loop pass.
    int pipefd[2];
    if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) != 0)
      abort();
    ::close(pipefd[1]);
    auto c = std::unique_ptr<Connection>(new Connection(d, pipefd[0], id, State::Connecting));
    c->failure_reason_ = std::string("socket(): ") + strerror(errno);
    c->remote_ = to;
    return c;
  }
  int rc = ::connect(fd, to.sa(), to.len);
  auto c = std::unique_ptr<Connection>(new Connection(d, fd, id, State::Connecting));
  c->remote_ = to;
  if (rc != 0 && errno != EINPROGRESS) {
    c->failure_reason_ = strerror(errno);
    c->file_event_->activate(event::FileReadyType::Write);
  }
  return c;
}

Connection::~Connection() {
  if (state_ != State::Closed) {
    file_event_.reset();
    ::close(fd_);
  }
}

void Connection::onFileEvent(uint32_t events) {
  if (state_ == State::Closed)
    return;
  if (state_ == State::Connecting) {
    if (!(events & (event::FileReadyType::Write | event::FileReadyType::Closed)))
      return;
    int err = 0;
    socklen_t len = sizeof(err);
    if (failure_reason_.empty()) {
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
      if (err != 0)
        failure_reason_ = strerror(err);
    }
    if (!failure_reason_.empty()) {
      closeSocket(ConnectionEvent::RemoteClose);
      return;
    }
    state_ = State::Open;
    local_ = localAddressOf(fd_);
    if (callbacks_)
      callbacks_->onEvent(ConnectionEvent::Connected);
    if (state_ == State::Closed)
      return;
    events |= event::FileReadyType::Write;
  }
  if (events & event::FileReadyType::Write) {
    onWriteReady();
    if (state_ == State::Closed)
      return;
  }
  if ((events & event::FileReadyType::Read) && !read_closed_) {
    // While reading is paused a peer close must still be noticed (to cancel its request), so
    // a hang-up is read through; the kernel bounds what can be pending before the FIN.
    if (read_disable_count_ > 0 && !delayed_close_ && !(events & event::FileReadyType::Closed)) {
      read_pending_ = true;
      return;
    }
    onReadReady((events & event::FileReadyType::Closed) != 0);
  }
}

void Connection::onReadReady(bool hangup) {
  bool eof = false;
  size_t total = 0;
  for (;;) {
    char* dst = read_buffer_.prepareWrite(kReadChunk);
    ssize_t n = ::read(fd_, dst, kReadChunk);
    if (n > 0) {
      read_buffer_.commit(size_t(n));
      total += size_t(n);
      // Hand data up in bounded batches so one fast peer cannot grow the buffer unbounded. A
      // short read usually means the socket is empty (saves a syscall); after a hang-up the
      // FIN behind the data must be read too, or the edge-triggered event is gone.
      if (total >= buffer_limit_ || (size_t(n) < kReadChunk && !hangup))
        break;
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      failure_reason_ = strerror(errno);
      eof = true;
    }
    break;
  }
  bytes_received_ += total;
  if (delayed_close_) {
    // Draining the peer while our last bytes go out: discard.
    read_buffer_.clear();
    if (eof)
      closeSocket(ConnectionEvent::LocalClose);
    return;
  }
  if (total > 0 && !eof && total >= buffer_limit_) {
    // More may be waiting; come back after the owner had a chance to apply back-pressure.
    file_event_->activate(event::FileReadyType::Read);
  }
  if (eof && half_close_ && failure_reason_.empty()) {
    // A clean FIN: one direction ends, the other stays usable.
    read_closed_ = true;
    if (callbacks_)
      callbacks_->onData(read_buffer_, true);
    if (state_ != State::Closed && write_closed_)
      closeSocket(ConnectionEvent::RemoteClose);
    return;
  }
  if ((total > 0 || eof || !read_buffer_.empty()) && callbacks_)
    callbacks_->onData(read_buffer_, eof);
  if (eof && state_ != State::Closed)
    closeSocket(ConnectionEvent::RemoteClose);
}

void Connection::shutdownWrite() {
  if (state_ == State::Closed || state_ == State::Closing || write_closed_)
    return;
  write_shutdown_requested_ = true;
  if (state_ == State::Open && write_buffer_.empty())
    doShutdownWrite();
}

void Connection::doShutdownWrite() {
  write_shutdown_requested_ = false;
  write_closed_ = true;
  ::shutdown(fd_, SHUT_WR);
  if (read_closed_)
    closeSocket(ConnectionEvent::LocalClose);
}

void Connection::onWriteReady() {
  while (!write_buffer_.empty()) {
    ssize_t n = ::send(fd_, write_buffer_.data(), write_buffer_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes_sent_ += size_t(n);
      write_buffer_.drain(size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    // Peer gone.
    failure_reason_ = strerror(errno);
    closeSocket(ConnectionEvent::RemoteClose);
    return;
  }
  checkLowWatermark();
  if (write_buffer_.empty()) {
    write_buffer_.shrinkIfIdle();
    if (write_shutdown_requested_ && state_ == State::Open) {
      doShutdownWrite();
      return;
    }
    if (state_ == State::Closing) {
      if (delayed_close_) {
        ::shutdown(fd_, SHUT_WR);
        delayed_close_timer_ = dispatcher_.createTimer([this] { closeSocket(ConnectionEvent::LocalClose); });
        delayed_close_timer_->enableTimer(kDelayedCloseTimeout);
        // Keep reading (and discarding) until the peer closes.
        file_event_->activate(event::FileReadyType::Read);
      } else {
        closeSocket(ConnectionEvent::LocalClose);
      }
    }
  }
}

void Connection::checkLowWatermark() {
  if (above_high_watermark_ && write_buffer_.size() <= buffer_limit_ / 2) {
    above_high_watermark_ = false;
    if (callbacks_)
      callbacks_->onBelowWriteBufferLowWatermark();
  }
}

void Connection::write(std::string_view data) {
  if (state_ == State::Closed || state_ == State::Closing || data.empty())
    return;
  write_buffer_.append(data);
  if (state_ == State::Open)
    file_event_->activate(event::FileReadyType::Write);
  if (!above_high_watermark_ && write_buffer_.size() > buffer_limit_) {
    above_high_watermark_ = true;
    if (callbacks_)
      callbacks_->onAboveWriteBufferHighWatermark();
  }
}

void Connection::write(Buffer& data) {
  if (state_ == State::Closed || state_ == State::Closing) {
    data.clear();
    return;
  }
  if (data.empty())
    return;
  write_buffer_.move(data);
  if (state_ == State::Open)
    file_event_->activate(event::FileReadyType::Write);
  if (!above_high_watermark_ && write_buffer_.size() > buffer_limit_) {
    above_high_watermark_ = true;
    if (callbacks_)
      callbacks_->onAboveWriteBufferHighWatermark();
  }
}

void Connection::close(CloseType type) {
  if (state_ == State::Closed)
    return;
  if (type == CloseType::NoFlush || state_ == State::Connecting || write_buffer_.empty()) {
    if (type == CloseType::FlushWriteAndDelay && state_ == State::Open) {
      state_ = State::Closing;
      delayed_close_ = true;
      onWriteReady();
      return;
    }
    closeSocket(ConnectionEvent::LocalClose);
    return;
  }
  if (state_ == State::Closing)
    return;
  state_ = State::Closing;
  delayed_close_ = type == CloseType::FlushWriteAndDelay;
  file_event_->activate(event::FileReadyType::Write);
}

void Connection::readDisable(bool disable) {
  if (disable) {
    ++read_disable_count_;
    return;
  }
  if (read_disable_count_ == 0)
    return;
  if (--read_disable_count_ == 0 && state_ == State::Open) {
    // Data may already be buffered (the parser paused) or waiting in the kernel.
    if (read_pending_ || !read_buffer_.empty()) {
      read_pending_ = false;
      file_event_->activate(event::FileReadyType::Read);
    }
  }
}

void Connection::closeSocket(ConnectionEvent event) {
  if (state_ == State::Closed)
    return;
  state_ = State::Closed;
  delayed_close_timer_.reset();
  file_event_.reset();
  ::close(fd_);
  fd_ = -1;
  if (callbacks_)
    callbacks_->onEvent(event);
}

} // namespace wasmgate::network
