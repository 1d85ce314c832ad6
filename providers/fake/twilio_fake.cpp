#include "providers/fake/twilio_fake.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <future>
#include <mutex>
#include <random>

#include "core/util/encoding.hpp"
#include "providers/common/http_client.hpp"
#include "providers/twilio/signature.hpp"

namespace va::fake {

using nlohmann::json;

namespace {


std::string xml_unescape(std::string s) {
    const std::pair<const char*, const char*> entities[] = {
        {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
    for (const auto& [from, to] : entities)
        for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += std::strlen(to))
            s.replace(at, std::strlen(from), to);
    return s;
}

std::string attribute(const std::string& tag, const std::string& name) {
    auto at = tag.find(" " + name + "=\"");
    if (at == std::string::npos) return {};
    at += name.size() + 3;
    auto end = tag.find('"', at);
    return end == std::string::npos ? std::string() : xml_unescape(tag.substr(at, end - at));
}

json twilio_error(int status, int code, const std::string& message) {
    return {{"code", code}, {"message", message}, {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
            {"status", status}};
}

std::string form_value(const twilio::Params& params, const char* name) {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return {};
}

}  // namespace

StreamTwiml parse_twiml(const std::string& xml) {
    StreamTwiml out;
    auto stream = xml.find("<Stream");
    if (stream != std::string::npos) {
        auto end = xml.find('>', stream);
        out.url = attribute(xml.substr(stream, end - stream), "url");
        for (auto p = xml.find("<Parameter", stream); p != std::string::npos; p = xml.find("<Parameter", p + 1)) {
            auto pe = xml.find('>', p);
            std::string tag = xml.substr(p, pe - p);
            out.parameters.emplace_back(attribute(tag, "name"), attribute(tag, "value"));
        }
    }
    if (auto dial = xml.find("<Dial"); dial != std::string::npos) {
        auto open_end = xml.find('>', dial);
        auto close = xml.find("</Dial>", open_end);
        if (open_end != std::string::npos && close != std::string::npos)
            out.dial = xml_unescape(xml.substr(open_end + 1, close - open_end - 1));
    }
    return out;
}

struct TwilioFake::Impl {
    Options& options;
    FakeCarrier carrier;
    std::mutex script_mutex;  // options.script: set_script may run while the REST thread copies it

    explicit Impl(Options& o) : options(o), carrier(o.port, OutcomePlan{o.default_outcome, o.outcomes}) {}

    void update(const std::string& sid, const std::function<void(FakeCall&)>& fn) { carrier.update(sid, fn); }

    // A status callback, form-encoded and signed as Twilio does.
    void callback(const std::string& sid, const std::string& url, const std::string& status, int duration_s = -1) {
        if (url.empty()) return;
        FakeCall call = carrier.find(sid).value_or(FakeCall{});
        twilio::Params params{{"CallSid", sid},         {"AccountSid", options.account_sid},
                              {"From", call.from},      {"To", call.to},
                              {"CallStatus", status},   {"ApiVersion", "2010-04-01"},
                              {"Direction", call.direction}, {"CallbackSource", "call-progress-events"},
                              {"SequenceNumber", std::to_string(call.statuses_sent.size())}};
        if (duration_s >= 0) params.emplace_back("CallDuration", std::to_string(duration_s));
        HttpRequest request;
        request.method = "POST";
        request.url = url;
        request.body = form_encode(params);
        request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"X-Twilio-Signature", twilio::signature(options.auth_token, url, params)}};
        auto answer = http_request(request);
        update(sid, [&](FakeCall& c) {
            c.statuses_sent.push_back(status);
            c.callback_answers.push_back(answer ? answer->status : 0);
        });
    }

    // The carrier's side of an answered call: stream to the TwiML's URL until either side ends it.
    void run_stream(const std::string& sid, const std::string& twiml, const std::string& status_url,
                    const std::vector<std::string>& events, CallerScript script) {
        auto wants = [&](const char* e) { return std::find(events.begin(), events.end(), e) != events.end(); };
        if (wants("initiated")) callback(sid, status_url, "initiated");
        if (wants("ringing")) callback(sid, status_url, "ringing");
        carrier.pause(std::chrono::milliseconds(options.ring_ms));
        if (wants("answered")) callback(sid, status_url, "in-progress");
        StreamTwiml parsed = parse_twiml(twiml);
        int duration_s = 0;
        if (!parsed.url.empty()) {
            json custom = json::object();
            for (const auto& [k, v] : parsed.parameters) custom[k] = v;
            CallerResult r = carrier.run_caller(
                sid, parsed.url, {{"X-Twilio-Signature", twilio::signature(options.auth_token, parsed.url, {})}},
                twilio_dialect(random_sid("MZ"), sid, options.account_sid, custom), std::move(script));
            duration_s = int((r.duration_ms + 500) / 1000);
        }
        carrier.call_over(sid);
        callback(sid, status_url, parsed.url.empty() ? "failed" : "completed", duration_s);
        update(sid, [](FakeCall& c) { c.ended = true; });
    }

