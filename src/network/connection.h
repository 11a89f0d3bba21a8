#pragma once

// A non-blocking TCP connection driven by a worker's dispatcher, used for both downstream
// (accepted) and upstream (connecting) sides. Reads go to a Buffer handed to the callbacks;
// writes are queued and flushed once per loop pass so a response's header and body leave in
// one syscall. Write-buffer watermarks tell the owner to stop producing (back-pressure).

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/buffer.h"
#include "event/dispatcher.h"
#include "network/address.h"

namespace wasmgate::network {

enum class ConnectionEvent { RemoteClose, LocalClose, Connected };
enum class CloseType {
  FlushWrite,         // send what is queued, then close
  NoFlush,            // close now (RST if unread data)
  FlushWriteAndDelay, // send, half-close, drain the peer briefly so our last bytes arrive
};

class ConnectionCallbacks {
public:
  virtual ~ConnectionCallbacks() = default;
  // New bytes are in `data`; consume what you can (drain it). `end_stream`: the peer closed.
  virtual void onData(Buffer& data, bool end_stream) = 0;
  virtual void onEvent(ConnectionEvent event) = 0;
  virtual void onAboveWriteBufferHighWatermark() {}
  virtual void onBelowWriteBufferLowWatermark() {}
};

class Connection : public event::DeferredDeletable {
public:
  enum class State { Connecting, Open, Closing, Closed };

  // Takes ownership of an accepted, non-blocking fd.
  static std::unique_ptr<Connection> createServer(event::Dispatcher& d, int fd, uint64_t id);
  // Starts a non-blocking connect; failure is reported as RemoteClose before Connected.
  static std::unique_ptr<Connection> createClient(event::Dispatcher& d, const Address& to, uint64_t id);
  ~Connection() override;

  void setCallbacks(ConnectionCallbacks* cb) { callbacks_ = cb; }
  void write(std::string_view data);
  void write(Buffer& data); // drains `data`
  void close(CloseType type);
  // Stops/starts reading from the socket (counted: nested disables need as many enables).
  void readDisable(bool disable);
  bool readEnabled() const { return read_disable_count_ == 0; }
  // Hands already-buffered input to onData() again on the next loop pass (after the owner
  // paused parsing, e.g. between pipelined requests).
  void redeliverBufferedData() { file_event_ ? file_event_->activate(event::FileReadyType::Read) : void(); }
  void setBufferLimits(uint32_t limit) { buffer_limit_ = limit; }
  // Half-close (TCP proxying): the peer's FIN arrives as onData(end_stream=true) but the
  // connection stays open for writing until shutdownWrite(); it closes once both directions
  // are done. Without it, a FIN closes the connection.
  void enableHalfClose() { half_close_ = true; }
  // Sends our FIN once the queued bytes are out (half-close mode).
  void shutdownWrite();
  bool readClosed() const { return read_closed_; }
  uint32_t bufferLimit() const { return buffer_limit_; }
  size_t writeBufferSize() const { return write_buffer_.size(); }
  bool aboveHighWatermark() const { return above_high_watermark_; }

  State state() const { return state_; }
  uint64_t id() const { return id_; }
  const Address& remoteAddress() const { return remote_; }
  const Address& localAddress() const { return local_; }
  event::Dispatcher& dispatcher() { return dispatcher_; }
  // Why a client connect failed ("connection refused", ...), for logs and response details.
  const std::string& transportFailureReason() const { return failure_reason_; }
  uint64_t bytesReceived() const { return bytes_received_; }
  uint64_t bytesSent() const { return bytes_sent_; }

private:
  Connection(event::Dispatcher& d, int fd, uint64_t id, State initial);
  void onFileEvent(uint32_t events);
  // `hangup`: the peer's FIN (or an error) came with this event.
  void onReadReady(bool hangup = false);
  void onWriteReady();
  void closeSocket(ConnectionEvent event);
  void checkLowWatermark();
  void doShutdownWrite();

  event::Dispatcher& dispatcher_;
  int fd_;
  uint64_t id_;
  State state_;
  std::unique_ptr<event::FileEvent> file_event_;
  ConnectionCallbacks* callbacks_ = nullptr;
  Buffer read_buffer_;
  Buffer write_buffer_;
  Address remote_;
  Address local_;
  uint32_t buffer_limit_ = 1024 * 1024;
  uint32_t read_disable_count_ = 0;
  bool above_high_watermark_ = false;
  bool read_pending_ = false;    // readable edge seen while reading was disabled
  bool delayed_close_ = false;   // FlushWriteAndDelay in progress
  bool in_write_ = false;
  bool half_close_ = false;
  bool read_closed_ = false;              // the peer's FIN was delivered (half-close mode)
  bool write_shutdown_requested_ = false; // shutdownWrite() waiting for the queue to drain
  bool write_closed_ = false;             // our FIN was sent
  std::string failure_reason_;
  event::TimerPtr delayed_close_timer_;
  uint64_t bytes_received_ = 0;
  uint64_t bytes_sent_ = 0;
};
using ConnectionPtr = std::unique_ptr<Connection>;

} // namespace wasmgate::network
