#include "network/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace wasmgate::network {

Address fromSockaddr(const sockaddr* sa, socklen_t len) {
  Address a;
  std::memcpy(&a.storage, sa, std::min<size_t>(len, sizeof(a.storage)));
  a.len = len;
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    a.port = ntohs(in->sin_port);
    a.ip = buf;
    a.text = a.ip + ":" + std::to_string(a.port);
  } else if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
    a.port = ntohs(in6->sin6_port);
    a.ip = buf;
    a.text = "[" + a.ip + "]:" + std::to_string(a.port);
  }
  return a;
}

Result<Address> parseIpAddress(std::string_view ip, uint16_t port) {
  std::string s(ip);
  sockaddr_storage ss{};
  if (!s.empty() && s.front() == '[' && s.back() == ']')
    s = s.substr(1, s.size() - 2);
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  if (inet_pton(AF_INET, s.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    return fromSockaddr(reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in));
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET6, s.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    return fromSockaddr(reinterpret_cast<sockaddr*>(&ss), sizeof(sockaddr_in6));
  }
  return Status::error("'" + std::string(ip) + "' is not an IP address");
}

Address localAddressOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

Address peerAddressOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

} // namespace wasmgate::network
