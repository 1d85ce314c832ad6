#include "cli/client.hpp"
#include "core/util/json.hpp"
#include "core/util/strings.hpp"

#include <httplib.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/util/daemon_announce.hpp"

namespace va::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string trim(const std::string& s) {
    auto begin = s.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return "";
    return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// Host of "scheme://host[:port][/...]"; an IPv6 literal loses its brackets.
std::string host_of(const std::string& url) {
    auto start = url.find("://");
    std::string rest = start == std::string::npos ? url : url.substr(start + 3);
    if (!rest.empty() && rest.front() == '[') return rest.substr(1, rest.find(']') - 1);
    return rest.substr(0, rest.find_first_of(":/"));
}

// Port of "scheme://host[:port][/...]": the scheme's default when none is given; 0 when unreadable.
int port_of(const std::string& url) {
    auto start = url.find("://");
    std::string rest = start == std::string::npos ? url : url.substr(start + 3);
    rest = rest.substr(0, rest.find('/'));
    auto bracket = rest.rfind(']');
    auto colon = rest.rfind(':');
    if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket))
        return url.rfind("https://", 0) == 0 ? 443 : 80;
    try {
        return std::stoi(rest.substr(colon + 1));
    } catch (...) {
        return 0;
    }
}

}  // namespace

int exit_code_for_status(int status) {
    if (status >= 200 && status < 300) return kOk;
    if (status == 401 || status == 403) return kAuth;
    if (status == 404) return kNotFound;
    return kError;
}

CliError error_for_response(const Response& response) {
    std::string message = "HTTP " + std::to_string(response.status);
    const json& body = response.body;
    if (body.is_object() && body.contains("error") && body["error"].is_object() &&
        body["error"].contains("message") && body["error"]["message"].is_string())
        message = body["error"]["message"].get<std::string>();
    return CliError(exit_code_for_status(response.status), message, body);
}

std::string resolve_server(const std::string& flag, const Settings& settings) {
    std::string server = flag;
    if (server.empty()) server = env_or_empty("VACTL_SERVER");
    if (server.empty()) server = settings.server;
    if (server.empty()) server = "http://127.0.0.1:8700";
    while (!server.empty() && server.back() == '/') server.pop_back();
    if (server.find("://") == std::string::npos) server = "http://" + server;
    return server;
}

bool is_loopback_url(const std::string& url) {
    std::string host = host_of(url);
    return host == "localhost" || host == "::1" || host == "127.0.0.1";
}

std::string read_admin_key(const std::string& server) {
    std::vector<fs::path> candidates;
    if (auto dir = env_or_empty("VOICEAGENT_DATA_DIR"); !dir.empty()) candidates.emplace_back(fs::path(dir) / "admin.key");
    // The daemon's own override of storage.data_dir (config/voiceagentd.example.toml).
    if (auto dir = env_or_empty("VOICEAGENT_STORAGE_DATA_DIR"); !dir.empty()) candidates.emplace_back(fs::path(dir) / "admin.key");
    if (candidates.empty()) {
        if (auto port = port_of(server); port > 0)
            if (auto announced = read_announcement(port)) candidates.emplace_back(fs::path(announced->data_dir) / "admin.key");
    }
    for (const auto& candidate : candidates) {
        std::ifstream in(candidate);
        if (!in) continue;
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string key = trim(content);
        if (!key.empty()) return key;
    }
    return "";
}

