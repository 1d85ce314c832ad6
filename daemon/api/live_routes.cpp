// Live calls over the API: creating local and chat calls, hanging up and transferring (on any daemon: forwarded to
// the one running the call), the local media WebSocket and the event WebSocket (live transcripts and status for a
// workspace or one call).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "daemon/api/api.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/carriers.hpp"
#include "daemon/calls/event_bus.hpp"
#include "daemon/cluster/call_commands.hpp"
#include "daemon/cluster/live_sessions.hpp"

namespace va::api {

using nlohmann::json;

namespace {

// WebSocket clients that cannot set headers (browsers) may pass the token as ?token=; the access log never
// records query strings.
Result<Principal> authenticate_upgrade(ApiContext& ctx, http::Request& request) {
    if (request.header("authorization").empty()) {
        auto token = request.query.find("token");
        if (token != request.query.end()) request.headers.emplace_back("authorization", "Bearer " + token->second);
    }
    return authenticate(ctx, request);
}

Result<http::Response> create_local(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto s = accepting_calls(ctx); !s) return s.take_error();
    auto body = json_body(request, {"agent_id", "channel", "variables", "caller_lines"});
    if (!body) return body.take_error();
    auto agent = resolve_agent(ctx, who.workspace_id, *body);
    if (!agent) return agent.take_error();
    auto channel = optional_string(*body, "channel", "local", 16);
    if (!channel) return channel.take_error();
    auto variables = optional_object(*body, "variables");
    if (!variables) return variables.take_error();
    auto caller_lines = optional_strings(*body, "caller_lines");
    if (!caller_lines) return caller_lines.take_error();
    auto call = ctx.calls->create_local_call(*agent, *channel, *variables, std::move(caller_lines).value());
    if (!call) return call.take_error();
    return json_response(201, {{"call", to_json(*call)}, {"media_url", "/media/local/" + call->id}});
}

// On the daemon running the call, or forwarded to it (call_forwarding.cpp): a client may send it to any daemon.
Result<http::Response> hangup(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto s = no_body_fields(request); !s) return s.take_error();
    std::string id(request.param("id"));
    auto call = ctx.store.get_call(who.workspace_id, id);
    if (!call) return call.take_error();
    auto answer = [&]() -> Result<json> {
        if (auto owner = remote_owner(ctx, *call)) return forward(ctx, *owner, CallCommand{"hangup", id, who.workspace_id, {}});
        return hangup_here(ctx, who.workspace_id, id);
    }();
    if (!answer) return answer.take_error();
    return json_response(202, *answer);
}

bool is_e164(const std::string& number) {
    // A plus, then 2 to 15 digits, the first not 0 (a country code).
    return number.size() >= 3 && number.size() <= 16 && number[0] == '+' && number[1] >= '1' && number[1] <= '9' &&
           number.find_first_not_of("0123456789", 1) == std::string::npos;
}

Result<http::Response> transfer(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request, {"to"});
    if (!body) return body.take_error();
    auto to = required_string(*body, "to", 16);
    if (!to) return to.take_error();
    if (!is_e164(*to)) return invalid_field("to", "must be an E.164 number such as +15551234567");
    std::string id(request.param("id"));
    auto call = ctx.store.get_call(who.workspace_id, id);
    if (!call) return call.take_error();
    if (call->ended_at != 0) return make_error(ErrorCode::conflict, "the call has already ended");
    if (!is_carrier_channel(ctx, call->channel)) return not_transferable(ctx, *call);
    auto answer = [&]() -> Result<json> {
        auto owner = remote_owner(ctx, *call);
        if (!owner) return transfer_here(ctx, who.workspace_id, id, *to);
        // The registry of live sessions answers "not live" without a round trip to the owner.
        if (ctx.live_sessions)
            if (auto live = ctx.live_sessions->lookup(id); live && !*live)
                return make_error(ErrorCode::conflict, "the call is not live (its media stream has not started)");
        return forward(ctx, *owner, CallCommand{"transfer", id, who.workspace_id, json{{"to", *to}}});
    }();
    if (!answer) return answer.take_error();
    return json_response(202, *answer);
}

