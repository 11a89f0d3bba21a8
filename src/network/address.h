#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wasmgate::network {

// An IPv4/IPv6 socket address with its "ip:port" rendering cached (logs, stats, headers).
struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;
  std::string text;    // "1.2.3.4:80" or "[::1]:80"
  std::string ip;      // "1.2.3.4" or "::1"
  uint16_t port = 0;

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// Parses an IP literal (no DNS) and port.
Result<Address> parseIpAddress(std::string_view ip, uint16_t port);
Address fromSockaddr(const sockaddr* sa, socklen_t len);
Address localAddressOf(int fd);
Address peerAddressOf(int fd);

} // namespace wasmgate::network
