#include "daemon/api/auth_cookie.hpp"

#include "core/util/strings.hpp"

namespace va::api {

namespace {

std::string cookie(std::string_view value, int max_age_s, bool secure) {
    std::string out = std::string(kRefreshCookie) + "=" + std::string(value) +
                      "; HttpOnly; SameSite=Strict; Path=/api/v1/auth; Max-Age=" + std::to_string(max_age_s);
    if (secure) out += "; Secure";
    return out;
}

}  // namespace

Result<bool> console_mode(const http::Request& request) {
    bool present = false;
    for (const auto& [name, value] : request.headers) {
        if (name != kConsoleHeader) continue;
        if (trim_blanks(value) != "1") return invalid_field("X-Voiceagent-Console", "must be 1 (the web console's sign-in)");
        present = true;
    }
    if (!present) return false;
    auto origin = request.header("origin");
    if (!origin.empty() && to_lower(origin) != own_origin(request))
        return make_error(ErrorCode::forbidden,
                          "cross-origin request refused: the console's sign-in only answers pages of this daemon");
    return true;
}

std::string own_origin(const http::Request& request) {
    return std::string(request.secure ? "https://" : "http://") + to_lower(request.header("host"));
}

std::optional<std::string> request_cookie(const http::Request& request, std::string_view name) {
    for (const auto& [header, value] : request.headers) {
        if (header != "cookie") continue;
        std::string_view rest = value;
        while (!rest.empty()) {
            auto semi = rest.find(';');
            auto pair = trim_blanks(rest.substr(0, semi));
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
            auto eq = pair.find('=');
            if (eq == std::string_view::npos || trim_blanks(pair.substr(0, eq)) != name) continue;
            auto found = trim_blanks(pair.substr(eq + 1));
            if (found.size() >= 2 && found.front() == '"' && found.back() == '"') found = found.substr(1, found.size() - 2);
            if (!found.empty()) return std::string(found);
        }
    }
    return std::nullopt;
}

void set_session_cookies(http::Response& response, std::string_view token, int max_age_s, bool secure) {
    response.set_header("Set-Cookie", cookie(token, max_age_s, secure));
    response.set_header("Set-Cookie", std::string(kSessionMarkerCookie) + "=" + (max_age_s > 0 ? "1" : "") +
                                          "; SameSite=Strict; Path=/; Max-Age=" + std::to_string(max_age_s) +
                                          (secure ? "; Secure" : ""));
}

void clear_session_cookies(http::Response& response, bool secure) { set_session_cookies(response, "", 0, secure); }

}  // namespace va::api