    // An outbound call that never streams: the callee is busy, does not pick up, cannot be reached, or picks up
    // and hangs up at once ("completed"). A busy or unreachable line does not ring.
    void run_unanswered(const std::string& sid, const std::string& status_url, const std::vector<std::string>& events,
                        const std::string& outcome) {
        auto wants = [&](const char* e) { return std::find(events.begin(), events.end(), e) != events.end(); };
        if (wants("initiated")) callback(sid, status_url, "initiated");
        bool rings = outcome == "no-answer" || outcome == "completed";
        if (rings && wants("ringing")) callback(sid, status_url, "ringing");
        carrier.pause(std::chrono::milliseconds(options.ring_ms));
        if (outcome == "completed" && wants("answered")) callback(sid, status_url, "in-progress");
        carrier.call_over(sid);
        callback(sid, status_url, outcome, 0);
        update(sid, [](FakeCall& c) { c.ended = true; });
    }

    // Basic auth and injected faults; a non-null answer ends the request there.
    bool refuse(const httplib::Request& req, httplib::Response& res, const std::string& account) {
        int fault = carrier.take_fault();
        auto reply = [&res](int status, int code, const std::string& message) {
            res.status = status;
            res.set_content(twilio_error(status, code, message).dump(), "application/json");
            return true;
        };
        std::string expected = "Basic " + base64_encode(options.account_sid + ":" + options.auth_token);
        if (!constant_time_equal(req.get_header_value("Authorization"), expected) || account != options.account_sid)
            return reply(401, 20003, "Authenticate");
        if (fault == 429) return reply(429, 20429, "Too Many Requests");
        if (fault == 401) return reply(401, 20003, "Authenticate");
        if (fault) return reply(fault, 20500, "Internal Server Error");
        return false;
    }

    void routes() {
        carrier.server().Post(R"(/2010-04-01/Accounts/([^/]+)/Calls\.json)", [this](const httplib::Request& req, httplib::Response& res) {
            if (refuse(req, res, req.matches[1])) return;
            auto params = parse_form(req.body);
            std::string to = form_value(params, "To"), from = form_value(params, "From");
            std::string twiml = form_value(params, "Twiml"), url = form_value(params, "Url");
            if (to.empty() || from.empty() || (twiml.empty() && url.empty())) {
                res.status = 400;
                res.set_content(twilio_error(400, 21201, "To, From and one of Url or Twiml are required").dump(), "application/json");
                return;
            }
            if (to.size() < 3 || to[0] != '+') {
                res.status = 400;
                res.set_content(twilio_error(400, 21211, "The 'To' number " + to + " is not a valid phone number.").dump(),
                                "application/json");
                return;
            }
            std::string status_url = form_value(params, "StatusCallback");
            std::vector<std::string> events;
            for (const auto& [k, v] : params)
                if (k == "StatusCallbackEvent") events.push_back(v);
            if (events.empty()) events.push_back("completed");
            std::string sid = random_sid("CA");
            CallerScript script;
            {
                std::lock_guard lock(script_mutex);
                script = options.script;
            }
            std::string outcome = carrier.next_outcome(to);
            update(sid, [&](FakeCall& c) {
                c.direction = "outbound-api";
                c.to = to;
                c.from = from;
                c.instructions = twiml;
                c.outcome = outcome;
            });
            carrier.call_active(sid);
            json body{{"sid", sid}, {"account_sid", options.account_sid}, {"to", to}, {"from", from},
                      {"status", "queued"}, {"direction", "outbound-api"}, {"api_version", "2010-04-01"},
                      {"date_created", nullptr}, {"start_time", nullptr}, {"end_time", nullptr}, {"duration", nullptr},
                      {"price", nullptr}, {"price_unit", "USD"}, {"parent_call_sid", nullptr},
                      {"uri", "/2010-04-01/Accounts/" + options.account_sid + "/Calls/" + sid + ".json"}};
            res.status = 201;
            res.set_content(body.dump(), "application/json");
            carrier.start_lifecycle([this, sid, twiml, url, status_url, events, script, outcome] {
                if (outcome != "answer") return run_unanswered(sid, status_url, events, outcome);
                std::string doc = twiml;
                if (doc.empty()) {
                    // A Url instead of inline TwiML: fetch it as Twilio would (signed POST).
                    twilio::Params p{{"CallSid", sid}, {"AccountSid", options.account_sid}, {"CallStatus", "in-progress"}};
                    HttpRequest r;
                    r.method = "POST";
                    r.url = url;
                    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                                 {"X-Twilio-Signature", twilio::signature(options.auth_token, url, p)}};
                    r.body = form_encode(p);
                    auto answer = http_request(r);
                    doc = answer ? answer->body : "";
                }
                run_stream(sid, doc, status_url, events, script);
            });
        });
        carrier.server().Post(R"(/2010-04-01/Accounts/([^/]+)/Calls/([^/.]+)\.json)", [this](const httplib::Request& req, httplib::Response& res) {
            if (refuse(req, res, req.matches[1])) return;
            std::string sid = req.matches[2];
            auto params = parse_form(req.body);
            auto call = carrier.find(sid);
            if (!call || call->ended) {
                res.status = 404;
                res.set_content(twilio_error(404, 20404, "The requested resource was not found").dump(), "application/json");
                return;
            }
            std::string status = form_value(params, "Status"), twiml = form_value(params, "Twiml");
            update(sid, [&](FakeCall& c) {
                if (status == "completed" || status == "canceled") c.hung_up_by_api = true;
                if (!twiml.empty()) c.transferred_to = parse_twiml(twiml).dial;
            });
            // New instructions replace the stream: Twilio ends it, whatever the TwiML does next.
            carrier.end_stream(sid, std::chrono::seconds(2));
            res.status = 200;
            res.set_content(json{{"sid", sid}, {"status", "in-progress"}}.dump(), "application/json");
        });
    }
};

