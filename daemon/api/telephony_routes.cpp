// Carrier calls over the API: POST /calls/outbound dials through the number's carrier, POST /calls/simulate starts
// a call whose caller the client plays. Twilio's voice and status webhooks and its media WebSocket are verified
// with X-Twilio-Signature against the public URL the carrier was given (server.public_base_url behind a proxy);
// Exotel's, which Exotel does not sign, by the per-call (or per-number) token in the URL we gave it, Basic
// credentials on the media socket, and an optional source allowlist. Webhooks failing these get 403; a media
// socket is accepted and closed with 1008, as carriers expect of a refused stream.
#include <spdlog/spdlog.h>

#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "daemon/api/api.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/carriers.hpp"
#include "daemon/cluster/call_commands.hpp"
#include "daemon/server/access_log.hpp"
#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/exotel/media_codec.hpp"
#include "providers/exotel/rest_client.hpp"
#include "providers/twilio/media_codec.hpp"
#include "providers/twilio/signature.hpp"

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

http::Response xml_response(std::string xml) {
    http::Response r;
    r.status = 200;
    r.content_type = "text/xml";
    r.body = std::move(xml);
    return r;
}

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
// and session as a real call. Offline recognition cannot hear Twilio's 8 kHz audio, so a Twilio simulation of an
// agent on pocketsphinx recognizes the caller's lines as text (simulated recognition), and says so.
Result<http::Response> simulate(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto s = accepting_calls(ctx); !s) return s.take_error();
    auto body = json_body(request, {"agent_id", "carrier", "variables", "caller_lines"});
    if (!body) return body.take_error();
    auto agent = resolve_agent(ctx, who.workspace_id, *body);
    if (!agent) return agent.take_error();
    auto carrier = required_string(*body, "carrier", 16);
    if (!carrier) return carrier.take_error();
    if (*carrier != "twilio" && *carrier != "exotel") return invalid_field("carrier", "must be twilio or exotel");
    auto variables = optional_object(*body, "variables");
    if (!variables) return variables.take_error();
    auto lines = optional_strings(*body, "caller_lines");
    if (!lines) return lines.take_error();
    json definition = parse_json(agent->definition);
    std::string stt = definition.contains("stt") && definition["stt"].is_object()
                          ? definition["stt"].value("provider", "pocketsphinx") : "pocketsphinx";
    bool simulated_recognition = *carrier == "twilio" && stt == "pocketsphinx" && !lines->empty();
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
    if (*carrier == "twilio") {
        std::string url = ctx.carriers->twilio_stream_url(call->id);
        out["stream_url"] = url;
        out["sample_rate"] = 8000;
        out["headers"] = {{"X-Twilio-Signature", twilio::signature(ctx.carriers->simulation_key(call->id), url, {})}};
    } else {
        out["stream_url"] = ctx.carriers->exotel_stream_url(call->id);
        out["sample_rate"] = ctx.carriers->exotel().sample_rate;
        out["headers"] = json::object();
    }
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

// --- Twilio ------------------------------------------------------------------------------------------------------

bool twilio_signed(ApiContext& ctx, const http::Request& request, const twilio::Params& params, const std::string& url) {
    return twilio::verify_signature(ctx.carriers->twilio().auth_token, url, params, request.body,
                                    request.header("x-twilio-signature"));
}

Result<twilio::Params> twilio_webhook(ApiContext& ctx, const http::Request& request) {
    if (!ctx.carriers->twilio_enabled()) return not_found("Twilio is not configured in this daemon");
    auto params = parse_form(request.body);
    // Twilio signs the URL it requested: a number's webhook (the shared URL) or a call's callback (this daemon's).
    if (!twilio_signed(ctx, request, params, ctx.carriers->http_base() + request.target) &&
        (ctx.carriers->call_http_base() == ctx.carriers->http_base() ||
         !twilio_signed(ctx, request, params, ctx.carriers->call_http_base() + request.target)))
        return make_error(ErrorCode::forbidden, "X-Twilio-Signature does not match this request");
    return params;
}

std::string param(const twilio::Params& params, const char* name) {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return {};
}

