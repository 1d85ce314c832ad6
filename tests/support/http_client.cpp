#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>

namespace va::test {

using Clock = std::chrono::steady_clock;

nlohmann::json HttpResult::json() const { return nlohmann::json::parse(body, nullptr, false); }

std::vector<std::string> HttpResult::detail_fields() const {
    std::vector<std::string> fields;
    auto parsed = json();
    if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("error")) return fields;
    const auto& details = parsed["error"].value("details", nlohmann::json::array());
    if (!details.is_array()) return fields;
    for (const auto& d : details)
        if (d.is_object() && d.contains("field") && d["field"].is_string()) fields.push_back(d["field"]);
    return fields;
}

bool HttpResult::names_field(const std::string& field) const {
    for (const auto& f : detail_fields())
        if (f == field) return true;
    return false;
}

namespace {

HttpResult convert(const httplib::Result& r) {
    HttpResult out;
    if (!r) return out;
    out.status = r->status;
    out.body = r->body;
    for (const auto& [k, v] : r->headers) {
        std::string name = k;
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == "set-cookie") out.set_cookies.push_back(v);
        out.headers.emplace(name, v);
    }
    return out;
}

}  // namespace

HttpResult Api::raw(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& content_type) const {
    httplib::Client client(m_base);
    client.set_connection_timeout(5, 0);
    // Generous because a login under ASan hashes with Argon2; a hung daemon still fails the test in bounded time.
    client.set_read_timeout(30, 0);
    client.set_write_timeout(10, 0);
    httplib::Headers headers;
    if (!m_token.empty()) headers.emplace("Authorization", "Bearer " + m_token);
    for (const auto& [k, v] : m_extra) headers.emplace(k, v);
    if (method == "GET") return convert(client.Get(path.c_str(), headers));
    if (method == "DELETE") return convert(client.Delete(path.c_str(), headers));
    if (method == "POST") return convert(client.Post(path.c_str(), headers, body, content_type.c_str()));
    if (method == "PUT") return convert(client.Put(path.c_str(), headers, body, content_type.c_str()));
    if (method == "PATCH") return convert(client.Patch(path.c_str(), headers, body, content_type.c_str()));
    // Methods httplib has no helper for go through a hand-built request.
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.headers = headers;
    if (!body.empty()) {
        req.body = body;
        req.headers.emplace("Content-Type", content_type);
    }
    return convert(client.send(req));
}

HttpResult Api::get(const std::string& path) const { return raw("GET", path, "", ""); }
HttpResult Api::del(const std::string& path) const { return raw("DELETE", path, "", ""); }
HttpResult Api::post(const std::string& path, const nlohmann::json& body) const {
    return raw("POST", path, body.dump(), "application/json");
}
HttpResult Api::put(const std::string& path, const nlohmann::json& body) const {
    return raw("PUT", path, body.dump(), "application/json");
}
HttpResult Api::patch(const std::string& path, const nlohmann::json& body) const {
    return raw("PATCH", path, body.dump(), "application/json");
}

RawConnection::RawConnection(int port) {
    m_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(m_fd);
        m_fd = -1;
    }
}

RawConnection::~RawConnection() {
    if (m_fd >= 0) close(m_fd);
}

bool RawConnection::send(const std::string& bytes) {
    if (m_fd < 0) return false;
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(m_fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

std::string RawConnection::read_all(int timeout_ms) {
    std::string out;
    wait_closed(timeout_ms, &out);
    return out;
}

bool RawConnection::wait_closed(int timeout_ms, std::string* received) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (m_fd >= 0 && Clock::now() < deadline) {
        pollfd p{m_fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        char buf[4096];
        ssize_t n = recv(m_fd, buf, sizeof buf, 0);
        if (n <= 0) return true;
        if (received) received->append(buf, static_cast<std::size_t>(n));
    }
    return false;
}

std::string raw_exchange(int port, const std::string& bytes, int timeout_ms) {
    RawConnection c(port);
    c.send(bytes);
    return c.read_all(timeout_ms);
}

}  // namespace va::test
