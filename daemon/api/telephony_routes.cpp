// Carrier calls over the API: POST /calls/outbound dials through the number's carrier, POST /calls/simulate starts
// a call whose caller the client plays. Every registered carrier's webhooks are mounted under
// /api/v1/webhooks/<carrier>/ and its media sockets under /media/<carrier>/; each carrier checks its own requests'
// authenticity (a signature, or the per-call token in the URL it was given). Webhooks failing these get 403; a
// media socket is accepted and closed with 1008, as carriers expect of a refused stream.
#include <spdlog/spdlog.h>

#include "core/providers/carrier.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "daemon/api/api.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/carriers.hpp"
#include "daemon/cluster/call_commands.hpp"
#include "daemon/server/access_log.hpp"
#include "core/util/json.hpp"

namespace va::api {

using nlohmann::json;

namespace {

// Accepts the upgrade only to close it at once with a reason: carriers treat a refused handshake as a network
// fault and retry, a 1008 close as a decision.
class RefusedStream final : public http::WsHandler {
public:
    explicit RefusedStream(std::string reason) : m_reason(std::move(reason)) {}
    void on_open(std::shared_ptr<http::WsConnection> c) override { c->close(1008, m_reason); }
    void on_text(std::string_view) override {}
    void on_binary(std::string_view) override {}
    void on_close() override {}

private:
    std::string m_reason;
};

Result<http::Response> outbound(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto s = accepting_calls(ctx); !s) return s.take_error();
    auto body = json_body(request, {"agent_id", "to", "variables", "caller_lines", "phone_id", "from"});
    if (!body) return body.take_error();
    auto agent = resolve_agent(ctx, who.workspace_id, *body);
    if (!agent) return agent.take_error();
    auto to = required_string(*body, "to", 32);
    if (!to) return to.take_error();
    if (to->size() < 3 || (*to)[0] != '+' || to->find_first_not_of("0123456789", 1) != std::string::npos)
        return invalid_field("to", "must be an E.164 number such as +15551234567");
    auto variables = optional_object(*body, "variables");
    if (!variables) return variables.take_error();
    auto caller_lines = optional_strings(*body, "caller_lines");
    if (!caller_lines) return caller_lines.take_error();
    auto phone = resolve_phone(ctx, who.workspace_id, *body);
    if (!phone) return phone.take_error();

    // The key is claimed before anything is dialled, so two concurrent retries cannot both dial. Keys of calls
    // have no scope prefix: stores written before campaigns had one keep answering.
    std::string call_id = new_id("call");
    auto replayed = idempotent_replay(ctx, request, who.workspace_id, "", call_id,
                                      [&](const std::string& first) -> Result<http::Response> {
                                          auto existing = ctx.store.get_call(who.workspace_id, first);
                                          if (!existing) return existing.take_error();
                                          return json_response(202, json{{"call", to_json(*existing)}});
                                      });
    if (!replayed) return replayed.take_error();
    if (*replayed) return std::move(**replayed);
    Carriers::Dial dial{call_id, *to, *phone, *variables, std::move(caller_lines).value()};
    auto call = ctx.carriers->dial(*agent, dial);
    if (!call) return call.take_error();
    return json_response(202, json{{"call", to_json(*call)}});
}

// A carrier call whose caller is a fake run by the client (vactl calls simulate): the same media endpoint, codec
// and session as a real call. Offline recognition cannot hear a narrowband (8 kHz only) carrier's audio, so such a
// simulation of an agent on pocketsphinx recognizes the caller's lines as text (simulated recognition), and says so.
Result<http::Response> simulate(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto s = accepting_calls(ctx); !s) return s.take_error();
    auto body = json_body(request, {"agent_id", "carrier", "variables", "caller_lines"});
    if (!body) return body.take_error();
    auto agent = resolve_agent(ctx, who.workspace_id, *body);
    if (!agent) return agent.take_error();
    auto carrier = required_string(*body, "carrier", 16);
    if (!carrier) return carrier.take_error();
    Carrier* through = ctx.carriers->find(*carrier);
    if (!through) return invalid_field("carrier", "must be " + join_names(ctx.carriers->names(), " or "));
    auto variables = optional_object(*body, "variables");
    if (!variables) return variables.take_error();
    auto lines = optional_strings(*body, "caller_lines");
    if (!lines) return lines.take_error();
    json definition = parse_json(agent->definition);
    std::string stt = definition.contains("stt") && definition["stt"].is_object()
                          ? definition["stt"].value("provider", "pocketsphinx") : "pocketsphinx";
    bool simulated_recognition = through->narrowband_only() && stt == "pocketsphinx" && !lines->empty();
    CallManager::CallSpec spec;
    spec.channel = *carrier;
    spec.direction = "inbound";
    spec.from = "+10000000000";
    spec.to = "simulated";
    spec.status = "ringing";
    spec.variables = *variables;
    if (simulated_recognition) spec.caller_lines = *lines;
    auto call = ctx.calls->create_call(*agent, std::move(spec));
    if (!call) return call.take_error();
    ctx.carriers->mark_simulated(call->id);
    json out{{"call", to_json(*call)}, {"recognition", simulated_recognition ? "simulated" : stt}};
    SimulatedStream stream = through->simulated_stream(call->id);
    out["stream_url"] = stream.url;
    out["sample_rate"] = stream.sample_rate;
    out["headers"] = stream.headers;
    return json_response(201, out);
}

