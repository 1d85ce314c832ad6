// Routes requests by method and path pattern ("/api/v1/agents/{id}") to handlers. Patterns are matched segment by
// segment; "{name}" captures one segment. A route may ask to run on the worker pool (slow work such as password
// hashing) instead of the I/O thread.
// Thread-safety: routes are added before the server starts; match() is then read-only and safe from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/server/http.hpp"
#include "daemon/server/websocket.hpp"

namespace va::http {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
    bool offload = false;  // run on the worker pool
    std::string summary;   // one line for the OpenAPI description
    bool public_route = false;  // needs no Authorization (documented as such in OpenAPI)
    bool hidden = false;        // left out of the OpenAPI description (the web console's files)
};

class Router {
public:
    void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
    // A WebSocket endpoint (GET with Upgrade: websocket).
    void add_websocket(std::string pattern, WsAccept accept, RouteOptions options = {});

    struct Match {
        const Handler* handler = nullptr;
        const WsAccept* websocket = nullptr;  // set instead of handler for WebSocket routes
        RouteOptions options;
        bool path_known = false;  // the path matched some route but not this method (405)
        std::string allowed;      // Allow header for 405
    };
    // Fills request.params and request.route on success. `upgrade` selects WebSocket routes.
    Match match(Request& request, bool upgrade = false) const;

    struct RouteInfo {
        std::string method;
        std::string pattern;
        RouteOptions options;
    };
    std::vector<RouteInfo> routes() const;

private:
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<std::string> segments;
        Handler handler;
        WsAccept accept;  // WebSocket routes have this instead of a handler
        RouteOptions options;
    };
    std::vector<Route> m_routes;
};

}  // namespace va::http
