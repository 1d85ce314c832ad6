#include "providers/fake/exotel_fake.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <stdexcept>
#include <map>
#include <mutex>

#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/common/http_client.hpp"
#include "providers/twilio/signature.hpp"

namespace va::fake {

using nlohmann::json;

namespace {

json rest_exception(int status, const std::string& message) {
    return {{"RestException", {{"Status", status}, {"Message", message}, {"Code", status == 429 ? 20429 : status * 100}}}};
}

// The rate an AgentStream URL asks for (both spellings Exotel accepts), 8000 by default.
int rate_of(const std::string& url) {
    for (const char* key : {"sample-rate=", "sample_rate="}) {
        auto at = url.find(key);
        if (at != std::string::npos) return std::atoi(url.c_str() + at + std::strlen(key));
    }
    return 8000;
}

std::string field(const twilio::Params& params, const std::string& name) {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return {};
}

}  // namespace

struct ExotelFake::Impl {
    Options& options;
    FakeCarrier carrier;
    std::map<std::string, json> details;  // Call Details, by Sid (guarded by details_mutex)
    std::mutex details_mutex;

    explicit Impl(Options& o) : options(o), carrier(o.port, OutcomePlan{o.default_outcome, o.outcomes}) {}

    // The terminal callback; the call is over for the carrier before it says so (call_over), sent or dropped.
    void status_callback(const std::string& sid, const std::string& url, bool want_json, const std::string& status,
                         int duration_s, const std::string& from, const std::string& to, const std::string& custom) {
        carrier.call_over(sid);
        if (url.empty() || options.drop_status_callback) return;
        json fields{{"CallSid", sid},       {"EventType", "terminal"},  {"Status", status},
                    {"To", to},             {"From", from},             {"ConversationDuration", duration_s},
                    {"Direction", "outbound-api"}, {"CustomField", custom}, {"RecordingUrl", nullptr},
                    {"DateUpdated", "2026-11-24 12:00:00"}};
        HttpRequest request;
        request.method = "POST";
        request.url = url;
        std::string format = want_json ? "json" : options.callback_format == "json" ? "form" : options.callback_format;
        if (format == "json") {
            request.headers = {{"Content-Type", "application/json"}};
            request.body = fields.dump();
        } else if (format == "multipart") {
            std::string boundary = "----exotelfake" + random_sid("");
            for (const auto& [k, v] : fields.items()) {
                request.body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" +
                                (v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump()) + "\r\n";
            }
            request.body += "--" + boundary + "--\r\n";
            request.headers = {{"Content-Type", "multipart/form-data; boundary=" + boundary}};
        } else {
            std::vector<std::pair<std::string, std::string>> pairs;
            for (const auto& [k, v] : fields.items())
                pairs.emplace_back(k, v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump());
            request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
            request.body = form_encode(pairs);
        }
        auto answer = http_request(request);
        carrier.update(sid, [&](FakeCall& c) {
            c.statuses_sent.push_back(status);
            c.callback_answers.push_back(answer ? answer->status : 0);
        });
    }

    // Asks an applet endpoint where to stream (GET with the call's details, as Exotel does).
    std::string applet_stream_url(const std::string& applet_url, const std::string& sid, const std::string& from,
                                  const std::string& to, const std::string& custom) {
        std::string url = applet_url + (applet_url.find('?') == std::string::npos ? "?" : "&") +
                          form_encode({{"CallSid", sid}, {"From", from}, {"To", to}, {"CustomField", custom}});
        HttpRequest request;
        request.url = url;
        auto answer = http_request(request);
        if (!answer || answer->status != 200) return {};
        json body = parse_json(answer->body);
        return body.is_object() && body.contains("url") && body["url"].is_string() ? body["url"].get<std::string>() : "";
    }

    void stream(const std::string& sid, const std::string& url, const std::string& from, const std::string& to,
                CallerScript script) {
        json custom = json::object();
        int rate = rate_of(url);
        auto r = carrier.run_caller(sid, url, {},
                                    exotel_dialect(rate, options.frame_ms, random_sid(""), sid, options.account_sid, from, to, custom),
                                    std::move(script));
        std::lock_guard lock(details_mutex);
        details[sid]["Status"] = "completed";
        details[sid]["Duration"] = (r.duration_ms + 500) / 1000;
    }

