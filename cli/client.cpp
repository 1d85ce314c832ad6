#include "cli/client.hpp"

#include <httplib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace va::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
    return s;
}

// Host part of "http://host:port[/...]" ("[::1]" keeps its brackets off).
std::string host_of(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto rest = url.substr(start);
    if (!rest.empty() && rest.front() == '[') return rest.substr(1, rest.find(']') - 1);
    return rest.substr(0, rest.find_first_of(":/"));
}

bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string read_first_line(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    if (in && std::getline(in, line)) return trim(line);
    return "";
}

}  // namespace

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

std::string Settings::path() {
    std::string base = env("XDG_CONFIG_HOME");
    if (base.empty()) base = env("HOME") + "/.config";
    return base + "/vactl/config.json";
}

Settings Settings::load() {
    Settings s;
    std::ifstream in(path());
    if (!in) return s;
    json j = json::parse(in, nullptr, false);
    if (!j.is_object()) return s;
    s.server = j.value("server", "");
    s.access_token = j.value("access_token", "");
    s.refresh_token = j.value("refresh_token", "");
    s.email = j.value("email", "");
    return s;
}

void Settings::save() const {
    fs::path file = path();
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    ::chmod(file.parent_path().c_str(), 0700);
    json j{{"server", server}, {"access_token", access_token}, {"refresh_token", refresh_token}, {"email", email}};
    fs::path tmp = file;
    tmp += ".tmp";
    mode_t old = ::umask(077);
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << j.dump(2) << "\n";
        if (!out) {
            ::umask(old);
            throw CliError(kError, "cannot write " + tmp.string());
        }
    }
    ::umask(old);
    ::chmod(tmp.c_str(), 0600);
    fs::rename(tmp, file, ec);
    if (ec) throw CliError(kError, "cannot write " + file.string() + ": " + ec.message());
}

Client::Client(const GlobalOptions& options) : m_flag_token(options.token), m_settings(Settings::load()) {
    if (options.output != "table" && options.output != "json")
        throw CliError(kUsage, "--output must be table or json");
    m_json = options.output == "json";
    m_server = options.server;
    if (m_server.empty()) m_server = env("VACTL_SERVER");
    if (m_server.empty()) m_server = m_settings.server;
    if (m_server.empty()) m_server = "http://127.0.0.1:8700";
    while (!m_server.empty() && m_server.back() == '/') m_server.pop_back();
    if (m_server.find("://") == std::string::npos) m_server = "http://" + m_server;
}

std::string Client::resolve_token() {
    if (!m_flag_token.empty()) {
        m_token_source = "flag";
        return m_flag_token;
    }
    if (auto t = env("VACTL_TOKEN"); !t.empty()) {
        m_token_source = "env";
        return t;
    }
    if (!m_settings.access_token.empty() && (m_settings.server.empty() || m_settings.server == m_server)) {
        m_token_source = "settings";
        return m_settings.access_token;
    }
    // Quick start: a daemon on this machine wrote its owner key next to its data; use it when readable.
    if (is_loopback(host_of(m_server))) {
        std::vector<fs::path> candidates;
        if (auto dir = env("VOICEAGENT_DATA_DIR"); !dir.empty()) candidates.emplace_back(fs::path(dir) / "admin.key");
        if (auto dir = env("VOICEAGENT_STORAGE_DATA_DIR"); !dir.empty())
            candidates.emplace_back(fs::path(dir) / "admin.key");
        candidates.emplace_back(fs::path("var") / "admin.key");
        for (const auto& c : candidates) {
            auto key = read_first_line(c);
            if (!key.empty()) {
                m_token_source = "admin.key";
                return key;
            }
        }
    }
    m_token_source.clear();
    return "";
}

std::string Client::token() {
    std::string token = resolve_token();
    if (token.empty())
        throw CliError(kAuth, "not logged in: run `vactl login`, pass --token, or run vactl from the daemon's "
                              "directory so it can read var/admin.key");
    return token;
}

bool Client::try_refresh() {
    if (m_token_source != "settings" || m_settings.refresh_token.empty()) return false;
    try {
        json tokens = request("POST", "/api/v1/auth/refresh", json{{"refresh_token", m_settings.refresh_token}}, false);
        m_settings.access_token = tokens.value("access_token", "");
        m_settings.refresh_token = tokens.value("refresh_token", "");
        m_settings.save();
        return true;
    } catch (const CliError&) {
        return false;
    }
}

json Client::request(const std::string& method, const std::string& path, const std::optional<json>& body, bool auth) {
    httplib::Client http(m_server);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(60, 0);
    http.set_write_timeout(30, 0);
    httplib::Headers headers;
    if (auth) headers.emplace("Authorization", "Bearer " + token());
    std::string payload = body ? body->dump() : std::string();
    httplib::Result result = [&] {
        if (method == "GET") return http.Get(path, headers);
        if (method == "DELETE") return http.Delete(path, headers);
        if (method == "POST") return http.Post(path, headers, payload, "application/json");
        if (method == "PUT") return http.Put(path, headers, payload, "application/json");
        return http.Patch(path, headers, payload, "application/json");
    }();
    if (!result)
        throw CliError(kError, "cannot reach server at " + m_server + ": " + httplib::to_string(result.error()));
    int status = result->status;
    json parsed = result->body.empty() ? json(nullptr) : json::parse(result->body, nullptr, false);
    if (status >= 200 && status < 300) return parsed.is_discarded() ? json(nullptr) : parsed;

    if (status == 401 && auth && try_refresh()) return request(method, path, body, auth);
    std::string message = "HTTP " + std::to_string(status);
    if (!parsed.is_discarded() && parsed.is_object() && parsed.contains("error") && parsed["error"].is_object())
        message = parsed["error"].value("message", message);
    int code = status == 401 || status == 403 ? kAuth : status == 404 ? kNotFound : kError;
    throw CliError(code, message, parsed.is_discarded() ? json(nullptr) : parsed);
}

}  // namespace va::cli
