#include "support/http_capture_server.hpp"

#include <chrono>
#include <stdexcept>
#include <strings.h>

namespace va::test {

std::string CapturedRequest::header(const std::string& name) const {
    for (const auto& [k, v] : headers)
        if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    return {};
}

HttpCaptureServer::HttpCaptureServer(std::string host) : m_host(std::move(host)) {}

HttpCaptureServer::~HttpCaptureServer() {
    if (!m_thread.joinable()) return;
    m_server.stop();
    m_thread.join();
}

HttpCaptureServer& HttpCaptureServer::route(const std::string& method, const std::string& pattern, Handler handler) {
    auto recorded = [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        record(req);
        handler(req, res);
    };
    if (method == "GET") m_server.Get(pattern, recorded);
    else if (method == "POST") m_server.Post(pattern, recorded);
    else if (method == "PUT") m_server.Put(pattern, recorded);
    else if (method == "PATCH") m_server.Patch(pattern, recorded);
    else if (method == "DELETE") m_server.Delete(pattern, recorded);
    else if (method == "OPTIONS") m_server.Options(pattern, recorded);
    else throw std::invalid_argument("HttpCaptureServer: no route for method " + method);
    return *this;
}

HttpCaptureServer& HttpCaptureServer::otherwise(int status) {
    m_fallback_status = status;
    return *this;
}

HttpCaptureServer& HttpCaptureServer::start() {
    // Added last: httplib tries routes in the order they were added.
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
        route(method, ".*", [this](const httplib::Request&, httplib::Response& res) { res.status = m_fallback_status; });
    m_port = m_server.bind_to_any_port(m_host);
    if (m_port <= 0) throw std::runtime_error("HttpCaptureServer: cannot listen on " + m_host);
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return *this;
}

std::string HttpCaptureServer::url(const std::string& path) const {
    std::string host = m_host.find(':') != std::string::npos ? "[" + m_host + "]" : m_host;
    return "http://" + host + ":" + std::to_string(m_port) + path;
}

std::vector<CapturedRequest> HttpCaptureServer::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

std::size_t HttpCaptureServer::count() const {
    std::lock_guard lock(m_mutex);
    return m_requests.size();
}

void HttpCaptureServer::record(const httplib::Request& req) {
    CapturedRequest r{req.method, req.path, req.body, {}, {}};
    r.headers.insert(req.headers.begin(), req.headers.end());
    r.params.insert(req.params.begin(), req.params.end());
    std::lock_guard lock(m_mutex);
    m_requests.push_back(std::move(r));
}

}  // namespace va::test
