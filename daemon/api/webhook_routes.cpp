// REST for outbound webhook endpoints (API.md: /api/v1/webhook-endpoints) and their delivery logs. The signing
// secret is shown once, when the endpoint is created.
#include <algorithm>

#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "daemon/api/api.hpp"
#include "daemon/webhooks/webhooks.hpp"

namespace va::api {

using nlohmann::json;

namespace {

json endpoint_json(const WebhookEndpoint& e) {
    return {{"id", e.id},
            {"url", e.url},
            {"events", parse_json(e.events)},
            {"description", e.description},
            {"enabled", e.enabled},
            {"created_at", time_json(e.created_at)}};
}

json delivery_json(const WebhookDelivery& d) {
    return {{"id", d.id},
            {"endpoint_id", d.endpoint_id},
            {"event", d.event_type},
            {"state", d.state},
            {"attempts", d.attempts},
            {"last_status", d.last_status == 0 ? json() : json(d.last_status)},
            {"last_error", d.last_error},
            {"created_at", time_json(d.created_at)},
            {"delivered_at", time_json(d.delivered_at)}};
}

Result<http::Response> create_endpoint(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request, {"url", "events", "description"});
    if (!body) return body.take_error();
    auto url = required_string(*body, "url", 2000);
    if (!url) return url.take_error();
    if (auto ok = ctx.webhooks->check_url(*url); !ok) return invalid_field("url", ok.error().message);
    auto events = optional_strings(*body, "events");
    if (!events) return events.take_error();
    if (events->empty()) return invalid_field("events", "name at least one event");
    const auto& known = Webhooks::event_types();
    for (const auto& e : *events)
        if (std::find(known.begin(), known.end(), e) == known.end())
            return invalid_field("events", "\"" + e + "\" is not one of call:started, call:ended, call:analysis, campaign:finished");
    auto description = optional_string(*body, "description", "", 500);
    if (!description) return description.take_error();
    WebhookEndpoint endpoint;
    endpoint.id = new_id("whk");
    endpoint.workspace_id = who.workspace_id;
    endpoint.url = *url;
    endpoint.secret = "whsec_" + random_token(24);
    endpoint.events = json(*events).dump();
    endpoint.description = *description;
    endpoint.created_at = now_ms();
    if (auto s = ctx.store.create_webhook_endpoint(endpoint); !s) return s.take_error();
    json out = endpoint_json(endpoint);
    out["secret"] = endpoint.secret;  // shown this once: deliveries are signed with it
    return json_response(201, out);
}

Result<http::Response> list_endpoints(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto list = ctx.store.list_webhook_endpoints(who.workspace_id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, endpoint_json));
}

Result<http::Response> get_endpoint(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto endpoint = ctx.store.get_webhook_endpoint(who.workspace_id, std::string(request.param("id")));
    if (!endpoint) return endpoint.take_error();
    return json_response(200, endpoint_json(*endpoint));
}

Result<http::Response> delete_endpoint(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto s = ctx.store.delete_webhook_endpoint(who.workspace_id, std::string(request.param("id"))); !s)
        return s.take_error();
    return empty_response(204);
}

Result<http::Response> list_deliveries(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto endpoint = ctx.store.get_webhook_endpoint(who.workspace_id, std::string(request.param("id")));
    if (!endpoint) return endpoint.take_error();
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto list = ctx.store.list_webhook_deliveries(endpoint->id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, delivery_json));
}

}  // namespace

void register_webhook_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/webhook-endpoints", route(ctx, Role::viewer, list_endpoints),
               {false, "List webhook endpoints"});
    router.add("POST", "/api/v1/webhook-endpoints", route(ctx, Role::admin, create_endpoint),
               {false, "Register an endpoint for events (url, events, description); the signing secret is shown once"});
    router.add("GET", "/api/v1/webhook-endpoints/{id}", route(ctx, Role::viewer, get_endpoint),
               {false, "Get a webhook endpoint"});
    router.add("DELETE", "/api/v1/webhook-endpoints/{id}", route(ctx, Role::admin, delete_endpoint),
               {false, "Remove a webhook endpoint and its delivery log"});
    router.add("GET", "/api/v1/webhook-endpoints/{id}/deliveries", route(ctx, Role::viewer, list_deliveries),
               {false, "An endpoint's delivery log, newest first"});
}

}  // namespace va::api
