// Headers every answer carries, and CORS. Security headers (nosniff, no referrer, a deny-all Content-Security-Policy,
// no framing) go on every response, errors included; a handler's own value for one of them wins. CORS is off unless
// origins are configured (server.cors_origins): then only a listed Origin is echoed (never "*", no credentials), a
// preflight from a listed origin is answered 204, and responses say Vary: Origin.
// Thread-safety: pure functions; a CorsPolicy is immutable after construction and safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/server/http.hpp"

namespace va::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The security headers, for adding to any response (also the WebSocket 101).
const HeaderList& security_headers();

// Adds each security header that `response` does not already set.
void add_security_headers(Response& response);

class CorsPolicy {
public:
    explicit CorsPolicy(std::vector<std::string> origins = {}) : m_origins(std::move(origins)) {}

    bool enabled() const { return !m_origins.empty(); }
    bool allows(std::string_view origin) const;
    // The 204 answer to a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) from a listed
    // origin; nothing for any other request, which is then routed as usual.
    std::optional<Response> preflight(const Request& request) const;
    // Adds Access-Control-Allow-Origin for a listed Origin, and Vary: Origin whenever CORS is on.
    void apply(const Request& request, Response& response) const;

private:
    std::vector<std::string> m_origins;
};

}  // namespace va::http
