#include "daemon/server/response_headers.hpp"

#include <algorithm>

#include "core/util/strings.hpp"

namespace va::http {

namespace {

bool has_header(const Response& response, std::string_view name) {
    return std::any_of(response.headers.begin(), response.headers.end(),
                       [&](const auto& h) { return to_lower(h.first) == to_lower(name); });
}

}  // namespace

const HeaderList& security_headers() {
    // The API serves JSON, audio and text, never pages: nothing may be sniffed, framed, or load anything.
    static const HeaderList headers{
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
        {"X-Frame-Options", "DENY"},
    };
    return headers;
}

void add_security_headers(Response& response) {
    for (const auto& [name, value] : security_headers())
        if (!has_header(response, name)) response.set_header(name, value);
}

bool CorsPolicy::allows(std::string_view origin) const {
    return !origin.empty() && std::find(m_origins.begin(), m_origins.end(), origin) != m_origins.end();
}

std::optional<Response> CorsPolicy::preflight(const Request& request) const {
    if (!enabled() || request.method != "OPTIONS") return std::nullopt;
    auto origin = request.header("origin");
    if (request.header("access-control-request-method").empty() || !allows(origin)) return std::nullopt;
    Response r;
    r.status = 204;
    r.content_type.clear();
    r.set_header("Access-Control-Allow-Origin", std::string(origin));
    r.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
    r.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    r.set_header("Access-Control-Max-Age", "600");
    r.set_header("Vary", "Origin");
    return r;
}

void CorsPolicy::apply(const Request& request, Response& response) const {
    if (!enabled() || has_header(response, "Access-Control-Allow-Origin")) return;
    auto origin = request.header("origin");
    if (allows(origin)) {
        response.set_header("Access-Control-Allow-Origin", std::string(origin));
        response.set_header("Access-Control-Expose-Headers", "Location, Retry-After, WWW-Authenticate");
    }
    // The answer depends on Origin, so caches must not hand one origin's answer to another.
    response.set_header("Vary", "Origin");
}

}  // namespace va::http