std::string url_encode(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

Client::Client(const GlobalOptions& options) : m_flag_token(options.token), m_settings(Settings::load()) {
    if (options.output != "table" && options.output != "json")
        throw CliError(kUsage, "--output must be table or json");
    m_json = options.output == "json";
    m_server = resolve_server(options.server, m_settings);
}

std::string Client::token() {
    if (!m_flag_token.empty()) {
        m_token_source = "flag";
        return m_flag_token;
    }
    if (auto t = env_or_empty("VACTL_TOKEN"); !t.empty()) {
        m_token_source = "env";
        return t;
    }
    // A saved token belongs to the server it was issued by: never send it elsewhere.
    if (!m_settings.access_token.empty() &&
        (m_settings.server.empty() || resolve_server(m_settings.server, {}) == m_server)) {
        m_token_source = "settings";
        return m_settings.access_token;
    }
    // The quick start: a daemon on this machine wrote its owner key into its data directory.
    if (is_loopback_url(m_server)) {
        if (auto key = read_admin_key(m_server); !key.empty()) {
            m_token_source = "admin.key";
            return key;
        }
    }
    m_token_source.clear();
    throw CliError(kAuth, "not logged in: run `vactl login`, pass --token or set VACTL_TOKEN (on the daemon's "
                          "machine, its admin.key is used when it runs as you, or set VOICEAGENT_DATA_DIR)");
}

Result<Response> Client::exchange(const std::string& method, const std::string& path,
                                  const std::optional<Payload>& body, const std::string& token) {
    if (method != "GET" && method != "DELETE" && method != "POST" && method != "PUT" && method != "PATCH")
        return make_error(ErrorCode::internal, "unsupported method " + method);
    httplib::Client http(m_server);
    if (!http.is_valid()) return make_error(ErrorCode::invalid_request, "invalid server URL " + m_server);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(60, 0);
    http.set_write_timeout(30, 0);
    httplib::Headers headers{{"Accept", "application/json"}};
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    std::string payload = body ? body->text : std::string();
    const char* type = body ? body->content_type.c_str() : "application/json";
    auto result = [&]() -> httplib::Result {
        if (method == "GET") return http.Get(path.c_str(), headers);
        if (method == "DELETE") return http.Delete(path.c_str(), headers);
        if (method == "POST") return http.Post(path.c_str(), headers, payload, type);
        if (method == "PUT") return http.Put(path.c_str(), headers, payload, type);
        return http.Patch(path.c_str(), headers, payload, type);
    }();
    if (!result)
        return make_error(ErrorCode::unavailable,
                          "cannot reach server at " + m_server + ": " + httplib::to_string(result.error()));
    Response response{result->status, nullptr};
    if (!result->body.empty()) {
        json parsed = parse_json(result->body);
        if (!parsed.is_discarded()) response.body = std::move(parsed);
    }
    return response;
}

bool Client::refresh() {
    if (m_refreshed || m_token_source != "settings" || m_settings.refresh_token.empty()) return false;
    m_refreshed = true;
    auto answer = exchange("POST", "/api/v1/auth/refresh", json_payload(json{{"refresh_token", m_settings.refresh_token}}), "");
    if (!answer || answer->status != 200 || !answer->body.is_object()) return false;
    m_settings.access_token = answer->body.value("access_token", "");
    m_settings.refresh_token = answer->body.value("refresh_token", "");
    // The old refresh token is now spent, so failing to save is worth saying, but this request can still go on.
    if (auto saved = m_settings.save(); !saved) std::fprintf(stderr, "warning: %s\n", saved.error().message.c_str());
    return !m_settings.access_token.empty();
}

std::optional<Client::Payload> Client::json_payload(const std::optional<json>& body) {
    if (!body) return std::nullopt;
    return Payload{body->dump()};
}

Result<Response> Client::send(const std::string& method, const std::string& path, const std::optional<json>& body,
                              Auth auth) {
    return send_payload(method, path, json_payload(body), auth);
}

Result<Response> Client::send_payload(const std::string& method, const std::string& path,
                                      const std::optional<Payload>& body, Auth auth) {
    std::string credential = auth == Auth::token ? token() : std::string();
    auto answer = exchange(method, path, body, credential);
    if (answer && answer->status == 401 && auth == Auth::token && refresh())
        answer = exchange(method, path, body, token());
    return answer;
}

json Client::checked(Result<Response> answer) {
    if (!answer) throw CliError(kError, answer.error().message);
    if (answer->status < 200 || answer->status >= 300) throw error_for_response(*answer);
    return answer->body;
}

json Client::request(const std::string& method, const std::string& path, const std::optional<json>& body, Auth auth) {
    return checked(send(method, path, body, auth));
}

json Client::request_text(const std::string& method, const std::string& path, const std::string& text,
                          const std::string& content_type) {
    return checked(send_payload(method, path, Payload{text, content_type}, Auth::token));
}

}  // namespace va::cli