    bool refuse(const httplib::Request& req, httplib::Response& res, const std::string& account) {
        int fault = carrier.take_fault();
        auto reply = [&res](int status, const std::string& message) {
            res.status = status;
            res.set_content(rest_exception(status, message).dump(), "application/json");
            return true;
        };
        std::string expected = "Basic " + base64_encode(options.api_key + ":" + options.api_token);
        if (!constant_time_equal(req.get_header_value("Authorization"), expected) || account != options.account_sid)
            return reply(401, "Authentication failed");
        if (fault == 429) return reply(429, "Too many requests: 200 per minute per account");
        if (fault) return reply(fault, fault == 401 ? "Authentication failed" : "Internal error");
        return false;
    }

    void routes() {
        carrier.server().Post(R"(/v1/[Aa]ccounts/([^/]+)/[Cc]alls/connect(\.json)?)", [this](const httplib::Request& req,
                                                                                         httplib::Response& res) {
            if (refuse(req, res, req.matches[1])) return;
            // Form fields, urlencoded or multipart; PascalCase, or lowercase in the newer docs.
            twilio::Params params;
            if (req.is_multipart_form_data()) {
                for (const auto& [k, f] : req.files) params.emplace_back(k, f.content);
            } else {
                params = parse_form(req.body);
            }
            auto get = [&](const char* pascal) {
                std::string v = field(params, pascal);
                if (v.empty()) {
                    std::string lower = pascal;
                    for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
                    v = field(params, lower);
                }
                return v;
            };
            std::string from = get("From"), caller_id = get("CallerId"), stream_url = get("StreamUrl"), url = get("Url");
            if (from.empty() || caller_id.empty() || (stream_url.empty() && url.empty())) {
                res.status = 400;
                res.set_content(rest_exception(400, "From, CallerId and StreamUrl or Url are required").dump(), "application/json");
                return;
            }
            if (!stream_url.empty() && ((stream_url.rfind("ws://", 0) != 0 && stream_url.rfind("wss://", 0) != 0) ||
                                        stream_url.size() >= 600)) {
                res.status = 400;
                res.set_content(rest_exception(400, "StreamUrl must be a ws:// or wss:// URL under 600 characters").dump(),
                                "application/json");
                return;
            }
            std::string sid = random_sid("");
            std::string status_url = get("StatusCallback");
            bool want_json = get("StatusCallbackContentType") == "application/json";
            std::string custom = get("CustomField");
            // `From` is the customer: the number Exotel dials first (CallerId is our ExoPhone).
            std::string outcome = carrier.next_outcome(from);
            carrier.update(sid, [&](FakeCall& c) {
                c.direction = "outbound-api";
                c.to = caller_id;
                c.from = from;
                c.instructions = stream_url.empty() ? url : stream_url;
                c.outcome = outcome;
            });
            carrier.call_active(sid);
            {
                std::lock_guard lock(details_mutex);
                details[sid] = {{"Sid", sid}, {"Status", "in-progress"}, {"Duration", nullptr}, {"From", from}};
            }
            json call{{"Sid", sid}, {"ParentCallSid", ""}, {"AccountSid", options.account_sid}, {"To", caller_id},
                      {"From", from}, {"Status", "in-progress"}, {"Direction", "outbound-api"}, {"Duration", nullptr},
                      {"Price", nullptr}, {"RecordingUrl", ""},
                      {"Uri", "/v1/Accounts/" + options.account_sid + "/Calls/" + sid}};
            json body = options.lowercase_response ? json{{"call", {{"sid", sid}, {"status", "in-progress"}}}}
                                                   : json{{"Call", call}};
            res.status = 200;
            res.set_content(body.dump(), "application/json");
            CallerScript script = options.script;
            carrier.start_lifecycle([this, sid, stream_url, url, status_url, want_json, from, caller_id, custom, script,
                                     outcome] {
                carrier.pause(std::chrono::milliseconds(options.ring_ms));
                if (outcome != "answer") {  // no stream: busy, no-answer, failed, or answered and hung up at once
                    {
                        std::lock_guard lock(details_mutex);
                        details[sid]["Status"] = outcome;
                        details[sid]["Duration"] = 0;
                    }
                    status_callback(sid, status_url, want_json, outcome, 0, from, caller_id, custom);
                    carrier.update(sid, [](FakeCall& c) { c.ended = true; });
                    return;
                }
                std::string target = stream_url;
                if (target.empty() && !options.flow_applet_url.empty())  // the flow's Voicebot applet asks us
                    target = applet_stream_url(options.flow_applet_url, sid, from, caller_id, custom);
                int duration = 0;
                if (!target.empty()) {
                    stream(sid, target, from, caller_id, script);
                    std::lock_guard lock(details_mutex);
                    duration = details[sid]["Duration"].get<int>();
                }
                status_callback(sid, status_url, want_json, "completed", duration, from, caller_id, custom);
                carrier.update(sid, [](FakeCall& c) { c.ended = true; });
            });
        });
        carrier.server().Get(R"(/v1/Accounts/([^/]+)/Calls/([^/.]+)\.json)", [this](const httplib::Request& req,
                                                                                  httplib::Response& res) {
            if (refuse(req, res, req.matches[1])) return;
            std::lock_guard lock(details_mutex);
            auto it = details.find(req.matches[2]);
            if (it == details.end()) {
                res.status = 404;
                res.set_content(rest_exception(404, "Call not found").dump(), "application/json");
                return;
            }
            res.set_content(json{{"Call", it->second}}.dump(), "application/json");
        });
    }
};

ExotelFake::ExotelFake(Options options) : m_options(std::move(options)), m_impl(std::make_unique<Impl>(m_options)) {
    m_impl->routes();
    m_impl->carrier.start();
}

ExotelFake::~ExotelFake() = default;

void ExotelFake::set_outcomes(std::string default_outcome, std::map<std::string, std::vector<std::string>> outcomes) {
    auto set = m_impl->carrier.set_outcomes(OutcomePlan{std::move(default_outcome), std::move(outcomes)});
    if (!set) throw std::invalid_argument(set.error().message);
}

int ExotelFake::active_calls() const { return m_impl->carrier.active_calls(); }
int ExotelFake::max_active_calls() const { return m_impl->carrier.max_active_calls(); }
void ExotelFake::reset_max_active() { m_impl->carrier.reset_max_active(); }
std::vector<FakeCall> ExotelFake::ended_since(std::size_t& cursor) const { return m_impl->carrier.ended_since(cursor); }

int ExotelFake::port() const { return m_impl->carrier.port(); }
void ExotelFake::fail_next(int status, int count) { m_impl->carrier.fail_next(status, count); }
int ExotelFake::rest_requests() const { return m_impl->carrier.rest_requests(); }

Result<std::string> ExotelFake::place_inbound(const std::string& applet_url, const std::string& from,
                                              const std::string& to, CallerScript script) {
    std::string sid = random_sid("");
    std::string url = m_impl->applet_stream_url(applet_url, sid, from, to, "");
    if (url.empty()) return make_error(ErrorCode::unavailable, "the applet endpoint gave no stream URL");
    m_impl->carrier.update(sid, [&](FakeCall& c) {
        c.direction = "inbound";
        c.to = to;
        c.from = from;
        c.instructions = url;
    });
    m_impl->carrier.start_lifecycle([impl = m_impl.get(), sid, url, from, to, script = std::move(script)] {
        impl->stream(sid, url, from, to, script);
        impl->carrier.update(sid, [](FakeCall& c) { c.ended = true; });
    });
    return sid;
}

std::optional<FakeCall> ExotelFake::wait_for_end(const std::string& sid, std::chrono::milliseconds timeout) {
    return m_impl->carrier.wait_for_end(sid, timeout);
}
std::optional<FakeCall> ExotelFake::wait_for_any_call(std::chrono::milliseconds timeout) {
    return m_impl->carrier.wait_for_any_call(timeout);
}
std::vector<FakeCall> ExotelFake::calls() const { return m_impl->carrier.calls(); }

}  // namespace va::fake
