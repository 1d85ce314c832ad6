#include "daemon/server/http.hpp"

#include <nlohmann/json.hpp>

#include "core/util/encoding.hpp"

namespace va::http {

std::string_view Request::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return {};
}

std::string_view Request::param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string_view() : std::string_view(it->second);
}

Response error_response(int status, std::string_view code, std::string_view message) {
    using nlohmann::json;
    Response r;
    r.status = status;
    json body{{"error", {{"code", std::string(code)}, {"message", std::string(message)}, {"details", json::array()}}}};
    // Invalid UTF-8 from a client becomes U+FFFD instead of an exception.
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

std::string url_decode(std::string_view text) { return percent_decode(text, true); }

std::unordered_map<std::string, std::string> parse_query(std::string_view query) {
    std::unordered_map<std::string, std::string> out;
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        if (!pair.empty()) {
            auto eq = pair.find('=');
            std::string key = percent_decode(pair.substr(0, eq), true);
            std::string value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
            out[std::move(key)] = std::move(value);
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return out;
}

}  // namespace va::http
