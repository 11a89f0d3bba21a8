#pragma once

// The admin HTTP endpoint (Envoy's admin interface), served on the main thread. Each
// endpoint is a handler registered by path; requests are answered and the connection closed.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "event/dispatcher.h"
#include "network/address.h"
#include "network/listener.h"

namespace wasmgate::admin {

struct AdminRequest {
  std::string method;
  std::string path;  // without the query
  std::map<std::string, std::string> query;
};

struct AdminResponse {
  uint32_t status = 200;
  std::string content_type = "text/plain; charset=UTF-8";
  std::string body;
};

using AdminHandler = std::function<AdminResponse(const AdminRequest&)>;

class AdminServer {
public:
  AdminServer(event::Dispatcher& main, std::string access_log_path);
  ~AdminServer();
  // `mutates_state`: the endpoint changes the server, so (as in Envoy) it only answers POST.
  void addHandler(std::string path, std::string help, AdminHandler handler, bool mutates_state = false);
  Status listen(const network::Address& address);
  const network::Address& address() const { return address_; }
  // The list of commands (what an unknown path answers).
  AdminResponse handleForHelp(const AdminRequest& req) { return handle(req); }

private:
  class AdminConnection;
  friend class AdminConnection;
  AdminResponse handle(const AdminRequest& req);
  void remove(AdminConnection* c);

  event::Dispatcher& main_;
  std::string access_log_path_;
  int access_log_fd_ = -1;
  network::Address address_;
  std::unique_ptr<network::TcpListener> listener_;
  struct Entry {
    std::string help;
    AdminHandler handler;
    bool mutates_state = false;
  };
  std::map<std::string, Entry> handlers_;
  std::unordered_map<AdminConnection*, std::unique_ptr<AdminConnection>> connections_;
};

// "a=b&c=%2F" -> {a: b, c: /}
std::map<std::string, std::string> parseQuery(std::string_view q);

} // namespace wasmgate::admin
