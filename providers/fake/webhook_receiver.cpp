#include "providers/fake/webhook_receiver.hpp"

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/fake/fake_server.hpp"

namespace va::fake {

using nlohmann::json;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string_view s) {
    auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

// The secret as it is in the file now; empty when there is no file yet. A trailing newline (echo > file) is not
// part of it.
std::string read_secret(const std::string& path) {
    if (path.empty()) return {};
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    return trim(text.str());
}

}  // namespace

bool verify_voiceagent_signature(std::string_view secret, std::string_view header, std::string_view body,
                                 std::int64_t now_unix_s, std::int64_t tolerance_s) {
    std::string t;
    std::vector<std::string> signatures;
    // "t=...,v1=..." and, as with other schemes of this shape, possibly several v1 entries during a secret rotation.
    std::size_t at = 0;
    while (at <= header.size()) {
        auto comma = header.find(',', at);
        std::string_view part = header.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
        std::string item = trim(part);
        auto eq = item.find('=');
        if (eq != std::string::npos) {
            std::string key = item.substr(0, eq), value = item.substr(eq + 1);
            if (key == "t") t = value;
            else if (key == "v1") signatures.push_back(lower(value));
        }
        if (comma == std::string_view::npos) break;
        at = comma + 1;
    }
    if (t.empty() || t.size() > 18 || signatures.empty() || t.find_first_not_of("0123456789") != std::string::npos)
        return false;
    std::int64_t signed_at = std::stoll(t);
    if (signed_at < now_unix_s - tolerance_s || signed_at > now_unix_s + tolerance_s) return false;
    std::string expected = hex_encode(hmac_sha256(secret, t + "." + std::string(body)));
    bool match = false;
    for (const auto& s : signatures) match |= constant_time_equal(s, expected);  // no early exit: constant time
    return match;
}

WebhookReceiver::WebhookReceiver(Options options, std::function<void(const Delivery&)> on_delivery)
    : m_options(std::move(options)), m_on_delivery(std::move(on_delivery)) {
    m_server.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
        Delivery d;
        d.path = req.path;
        d.event = req.get_header_value("X-Voiceagent-Event");
        d.delivery = req.get_header_value("X-Voiceagent-Delivery");
        std::string secret = read_secret(m_options.secret_file);
        if (secret.empty()) {
            d.signature = "unchecked";
        } else {
            auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
            d.signature = verify_voiceagent_signature(secret, req.get_header_value("X-Voiceagent-Signature"), req.body,
                                                      now, m_options.tolerance_s)
                              ? "valid"
                              : "invalid";
        }
        d.body = parse_json(req.body);
        if (d.body.is_discarded()) d.body = req.body;
        {
            std::lock_guard lock(m_mutex);
            d.status = ++m_requests <= m_options.fail_first ? 500 : 200;
            m_deliveries.push_back(d);
        }
        // Reported before answering, so whoever reads the report sees the request before the sender sees the answer.
        if (m_on_delivery) m_on_delivery(d);
        res.status = d.status;
        res.set_content(d.status == 200 ? R"({"ok":true})" : R"({"error":"failing on purpose"})", "application/json");
    });
    m_port = m_options.port ? (m_server.bind_to_port("127.0.0.1", m_options.port) ? m_options.port : -1)
                            : m_server.bind_to_any_port("127.0.0.1");
    if (m_port <= 0)
        throw std::runtime_error("webhook receiver cannot listen on 127.0.0.1:" + std::to_string(m_options.port));
    serve_in_background(m_server, m_thread);
}

WebhookReceiver::~WebhookReceiver() {
    m_server.stop();
    if (m_thread.joinable()) m_thread.join();
}

std::vector<WebhookReceiver::Delivery> WebhookReceiver::deliveries() const {
    std::lock_guard lock(m_mutex);
    return m_deliveries;
}

json to_json(const WebhookReceiver::Delivery& d) {
    return {{"event", d.event}, {"delivery", d.delivery}, {"signature", d.signature},
            {"status", d.status}, {"path", d.path},         {"body", d.body}};
}

}  // namespace va::fake
