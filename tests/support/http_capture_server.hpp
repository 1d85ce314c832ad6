// Test support: a small HTTP server on loopback standing in for a service the code under test calls (a webhook
// receiver, a tool's API, a carrier's callback URL, an attacker's URL that must see nothing). It listens on a free
// port of `host`, serves on a thread of its own and records every request before its handler runs; requests no
// route takes are recorded too and answered with the fallback status.
// Thread-safety: routes and the fallback are set on one thread before start(); afterwards port(), url(),
// requests() and count() are safe from any thread, and handlers run on the server's threads. The destructor stops
// the server and joins its thread: a handler the test holds (at a gate) must be released before it runs.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace va::test {

// One request as the server got it.
struct CapturedRequest {
    std::string method, path, body;
    std::multimap<std::string, std::string> headers;  // names as sent
    std::multimap<std::string, std::string> params;   // the query
    // The first value of header `name` (any case); empty when absent.
    std::string header(const std::string& name) const;
};

class HttpCaptureServer {
public:
    using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

    // `host` is the address to listen on: "127.0.0.1", or "::1" for IPv6 loopback.
    explicit HttpCaptureServer(std::string host = "127.0.0.1");
    ~HttpCaptureServer();
    HttpCaptureServer(const HttpCaptureServer&) = delete;
    HttpCaptureServer& operator=(const HttpCaptureServer&) = delete;

    // Before start(): `handler` answers `method` requests whose path matches `pattern` (a regex, as httplib's).
    HttpCaptureServer& route(const std::string& method, const std::string& pattern, Handler handler);
    // Before start(): the status of requests no route takes (404 unless set).
    HttpCaptureServer& otherwise(int status);
    // Binds a free port and returns once the server accepts (httplib's stop() does nothing to a server that is not
    // listening yet, so the destructor could not end one stopped too early).
    HttpCaptureServer& start();

    int port() const { return m_port; }
    // http://host:port followed by `path` (an IPv6 host in brackets).
    std::string url(const std::string& path = "") const;
    // Every request so far, in the order they arrived.
    std::vector<CapturedRequest> requests() const;
    std::size_t count() const;

private:
    void record(const httplib::Request& req);

    std::string m_host;
    httplib::Server m_server;
    int m_fallback_status = 404;
    int m_port = 0;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::vector<CapturedRequest> m_requests;
};

}  // namespace va::test
