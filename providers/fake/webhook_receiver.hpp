// A webhook endpoint for tests and `va-fake webhook-receiver`: an HTTP server on 127.0.0.1 that takes a POST on any
// path, checks the daemon's X-Voiceagent-Signature (t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>) against a
// secret read from a file at each request (so the file may be written after the receiver starts, as a test does
// once it has created the endpoint), fails the first N requests with 500 so retries can be seen, and records each
// delivery. verify_voiceagent_signature is the check on its own.
// Thread-safety: verify_voiceagent_signature is a pure function. WebhookReceiver's methods are safe from any
// thread; its callback runs on the server's threads, possibly several at once.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace va::fake {

// True when `header` carries a v1 signature of `t + "." + body` under `secret` and `t` is within `tolerance_s` of
// `now_unix_s` (either way: clocks differ). Compared in constant time; a malformed header is simply false.
bool verify_voiceagent_signature(std::string_view secret, std::string_view header, std::string_view body,
                                 std::int64_t now_unix_s, std::int64_t tolerance_s = 300);

class WebhookReceiver {
public:
    struct Options {
        int port = 0;              // 0: any free port
        std::string secret_file;   // empty, missing or empty file: signatures are "unchecked"
        int fail_first = 0;        // answer 500 to this many requests first
        int tolerance_s = 300;     // how old (or new) a signature's t may be
    };
    struct Delivery {
        std::string path;
        std::string event;       // X-Voiceagent-Event
        std::string delivery;    // X-Voiceagent-Delivery
        std::string signature;   // valid | invalid | unchecked
        int status = 0;          // what the receiver answered
        nlohmann::json body;     // the parsed body, or the raw text when it is not JSON
    };

    // `on_delivery` (optional) is called for each request once its answer is decided.
    explicit WebhookReceiver(Options options, std::function<void(const Delivery&)> on_delivery = {});
    ~WebhookReceiver();
    WebhookReceiver(const WebhookReceiver&) = delete;
    WebhookReceiver& operator=(const WebhookReceiver&) = delete;

    int port() const { return m_port; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    std::vector<Delivery> deliveries() const;

private:
    Options m_options;
    std::function<void(const Delivery&)> m_on_delivery;
    httplib::Server m_server;
    std::thread m_thread;
    int m_port = 0;
    mutable std::mutex m_mutex;
    int m_requests = 0;
    std::vector<Delivery> m_deliveries;
};

// One line of `va-fake webhook-receiver` output.
nlohmann::json to_json(const WebhookReceiver::Delivery& delivery);

}  // namespace va::fake