// A call to one of our numbers: routed by the number called to its agent, ringing until its stream starts.
Result<Call> inbound_call(ApiContext& ctx, const std::string& carrier, const std::string& from, const std::string& to,
                          const std::string& carrier_sid) {
    auto phone = ctx.store.find_phone_by_number(to);
    if (!phone) return not_found("the number " + to);
    if (phone->provider != carrier) return make_error(ErrorCode::conflict, "the number " + to + " belongs to " + phone->provider);
    if (phone->agent_id.empty()) return make_error(ErrorCode::conflict, "the number " + to + " has no agent");
    auto agent = ctx.store.get_agent(phone->workspace_id, phone->agent_id);
    if (!agent) return agent.take_error();
    CallManager::CallSpec spec;
    spec.channel = carrier;
    spec.direction = "inbound";
    spec.from = from;
    spec.to = to;
    spec.phone_id = phone->id;
    spec.provider_call_id = carrier_sid;
    spec.status = "ringing";
    return ctx.calls->create_call(*agent, std::move(spec));
}

bool is_terminal(const std::string& status) {
    return status == "completed" || status == "busy" || status == "no-answer" || status == "failed" || status == "canceled";
}

// A carrier's status report: a terminal one ends the call with the carrier's duration (seconds, when given);
// ringing is recorded for a call not yet connected; the rest the session tracks itself.
// Carriers call back whichever daemon the load balancer picks. A terminal status for a call another daemon runs
// goes to that daemon, whose session then ends once, with the carrier's figures (settling the store from here
// would race the live session, which would store its own end over it and announce the call's end twice). When
// the owner cannot be reached it is settled here: the carrier's word is final, and a session nobody can reach is
// as good as gone (its daemon's lease settles it otherwise). Ringing is a store update, the same on any daemon.
Status carrier_status(ApiContext& ctx, Call& call, const std::string& status, const std::string& duration) {
    if (is_terminal(status)) {
        double seconds = -1;
        if (!duration.empty() && duration.find_first_not_of("0123456789.") == std::string::npos) seconds = std::strtod(duration.c_str(), nullptr);  // "." must not throw
        if (auto owner = remote_owner(ctx, call); owner && ctx.commands) {
            json args{{"status", status}, {"duration_s", seconds}};
            auto forwarded = forward(ctx, *owner, CallCommand{"carrier_ended", call.id, call.workspace_id, args});
            if (forwarded) return Ok{};
            spdlog::warn("call {}: the carrier's {} could not reach daemon {} ({}); recorded here", call.id, status,
                         *owner, forwarded.error().message);
        }
        carrier_ended_here(ctx, call, status, seconds);
    } else if (status == "ringing" && call.status == "queued") {
        call.status = "ringing";
        if (auto s = ctx.store.update_call(call); !s) return s;
        ctx.calls->publish(call, "call:status", {{"status", "ringing"}});
    }
    return Ok{};
}

// What a carrier's webhook handler may ask of the daemon, for one request.
class ApiWebhookHost final : public WebhookHost {
public:
    explicit ApiWebhookHost(ApiContext& ctx) : m_ctx(ctx) {}
    Status accepting_calls() override { return api::accepting_calls(m_ctx); }
    Result<Call> inbound_call(const std::string& carrier, const std::string& from, const std::string& to,
                              const std::string& carrier_sid) override {
        return api::inbound_call(m_ctx, carrier, from, to, carrier_sid);
    }
    Status carrier_status(Call& call, const std::string& status, const std::string& duration) override {
        return api::carrier_status(m_ctx, call, status, duration);
    }
    std::string log_field(std::string_view text, std::size_t max) const override {
        return http::escape_log_field(text, max);
    }

private:
    ApiContext& m_ctx;
};

CarrierRequest carrier_request(const http::Request& r) {
    CarrierRequest out;
    out.method = r.method;
    out.target = r.target;
    out.query.insert(r.query.begin(), r.query.end());
    out.headers = r.headers;
    out.body = r.body;
    out.remote_address = r.remote_address;
    out.params.insert(r.params.begin(), r.params.end());
    return out;
}

http::Response http_response(CarrierResponse r) {
    http::Response out;
    out.status = r.status;
    out.content_type = std::move(r.content_type);
    out.body = std::move(r.body);
    return out;
}

void mount_carrier(http::Router& router, ApiContext& ctx, Carrier& carrier) {
    for (auto& route : carrier.webhook_routes()) {
        auto handle = route.handle;
        for (const auto& method : route.methods)
            router.add(method, carrier_webhook_prefix(carrier.name()) + route.path,
                       unauthenticated([&ctx, handle](http::Request& r) -> Result<http::Response> {
                           ApiWebhookHost host(ctx);
                           auto answer = handle(host, carrier_request(r));
                           if (!answer) return answer.take_error();
                           return http_response(std::move(answer).value());
                       }),
                       {route.offload, route.summary});
    }
    for (auto& route : carrier.media_routes()) {
        auto open = route.open;
        router.add_websocket(
            carrier_media_prefix(carrier.name()) + route.path,
            [&ctx, open](http::Request& r) -> Result<std::unique_ptr<http::WsHandler>> {
                auto accepted = open(carrier_request(r));
                if (!accepted.codec)
                    return std::unique_ptr<http::WsHandler>(std::make_unique<RefusedStream>(std::move(accepted.refused)));
                return ctx.calls->attach_carrier_media(std::string(r.param("call_id")), std::move(accepted.codec));
            },
            {false, route.summary});
    }
}

}  // namespace

void register_telephony_routes(http::Router& router, ApiContext& ctx) {
    router.add("POST", "/api/v1/calls/simulate", route(ctx, Role::member, simulate),
               {false, "A carrier call whose caller the client plays over the carrier's media protocol (vactl calls simulate)"});
    router.add("POST", "/api/v1/calls/outbound", route(ctx, Role::member, outbound),
               {true, "Dial a number through the carrier of the number it comes from (Idempotency-Key honoured)"});
    for (const auto& carrier : ctx.carriers->all()) mount_carrier(router, ctx, *carrier);
}

}  // namespace va::api
