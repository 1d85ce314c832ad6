// Test support: a small JSON HTTP client over cpp-httplib for talking to a daemon under test, and raw TCP
// connections for requests no well-behaved client would send. Api is an immutable value (copies are independent);
// each call opens its own connection, so one Api may be used from several threads. RawConnection is single-owner.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace va::test {

struct HttpResult {
    int status = 0;  // 0 when no answer arrived (connection refused, reset or timed out)
    std::string body;
    std::map<std::string, std::string> headers;  // names lower-cased; the first value of a repeated header
    std::vector<std::string> set_cookies;         // every Set-Cookie, in order
    // The parsed body; a discarded value (is_discarded()) when it is not JSON.
    nlohmann::json json() const;
    // The `field` of every error detail, for asserting that an error names the fields it should.
    std::vector<std::string> detail_fields() const;
    bool names_field(const std::string& field) const;
};

class Api {
public:
    explicit Api(std::string base_url, std::string token = "")
        : m_base(std::move(base_url)), m_token(std::move(token)) {}

    Api with_token(std::string token) const {
        Api copy = *this;
        copy.m_token = std::move(token);
        return copy;
    }
    Api with_header(std::string name, std::string value) const {
        Api copy = *this;
        copy.m_extra[std::move(name)] = std::move(value);
        return copy;
    }
    const std::string& base_url() const { return m_base; }

    HttpResult get(const std::string& path) const;
    HttpResult del(const std::string& path) const;
    HttpResult post(const std::string& path, const nlohmann::json& body) const;
    HttpResult put(const std::string& path, const nlohmann::json& body) const;
    HttpResult patch(const std::string& path, const nlohmann::json& body) const;
    // Any method with a body sent as is (GET and DELETE send no body).
    HttpResult raw(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& content_type) const;

private:
    std::string m_base;
    std::string m_token;
    std::map<std::string, std::string> m_extra;
};

// A raw TCP connection to 127.0.0.1:port.
class RawConnection {
public:
    explicit RawConnection(int port);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return m_fd >= 0; }
    // False when the peer has already closed or reset the connection.
    bool send(const std::string& bytes);
    // What arrives until the peer closes or `timeout_ms` passes.
    std::string read_all(int timeout_ms);
    // Whether the peer closed (EOF or reset) within `timeout_ms`; anything it sent first is appended to `received`.
    bool wait_closed(int timeout_ms, std::string* received = nullptr);

private:
    int m_fd = -1;
};

// Sends raw bytes on a new connection and returns what comes back until the peer closes or `timeout_ms` passes.
std::string raw_exchange(int port, const std::string& bytes, int timeout_ms);

}  // namespace va::test