TwilioFake::TwilioFake(Options options) : m_options(std::move(options)), m_impl(std::make_unique<Impl>(m_options)) {
    m_impl->routes();
    m_impl->carrier.start();
}

TwilioFake::~TwilioFake() = default;

int TwilioFake::port() const { return m_impl->carrier.port(); }

void TwilioFake::set_script(CallerScript script) {
    std::lock_guard lock(m_impl->script_mutex);
    m_options.script = std::move(script);
}

void TwilioFake::set_outcomes(std::string default_outcome, std::map<std::string, std::vector<std::string>> outcomes) {
    auto set = m_impl->carrier.set_outcomes(OutcomePlan{std::move(default_outcome), std::move(outcomes)});
    if (!set) throw std::invalid_argument(set.error().message);
}

int TwilioFake::active_calls() const { return m_impl->carrier.active_calls(); }
int TwilioFake::max_active_calls() const { return m_impl->carrier.max_active_calls(); }
void TwilioFake::reset_max_active() { m_impl->carrier.reset_max_active(); }
std::vector<FakeCall> TwilioFake::ended_since(std::size_t& cursor) const { return m_impl->carrier.ended_since(cursor); }
void TwilioFake::fail_next(int status, int count) { m_impl->carrier.fail_next(status, count); }
int TwilioFake::rest_requests() const { return m_impl->carrier.rest_requests(); }

Result<std::string> TwilioFake::place_inbound(const std::string& voice_url, const std::string& from,
                                              const std::string& to, CallerScript script) {
    std::string sid = random_sid("CA");
    twilio::Params params{{"CallSid", sid},          {"AccountSid", m_options.account_sid}, {"From", from},
                          {"To", to},                {"CallStatus", "ringing"},            {"Direction", "inbound"},
                          {"ApiVersion", "2010-04-01"}};
    HttpRequest request;
    request.method = "POST";
    request.url = voice_url;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"X-Twilio-Signature", twilio::signature(m_options.auth_token, voice_url, params)}};
    request.body = form_encode(params);
    auto answer = http_request(request);
    if (!answer) return answer.take_error();
    if (answer->status != 200)
        return make_error(ErrorCode::unavailable, "the voice webhook answered " + std::to_string(answer->status) + ": " + answer->body);
    m_impl->update(sid, [&](FakeCall& c) {
        c.direction = "inbound";
        c.to = to;
        c.from = from;
        c.instructions = answer->body;
    });
    m_impl->carrier.start_lifecycle([impl = m_impl.get(), sid, twiml = answer->body, script = std::move(script)] {
        impl->run_stream(sid, twiml, "", {}, script);
    });
    return sid;
}

std::optional<FakeCall> TwilioFake::wait_for_end(const std::string& sid, std::chrono::milliseconds timeout) {
    return m_impl->carrier.wait_for_end(sid, timeout);
}

std::optional<FakeCall> TwilioFake::wait_for_any_call(std::chrono::milliseconds timeout) {
    return m_impl->carrier.wait_for_any_call(timeout);
}

std::vector<FakeCall> TwilioFake::calls() const { return m_impl->carrier.calls(); }

}  // namespace va::fake