Result<http::Response> get_recording(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto call = ctx.store.get_call(who.workspace_id, std::string(request.param("id")));
    if (!call) return call.take_error();
    std::string path = ctx.calls->recording_path(call->id);
    std::ifstream in(path, std::ios::binary);
    if (path.empty() || !in) return not_found("recording");
    http::Response r;
    r.content_type = "audio/wav";
    r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    r.set_header("Content-Disposition", "attachment; filename=\"" + call->id + ".wav\"");
    return r;
}

Result<http::Response> delete_recording(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto call = ctx.store.get_call(who.workspace_id, std::string(request.param("id")));
    if (!call) return call.take_error();
    if (ctx.calls->is_live(call->id)) return make_error(ErrorCode::conflict, "the call is still being recorded");
    std::string path = ctx.calls->recording_path(call->id);
    std::error_code ec;
    if (path.empty() || !std::filesystem::remove(path, ec)) return not_found("recording");
    return empty_response(204);
}

// One event-stream subscriber: events go out as JSON text frames; the client sends nothing but may close.
class EventStream final : public http::WsHandler {
public:
    EventStream(EventBus& bus, std::string workspace_id, std::string call_id)
        : m_bus(bus), m_workspace(std::move(workspace_id)), m_call(std::move(call_id)) {}
    ~EventStream() override { unsubscribe(); }

    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        std::weak_ptr<http::WsConnection> weak = connection;
        m_subscription = m_bus.subscribe(m_workspace, m_call, [weak](const CallEvent& e) {
            if (auto c = weak.lock()) c->send_text(e.to_json_text());
        });
        connection->send_text(json{{"type", "subscribed"}, {"call_id", m_call.empty() ? json(nullptr) : json(m_call)}}.dump());
    }
    void on_text(std::string_view) override {}
    void on_binary(std::string_view) override {}
    void on_close() override { unsubscribe(); }

private:
    void unsubscribe() {
        if (m_subscription) m_bus.unsubscribe(m_subscription);
        m_subscription = 0;
    }
    EventBus& m_bus;
    std::string m_workspace;
    std::string m_call;
    std::uint64_t m_subscription = 0;
};

}  // namespace

void register_live_routes(http::Router& router, ApiContext& ctx) {
    router.add("POST", "/api/v1/calls/local", route(ctx, Role::member, create_local),
               {false, "Start a local test call: channel chat (text turns) or local (audio over /media/local)"});
    router.add("GET", "/api/v1/calls/{id}/recording", route(ctx, Role::viewer, get_recording),
               {true, "The call's recording: stereo WAV, caller left, agent right"});
    router.add("DELETE", "/api/v1/calls/{id}/recording", route(ctx, Role::member, delete_recording),
               {false, "Delete the call's recording"});
    router.add("POST", "/api/v1/calls/{id}/hangup", route(ctx, Role::member, hangup),
               {true, "End a live call (a ringing carrier call is canceled through the carrier); on any daemon"});
    router.add("POST", "/api/v1/calls/{id}/transfer", route(ctx, Role::member, transfer),
               {true, "Hand a live carrier call to a person: {\"to\": \"+E164\"}; on any daemon"});
    router.add_websocket(
        "/media/local/{call_id}",
        [&ctx](http::Request& request) -> Result<std::unique_ptr<http::WsHandler>> {
            auto who = authenticate_upgrade(ctx, request);
            if (!who) return who.take_error();
            if (!role_allows(who->role, Role::member))
                return make_error(ErrorCode::forbidden, "this needs the member role or higher");
            return ctx.calls->attach_media(who->workspace_id, std::string(request.param("call_id")));
        },
        {false, "Media WebSocket of a local or chat call (JSON control and text; PCM16 binary frames for audio)"});
    router.add_websocket(
        "/api/v1/events",
        [&ctx](http::Request& request) -> Result<std::unique_ptr<http::WsHandler>> {
            auto who = authenticate_upgrade(ctx, request);
            if (!who) return who.take_error();
            std::string call_id;
            if (auto it = request.query.find("call_id"); it != request.query.end() && !it->second.empty()) {
                auto call = ctx.store.get_call(who->workspace_id, it->second);
                if (!call) return call.take_error();
                call_id = call->id;
            }
            return std::unique_ptr<http::WsHandler>(std::make_unique<EventStream>(*ctx.events, who->workspace_id, call_id));
        },
        {false, "Event WebSocket: call events of the workspace, or of one call with ?call_id="});
}

}  // namespace va::api
