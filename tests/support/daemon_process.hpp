// Test support: runs the real voiceagentd (and vactl) as child processes on loopback with a fresh temporary data
// directory, and a small JSON HTTP client for talking to it. Each DaemonProcess is owned by one test thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace va::test {

using Env = std::map<std::string, std::string>;

class DaemonProcess {
public:
    // Starts voiceagentd on 127.0.0.1:0 with `env` added to the environment and waits (up to 20 s) until it
    // listens. `data_dir` empty means a new temporary directory, removed by the destructor.
    explicit DaemonProcess(std::map<std::string, std::string> env = {}, std::vector<std::string> extra_args = {},
                           std::string data_dir = "");
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    const std::string& base_url() const { return m_base_url; }
    int port() const { return m_port; }
    const std::string& data_dir() const { return m_data_dir; }
    std::string admin_key() const;
    std::string log() const;
    bool alive() const;
    pid_t pid() const { return m_pid; }

    // Sends `signal` and waits up to `timeout_s` for exit; returns the exit status (128+signal if killed).
    int stop(int signal = 15, int timeout_s = 20);

private:
    std::string m_data_dir;
    bool m_own_dir = false;
    std::string m_base_url;
    int m_port = 0;
    pid_t m_pid = -1;
};

struct ProcessResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs a program to completion (killed after `timeout_s`), feeding `input` on stdin.
ProcessResult run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                          const std::string& input = "", int timeout_s = 60);

std::string make_temp_dir(const std::string& prefix);

struct HttpResult {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names lower-cased
    nlohmann::json json() const;                 // parsed body (discarded value when not JSON)
};

// Minimal JSON HTTP client over cpp-httplib (one connection per call).
class Api {
public:
    Api(std::string base_url, std::string token = "") : m_base(std::move(base_url)), m_token(std::move(token)) {}
    Api with_token(std::string token) const { return Api(m_base, std::move(token)); }
    Api with_header(std::string name, std::string value) const {
        Api copy = *this;
        copy.m_extra[std::move(name)] = std::move(value);
        return copy;
    }

    HttpResult get(const std::string& path) const;
    HttpResult del(const std::string& path) const;
    HttpResult post(const std::string& path, const nlohmann::json& body) const;
    HttpResult put(const std::string& path, const nlohmann::json& body) const;
    HttpResult patch(const std::string& path, const nlohmann::json& body) const;
    HttpResult raw(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& content_type) const;

private:
    std::string m_base;
    std::string m_token;
    std::map<std::string, std::string> m_extra;
};

// A raw TCP connection to 127.0.0.1:port, for requests no well-behaved client would send.
class RawConnection {
public:
    explicit RawConnection(int port);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;
    bool connected() const { return m_fd >= 0; }
    void send(const std::string& bytes);
    // What arrives until the peer closes or `timeout_ms` passes.
    std::string read_all(int timeout_ms);

private:
    int m_fd = -1;
};

// Sends raw bytes on a new connection and returns what comes back until the peer closes or `timeout_ms` passes.
std::string raw_exchange(int port, const std::string& bytes, int timeout_ms);

}  // namespace va::test
