#include "daemon/server/router.hpp"

namespace va::http {

namespace {
std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 1;  // paths start with '/'
    while (start <= path.size()) {
        auto end = path.find('/', start);
        parts.emplace_back(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return parts;
}

bool is_param(const std::string& segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}
}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
    Route r{std::move(method), pattern, split_path(pattern), std::move(handler), {}, std::move(options)};
    m_routes.push_back(std::move(r));
}

void Router::add_websocket(std::string pattern, WsAccept accept, RouteOptions options) {
    Route r{"GET", pattern, split_path(pattern), {}, std::move(accept), std::move(options)};
    m_routes.push_back(std::move(r));
}

Router::Match Router::match(Request& request, bool upgrade) const {
    Match result;
    if (request.path.empty() || request.path.front() != '/') return result;
    auto parts = split_path(request.path);
    for (const auto& route : m_routes) {
        if (route.segments.size() != parts.size()) continue;
        bool ok = true;
        for (std::size_t i = 0; i < parts.size() && ok; ++i) {
            if (is_param(route.segments[i])) ok = !parts[i].empty();
            else ok = route.segments[i] == parts[i];
        }
        if (!ok) continue;
        if (bool(route.accept) != upgrade) continue;
        if (route.method != request.method) {
            result.path_known = true;
            if (result.allowed.find(route.method) == std::string::npos)
                result.allowed += (result.allowed.empty() ? "" : ", ") + route.method;
            continue;
        }
        for (std::size_t i = 0; i < parts.size(); ++i)
            if (is_param(route.segments[i]))
                request.params[route.segments[i].substr(1, route.segments[i].size() - 2)] = parts[i];
        request.route = route.pattern;
        if (upgrade) result.websocket = &route.accept;
        else result.handler = &route.handler;
        result.options = route.options;
        return result;
    }
    return result;
}

std::vector<Router::RouteInfo> Router::routes() const {
    std::vector<RouteInfo> out;
    for (const auto& r : m_routes) out.push_back({r.method, r.pattern, r.options});
    return out;
}

}  // namespace va::http