// An inbound call: the number's agent answers through a media stream.
Result<http::Response> twilio_voice(ApiContext& ctx, http::Request& request) {
    auto params = twilio_webhook(ctx, request);
    if (!params) return params.take_error();
    // A 503 rather than <Reject/>: Twilio then tries the number's fallback URL (another daemon).
    if (auto s = accepting_calls(ctx); !s) return s.take_error();
    std::string to = param(*params, "To"), from = param(*params, "From"), sid = param(*params, "CallSid");
    auto reject = [&](const std::string& why) {
        // The carrier's form fields are request data: escaped so they cannot forge log lines.
        spdlog::warn("Twilio call {} to {} rejected: {}", http::escape_log_field(sid, 64), http::escape_log_field(to, 64),
                     http::escape_log_field(why));
        return xml_response("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Reject/></Response>");
    };
    auto call = inbound_call(ctx, "twilio", from, to, sid);
    if (!call) return reject(call.error().message);
    return xml_response(twilio::connect_stream_twiml(ctx.carriers->twilio_stream_url(call->id), {{"call_id", call->id}}));
}

Result<http::Response> twilio_status(ApiContext& ctx, http::Request& request) {
    auto params = twilio_webhook(ctx, request);
    if (!params) return params.take_error();
    auto call = ctx.store.find_call(std::string(request.param("call_id")));
    if (!call || call->channel != "twilio") return not_found("call");
    std::string sid = param(*params, "CallSid");
    if (!call->provider_call_id.empty() && !sid.empty() && sid != call->provider_call_id)
        return invalid_field("CallSid", "does not belong to this call");
    if (auto s = carrier_status(ctx, *call, param(*params, "CallStatus"), param(*params, "CallDuration")); !s)
        return s.take_error();
    return empty_response(204);
}

// --- Exotel ------------------------------------------------------------------------------------------------------

// Exotel signs nothing: a request is Exotel's when it carries the token we gave it (and, when configured, comes
// from an allowed address).
Status exotel_authentic(ApiContext& ctx, const http::Request& request, const std::string& subject) {
    if (!ctx.carriers->exotel_source_allowed(request.remote_address))
        return make_error(ErrorCode::forbidden, "this address is not in exotel.allowed_sources");
    auto token = request.query.find("token");
    if (token == request.query.end() || !ctx.carriers->check_call_token(subject, token->second))
        return make_error(ErrorCode::forbidden, "missing or wrong token");
    return Ok{};
}

std::string query_or_form(const http::Request& request, const twilio::Params& form, const char* name) {
    if (auto it = request.query.find(name); it != request.query.end()) return it->second;
    return param(form, name);
}

// The Voicebot applet's https endpoint: Exotel asks where to stream a new inbound call, and gets {"url": ...}.
Result<http::Response> exotel_incoming(ApiContext& ctx, http::Request& request) {
    if (!ctx.carriers->exotel_enabled()) return not_found("Exotel is not configured in this daemon");
    auto form = request.method == "POST" ? parse_form(request.body) : twilio::Params{};
    std::string to = query_or_form(request, form, "To"), from = query_or_form(request, form, "From");
    std::string sid = query_or_form(request, form, "CallSid");
    if (to.empty()) return invalid_field("To", "missing: the number that was called");
    if (auto s = exotel_authentic(ctx, request, "incoming:" + to); !s) return s.take_error();
    // Flow mode: the outbound call we dialed reaches its Voicebot applet, which names it in CustomField. The token
    // only proves the request is for the number `To`, so the named call must have been dialed from that very number
    // (hence its workspace): otherwise one workspace's applet token would open another workspace's call media.
    std::string custom = query_or_form(request, form, "CustomField");
    if (!custom.empty()) {
        auto ours = ctx.store.find_call(custom);
        auto phone = ctx.store.find_phone_by_number(to);
        if (ours && phone && ours->channel == "exotel" && ours->direction == "outbound" && ours->ended_at == 0 &&
            ours->workspace_id == phone->workspace_id && ours->phone_id == phone->id)
            return json_response(200, json{{"url", ctx.carriers->exotel_stream_url(ours->id)}});
    }
    if (auto s = accepting_calls(ctx); !s) return s.take_error();
    auto call = inbound_call(ctx, "exotel", from, to, sid);
    if (!call) return call.take_error();
    return json_response(200, json{{"url", ctx.carriers->exotel_stream_url(call->id)}});
}

Result<http::Response> exotel_status(ApiContext& ctx, http::Request& request) {
    std::string call_id(request.param("call_id"));
    if (auto s = exotel_authentic(ctx, request, call_id); !s) return s.take_error();
    auto call = ctx.store.find_call(call_id);
    if (!call || call->channel != "exotel") return not_found("call");
    auto fields = exotel::parse_status_callback(request.header("content-type"), request.body);
    if (!fields) return fields.take_error();
    auto text = [&](const char* key) {
        if (!fields->contains(key)) return std::string();
        const json& v = (*fields)[key];
        return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : std::string();
    };
    std::string sid = text("CallSid");
    if (!call->provider_call_id.empty() && !sid.empty() && sid != call->provider_call_id)
        return invalid_field("CallSid", "does not belong to this call");
    std::string status = text("Status");
    if (auto s = carrier_status(ctx, *call, status, text("ConversationDuration")); !s) return s.take_error();
    return json_response(200, json{{"status", "received"}});
}

