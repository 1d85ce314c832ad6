// An asynchronous HTTP/1.1 server on loopback for the fakes whose answers stream over time (chat tokens as
// server-sent events, synthesized audio in chunks): one I/O thread serves every connection, and a handler either
// answers at once or starts a chunked body whose pieces it writes later from timers on that thread. No thread
// waits per request, so one process holds hundreds of streams at a real service's pace. Blocking work (espeak-ng)
// runs on a small pool and comes back to the I/O thread. The request read loop keeps running while an answer
// streams, so a client that hangs up is seen at once (the answer's timers stop, its close callbacks run).
// Thread-safety: routes are added before start(); handlers and every StreamReply method run on the I/O thread
// (the callbacks given to after/at/blocking are called there too); port() is safe from any thread after start().
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace va::fake {

struct StreamRequest {
    std::string method, target, path, body;
    std::map<std::string, std::string> query;    // decoded
    std::map<std::string, std::string> headers;  // names lower-cased
    std::vector<std::string> matches;            // the route pattern's captures
    std::string header(const std::string& lower_name) const;
    std::string param(const std::string& name) const;
    bool has_param(const std::string& name) const { return query.count(name) > 0; }
};

using StreamHeaders = std::vector<std::pair<std::string, std::string>>;

class StreamReply {
public:
    virtual ~StreamReply() = default;
    // A whole answer with a Content-Length.
    virtual void send(int status, const std::string& content_type, std::string body, StreamHeaders extra = {}) = 0;
    // Starts a chunked answer (status and headers go out now); then write() pieces and end() it.
    virtual void begin(int status, const std::string& content_type, StreamHeaders extra = {}) = 0;
    virtual void write(std::string piece) = 0;
    virtual void end() = 0;
    // Ends the connection in the middle of the answer, as a failing service does.
    virtual void drop() = 0;
    // Runs `fn` after `ms` (or at `when`) on the I/O thread, unless the answer is over by then.
    virtual void after(int ms, std::function<void()> fn) = 0;
    virtual void at(std::chrono::steady_clock::time_point when, std::function<void()> fn) = 0;
    // Runs `work` on the blocking pool, then `then` on the I/O thread (unless the answer is over).
    virtual void blocking(std::function<void()> work, std::function<void()> then) = 0;
    // The answer is over: ended, dropped, or the client went away.
    virtual bool closed() const = 0;
    // Called once when the answer is over, however it ends.
    virtual void on_close(std::function<void()> fn) = 0;
};

using StreamHandler = std::function<void(const StreamRequest&, std::shared_ptr<StreamReply>)>;

class StreamServer {
public:
    StreamServer();
    ~StreamServer();  // stops and joins
    StreamServer(const StreamServer&) = delete;
    StreamServer& operator=(const StreamServer&) = delete;

    // `path_pattern` is a regular expression over the whole path; its groups become StreamRequest::matches.
    void route(std::string method, std::string path_pattern, StreamHandler handler);
    // Listens on 127.0.0.1:`port` (0: any) and serves on a thread of its own; throws when it cannot bind.
    void start(int port);
    int port() const { return m_port; }

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
    int m_port = 0;
};

}  // namespace va::fake
