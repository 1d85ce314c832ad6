// Fuzzes HTTP request parsing and routing (daemon/server/request_parse, router): bytes from a client go through
// Beast's parser under the server's limits, become a Request, and are routed against the daemon's route table
// (the patterns of daemon/api, copied here: registering the real handlers needs a whole daemon). Pipelined
// requests in one input are parsed one after another, as a keep-alive connection does.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/server/request_parse.hpp"
#include "daemon/server/router.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

constexpr const char* kRoutes[][2] = {
    {"DELETE", "/api/v1/agents/{id}"}, {"DELETE", "/api/v1/api-keys/{id}"}, {"DELETE", "/api/v1/calls/{id}/recording"},
    {"DELETE", "/api/v1/dnc/{phone}"}, {"DELETE", "/api/v1/phones/{id}"}, {"DELETE", "/api/v1/users/{id}"},
    {"DELETE", "/api/v1/webhook-endpoints/{id}"}, {"GET", "/api/v1/agents"}, {"GET", "/api/v1/agents/{id}"},
    {"GET", "/api/v1/analytics/summary"}, {"GET", "/api/v1/api-keys"}, {"GET", "/api/v1/auth/me"},
    {"GET", "/api/v1/calls"}, {"GET", "/api/v1/calls/{id}"}, {"GET", "/api/v1/calls/{id}/recording"},
    {"GET", "/api/v1/calls/{id}/transcript"}, {"GET", "/api/v1/campaigns"}, {"GET", "/api/v1/campaigns/{id}"},
    {"GET", "/api/v1/campaigns/{id}/contacts"}, {"GET", "/api/v1/campaigns/{id}/progress"}, {"GET", "/api/v1/dnc"},
    {"GET", "/api/v1/openapi.json"}, {"GET", "/api/v1/phones"}, {"GET", "/api/v1/phones/{id}"},
    {"GET", "/api/v1/users"}, {"GET", "/api/v1/users/{id}"}, {"GET", "/api/v1/webhook-endpoints"},
    {"GET", "/api/v1/webhook-endpoints/{id}"}, {"GET", "/api/v1/webhook-endpoints/{id}/deliveries"},
    {"GET", "/api/v1/workspaces"}, {"GET", "/api/v1/workspaces/{id}"}, {"GET", "/healthz"}, {"GET", "/metrics"},
    {"GET", "/readyz"}, {"PATCH", "/api/v1/agents/{id}"}, {"PATCH", "/api/v1/campaigns/{id}"},
    {"PATCH", "/api/v1/phones/{id}"}, {"PATCH", "/api/v1/users/{id}"}, {"POST", "/api/v1/agents"},
    {"POST", "/api/v1/api-keys"}, {"POST", "/api/v1/auth/bootstrap"}, {"POST", "/api/v1/auth/login"},
    {"POST", "/api/v1/auth/logout"}, {"POST", "/api/v1/auth/refresh"}, {"POST", "/api/v1/calls/local"},
    {"POST", "/api/v1/calls/outbound"}, {"POST", "/api/v1/calls/simulate"}, {"POST", "/api/v1/calls/{id}/hangup"},
    {"POST", "/api/v1/calls/{id}/transfer"}, {"POST", "/api/v1/campaigns"}, {"POST", "/api/v1/campaigns/{id}/cancel"},
    {"POST", "/api/v1/campaigns/{id}/contacts"}, {"POST", "/api/v1/campaigns/{id}/pause"},
    {"POST", "/api/v1/campaigns/{id}/resume"}, {"POST", "/api/v1/campaigns/{id}/start"}, {"POST", "/api/v1/dnc"},
    {"POST", "/api/v1/phones"}, {"POST", "/api/v1/users"}, {"POST", "/api/v1/webhook-endpoints"},
    {"POST", "/api/v1/webhooks/exotel/status/{call_id}"}, {"POST", "/api/v1/webhooks/twilio/status/{call_id}"},
    {"POST", "/api/v1/webhooks/twilio/voice"}, {"POST", "/api/v1/webhooks/exotel/incoming"},
    {"GET", "/api/v1/webhooks/exotel/incoming"}, {"POST", "/api/v1/workspaces"}, {"PUT", "/api/v1/agents/{id}"}};
constexpr const char* kWebSockets[] = {"/api/v1/events", "/media/exotel/{call_id}", "/media/local/{call_id}",
                                       "/media/twilio/{call_id}"};

const va::http::Router& router() {
    static const va::http::Router r = [] {
        va::http::Router r;
        for (const auto& route : kRoutes) r.add(route[0], route[1], [](va::http::Request&) { return va::http::Response{}; });
        for (const char* pattern : kWebSockets) r.add_websocket(pattern, [](va::http::Request&) {
            return va::Result<std::unique_ptr<va::http::WsHandler>>(std::unique_ptr<va::http::WsHandler>());
        });
        return r;
    }();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view wire(reinterpret_cast<const char*>(data), size);
    // The server's defaults are larger; small limits here let the fuzzer reach the limit paths too.
    for (int i = 0; i < 4 && !wire.empty(); ++i) {
        auto parsed = va::http::parse_request(wire, 8192, 16384);
        if (!parsed) return 0;
        FUZZ_CHECK(parsed->consumed > 0 && parsed->consumed <= wire.size());
        wire.remove_prefix(parsed->consumed);
        auto& request = parsed->request;
        FUZZ_CHECK(request.body.size() <= 16384);
        auto match = router().match(request, parsed->upgrade);
        if (match.handler || match.websocket) {
            FUZZ_CHECK(!request.route.empty());
            for (const auto& [name, value] : request.params) FUZZ_CHECK(!value.empty() && value.find('/') == std::string::npos);
        }
        (void)request.header("content-type");
    }
    return 0;
}
