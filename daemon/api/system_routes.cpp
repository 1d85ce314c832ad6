// Liveness, readiness, Prometheus metrics, and the OpenAPI description generated from the router itself, so it
// lists exactly the routes that exist.
#include <mutex>

#include "core/util/strings.hpp"
#include "daemon/api/api.hpp"

namespace va::api {

using nlohmann::json;

namespace {

json openapi_document(const http::Router& router) {
    json paths = json::object();
    for (const auto& route : router.routes()) {
        if (route.options.hidden) continue;
        json op{{"summary", route.options.summary.empty() ? route.method + " " + route.pattern : route.options.summary},
                {"responses",
                 {{"default", {{"description", "Error"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}},
                  {"200", {{"description", "Success"}}}}}};
        json params = json::array();
        std::size_t pos = 0;
        while ((pos = route.pattern.find('{', pos)) != std::string::npos) {
            auto end = route.pattern.find('}', pos);
            params.push_back({{"name", route.pattern.substr(pos + 1, end - pos - 1)},
                              {"in", "path"},
                              {"required", true},
                              {"schema", {{"type", "string"}}}});
            pos = end;
        }
        if (!params.empty()) op["parameters"] = params;
        if (route.options.public_route || route.pattern.rfind("/api/v1/", 0) != 0) op["security"] = json::array();
        paths[route.pattern][to_lower(route.method)] = op;
    }
    return {{"openapi", "3.0.3"},
            {"info", {{"title", "voiceagentd API"}, {"version", "1"}}},
            {"servers", json::array({{{"url", "/"}}})},
            {"security", json::array({{{"bearer", json::array()}}})},
            {"components",
             {{"securitySchemes",
               {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"description", "JWT access token or vak_ API key"}}}}},
              {"schemas",
               {{"Error",
                 {{"type", "object"},
                  {"properties",
                   {{"error",
                     {{"type", "object"},
                      {"properties",
                       {{"code", {{"type", "string"}}},
                        {"message", {{"type", "string"}}},
                        {"details", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}}}}}}}}}}},
            {"paths", paths}};
}

}  // namespace

void register_system_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/healthz", [](http::Request&) { return json_response(200, {{"status", "ok"}}); },
               {false, "Liveness", true});
    router.add("GET", "/readyz",
               [&ctx](http::Request&) {
                   if (ctx.draining && ctx.draining())
                       return error_response(make_error(ErrorCode::unavailable, "server is shutting down"));
                   if (auto v = ctx.store.schema_version(); !v)
                       return error_response(make_error(ErrorCode::unavailable, "store unavailable"));
                   return json_response(200, {{"status", "ready"}});
               },
               {false, "Readiness: the store answers and the server is not draining", true});
    router.add("GET", "/metrics",
               [&ctx](http::Request&) {
                   http::Response r;
                   r.body = ctx.metrics.render();
                   r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                   return r;
               },
               {false, "Prometheus metrics", true});
    // The document is built once, after every other route is registered, from the router itself.
    struct Document {
        std::once_flag once;
        std::string text;
    };
    auto doc = std::make_shared<Document>();
    router.add("GET", "/api/v1/openapi.json",
               [doc, &router](http::Request&) {
                   std::call_once(doc->once, [&] { doc->text = openapi_document(router).dump(2); });
                   http::Response r;
                   r.body = doc->text;
                   return r;
               },
               {false, "This OpenAPI description", true});
}

}  // namespace va::api