// The media socket: the per-call token in the URL, or HTTP Basic with our Exotel API key and token (how an applet
// URL written as wss://KEY:TOKEN@host/... arrives).
Result<std::unique_ptr<http::WsHandler>> exotel_media(ApiContext& ctx, http::Request& request) {
    std::string call_id(request.param("call_id"));
    auto refuse = [](std::string why) -> Result<std::unique_ptr<http::WsHandler>> {
        return std::unique_ptr<http::WsHandler>(std::make_unique<RefusedStream>(std::move(why)));
    };
    if (!ctx.carriers->exotel_source_allowed(request.remote_address)) return refuse("address not allowed");
    bool ok = false;
    if (auto token = request.query.find("token"); token != request.query.end())
        ok = ctx.carriers->check_call_token(call_id, token->second);
    const auto& account = ctx.carriers->exotel_account();
    if (!ok && ctx.carriers->exotel_enabled() && !account.api_key.empty())
        ok = constant_time_equal(request.header("authorization"),
                                 "Basic " + base64_encode(account.api_key + ":" + account.api_token));
    if (!ok) return refuse("missing or wrong token");
    int rate = ctx.carriers->exotel().sample_rate;
    for (const char* key : {"sample-rate", "sample_rate"})
        if (auto it = request.query.find(key); it != request.query.end()) rate = std::atoi(it->second.c_str());
    if (rate != 8000 && rate != 16000 && rate != 24000) return refuse("sample-rate must be 8000, 16000 or 24000");
    return ctx.calls->attach_carrier_media(call_id, exotel::make_media_codec(rate));
}

}  // namespace

void register_telephony_routes(http::Router& router, ApiContext& ctx) {
    router.add("POST", "/api/v1/calls/simulate", route(ctx, Role::member, simulate),
               {false, "A carrier call whose caller the client plays over the carrier's media protocol (vactl calls simulate)"});
    router.add("POST", "/api/v1/calls/outbound", route(ctx, Role::member, outbound),
               {true, "Dial a number through the carrier of the number it comes from (Idempotency-Key honoured)"});
    router.add("POST", "/api/v1/webhooks/twilio/voice", unauthenticated([&ctx](http::Request& r) { return twilio_voice(ctx, r); }),
               {false, "Twilio voice webhook (X-Twilio-Signature): TwiML connecting the number's agent"});
    router.add("POST", "/api/v1/webhooks/twilio/status/{call_id}",
               unauthenticated([&ctx](http::Request& r) { return twilio_status(ctx, r); }),
               {true, "Twilio status callback (X-Twilio-Signature)"});  // offloaded: may wait for the call's daemon
    router.add_websocket(
        "/media/twilio/{call_id}",
        [&ctx](http::Request& request) -> Result<std::unique_ptr<http::WsHandler>> {
            std::string call_id(request.param("call_id"));
            std::string url = ctx.carriers->ws_base() + request.target;
            bool ok = ctx.carriers->is_simulated(call_id)
                          ? twilio::verify_signature(ctx.carriers->simulation_key(call_id), url, {}, "",
                                                     request.header("x-twilio-signature"))
                          : ctx.carriers->twilio_enabled() && twilio_signed(ctx, request, {}, url);
            if (!ok) return std::unique_ptr<http::WsHandler>(std::make_unique<RefusedStream>("bad X-Twilio-Signature"));
            return ctx.calls->attach_carrier_media(call_id, twilio::make_media_codec());
        },
        {false, "Twilio Media Streams WebSocket of a call (X-Twilio-Signature)"});
    for (const char* method : {"GET", "POST"})
        router.add(method, "/api/v1/webhooks/exotel/incoming",
                   unauthenticated([&ctx](http::Request& r) { return exotel_incoming(ctx, r); }),
                   {false, "Exotel Voicebot applet endpoint (?token= per number): {\"url\": stream URL} for a new call"});
    router.add("POST", "/api/v1/webhooks/exotel/status/{call_id}",
               unauthenticated([&ctx](http::Request& r) { return exotel_status(ctx, r); }),
               {true, "Exotel status callback (JSON, urlencoded or multipart; ?token= per call)"});  // as Twilio's
    router.add_websocket(
        "/media/exotel/{call_id}", [&ctx](http::Request& request) { return exotel_media(ctx, request); },
        {false, "Exotel AgentStream WebSocket of a call (?token= per call, or HTTP Basic)"});
}

}  // namespace va::api
