#include "admin/admin_server.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/logger.h"
#include "http/http1/codec.h"
#include "http/http1/parser.h"
#include "network/connection.h"

namespace wasmgate::admin {

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out.push_back(char(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}
} // namespace

std::map<std::string, std::string> parseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < q.size()) {
    size_t amp = q.find('&', pos);
    if (amp == std::string_view::npos)
      amp = q.size();
    std::string_view kv = q.substr(pos, amp - pos);
    size_t eq = kv.find('=');
    if (!kv.empty()) {
      if (eq == std::string_view::npos)
        out[percentDecode(kv)] = "";
      else
        out[percentDecode(kv.substr(0, eq))] = percentDecode(kv.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return out;
}

class AdminServer::AdminConnection : public network::ConnectionCallbacks,
                                     public event::DeferredDeletable,
                                     private http::http1::ParserCallbacks {
public:
  AdminConnection(AdminServer& parent, network::ConnectionPtr conn)
      : parent_(parent), conn_(std::move(conn)), parser_(http::http1::Parser::Type::Request, *this) {
    conn_->setCallbacks(this);
  }

private:
  void onData(Buffer& data, bool) override {
    if (answered_) {
      data.clear();
      return;
    }
    size_t n = parser_.execute(data.data(), data.size());
    data.drain(n);
    auto e = parser_.error();
    if (e != http::http1::ParseError::None && e != http::http1::ParseError::Paused) {
      AdminResponse r;
      r.status = http::http1::statusForError(e);
      r.body = std::string(http::http1::errorName(e)) + "\n";
      respond(r);
    }
  }
  void onEvent(network::ConnectionEvent e) override {
    if (e != network::ConnectionEvent::Connected)
      parent_.remove(this);
  }
  bool onHeaders(http::HeaderMap&& headers, const http::http1::MessageInfo&) override {
    std::string_view target = headers.path();
    size_t q = target.find('?');
    req_.method = std::string(headers.method());
    req_.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos)
      req_.query = parseQuery(target.substr(q + 1));
    return true;
  }
  void onBody(std::string_view) override {}
  void onTrailers(http::HeaderMap&&) override {}
  bool onMessageComplete() override {
    respond(parent_.handle(req_));
    return false;
  }

  void respond(const AdminResponse& r) {
    answered_ = true;
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + http::http1::reasonPhrase(r.status) +
                      "\r\ncontent-type: " + r.content_type + "\r\ncontent-length: " +
                      std::to_string(r.body.size()) +
                      "\r\ncache-control: no-cache, max-age=0\r\nx-content-type-options: nosniff\r\n"
                      "server: wasmgate\r\nconnection: close\r\n\r\n";
    if (req_.method != "HEAD")
      out += r.body;
    conn_->write(out);
    conn_->close(network::CloseType::FlushWrite);
    if (parent_.access_log_fd_ >= 0) {
      std::string line = "[admin] \"" + req_.method + " " + req_.path + "\" " + std::to_string(r.status) +
                         " " + conn_->remoteAddress().text + "\n";
      ssize_t rc = ::write(parent_.access_log_fd_, line.data(), line.size());
      (void)rc;
    }
  }

  AdminServer& parent_;
  network::ConnectionPtr conn_;
  http::http1::Parser parser_;
  AdminRequest req_;
  bool answered_ = false;
};

AdminServer::AdminServer(event::Dispatcher& main, std::string access_log_path)
    : main_(main), access_log_path_(std::move(access_log_path)) {
  if (!access_log_path_.empty() && access_log_path_ != "/dev/null") {
    access_log_fd_ = ::open(access_log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (access_log_fd_ < 0)
      WG_WARN("admin: cannot open access_log_path '{}'", access_log_path_);
  }
}

AdminServer::~AdminServer() {
  listener_.reset();
  connections_.clear();
  if (access_log_fd_ >= 0)
    ::close(access_log_fd_);
}

void AdminServer::addHandler(std::string path, std::string help, AdminHandler handler,
                             bool mutates_state) {
  handlers_[std::move(path)] = Entry{std::move(help), std::move(handler), mutates_state};
}

Status AdminServer::listen(const network::Address& address) {
  auto fd = network::createListenSocket(address, false);
  if (!fd.ok())
    return Status::error("admin.address: " + fd.error());
  address_ = network::localAddressOf(*fd);
  listener_ = std::make_unique<network::TcpListener>(main_, *fd, [this](int cfd) {
    static uint64_t next_id = 1ull << 50;
    auto conn = network::Connection::createServer(main_, cfd, next_id++);
    auto ac = std::make_unique<AdminConnection>(*this, std::move(conn));
    AdminConnection* raw = ac.get();
    connections_[raw] = std::move(ac);
  });
  return okStatus();
}

void AdminServer::remove(AdminConnection* c) {
  auto it = connections_.find(c);
  if (it != connections_.end()) {
    main_.deferredDelete(std::move(it->second));
    connections_.erase(it);
  }
}

AdminResponse AdminServer::handle(const AdminRequest& req) {
  auto it = handlers_.find(req.path);
  if (it == handlers_.end()) {
    AdminResponse r;
    r.status = 404;
    r.body = "invalid path. admin commands are:\n";
    for (const auto& [p, e] : handlers_)
      r.body += "  " + p + ": " + e.help + "\n";
    return r;
  }
  if (it->second.mutates_state && req.method != "POST") {
    AdminResponse r;
    r.status = 405;
    r.body = "Method Not Allowed: " + req.path + " requires POST\n";
    return r;
  }
  return it->second.handler(req);
}

} // namespace wasmgate::admin
