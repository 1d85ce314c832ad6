#include "providers/fake/twilio_fake.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstring>
#include <future>
#include <random>

#include "core/util/encoding.hpp"
#include "providers/common/http_client.hpp"
#include "providers/twilio/signature.hpp"

namespace va::fake {

using nlohmann::json;
namespace net = boost::asio;

namespace {

std::string random_sid(const char* prefix) {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    std::lock_guard lock(mutex);
    std::string sid = prefix;
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 32; ++i) sid += hex[rng() % 16];
    return sid;
}

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
    httplib::Server server;
    std::thread server_thread;
    net::io_context io;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work{net::make_work_guard(io)};
    std::thread io_thread;

    mutable std::mutex mutex;
    std::condition_variable changed;
    std::map<std::string, FakeCall> calls;
    std::map<std::string, std::shared_ptr<MediaCaller>> callers;
    std::vector<std::thread> lifecycles;
    int fail_status = 0, fail_count = 0;
    int requests = 0;
    std::atomic<bool> stopping{false};

    explicit Impl(Options& o) : options(o) {}

    void update(const std::string& sid, const std::function<void(FakeCall&)>& fn) {
        std::lock_guard lock(mutex);
        fn(calls[sid]);
        changed.notify_all();
    }

    // A status callback, form-encoded and signed as Twilio does.
    void callback(const std::string& sid, const std::string& url, const std::string& status, int duration_s = -1) {
        if (url.empty()) return;
        FakeCall call;
        {
            std::lock_guard lock(mutex);
            call = calls[sid];
        }
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
        std::this_thread::sleep_for(std::chrono::milliseconds(options.ring_ms));
        if (wants("answered")) callback(sid, status_url, "in-progress");
        StreamTwiml parsed = parse_twiml(twiml);
        int duration_s = 0;
        if (!parsed.url.empty()) {
            json custom = json::object();
            for (const auto& [k, v] : parsed.parameters) custom[k] = v;
            std::string stream_sid = random_sid("MZ");
            std::promise<CallerResult> done;
            auto result = done.get_future();
            auto caller = MediaCaller::start(
                io, parsed.url,
                {{"X-Twilio-Signature", twilio::signature(options.auth_token, parsed.url, {})}},
                twilio_dialect(stream_sid, sid, options.account_sid, custom), std::move(script),
                [&done](const CallerResult& r) { done.set_value(r); });
            {
                std::lock_guard lock(mutex);
                callers[sid] = caller;
            }
            CallerResult r = result.get();
            {
                std::lock_guard lock(mutex);
                callers.erase(sid);
            }
            duration_s = int((r.duration_ms + 500) / 1000);
            update(sid, [&](FakeCall& c) { c.caller = r; });
        }
        callback(sid, status_url, parsed.url.empty() ? "failed" : "completed", duration_s);
        update(sid, [](FakeCall& c) { c.ended = true; });
    }

    void start_lifecycle(std::function<void()> fn) {
        std::lock_guard lock(mutex);
        lifecycles.emplace_back(std::move(fn));
    }

    // Basic auth and injected faults; a non-null answer ends the request there.
    bool refuse(const httplib::Request& req, httplib::Response& res, const std::string& account) {
        std::lock_guard lock(mutex);
        ++requests;
        auto reply = [&res](int status, int code, const std::string& message) {
            res.status = status;
            res.set_content(twilio_error(status, code, message).dump(), "application/json");
            return true;
        };
        std::string expected = "Basic " + base64_encode(options.account_sid + ":" + options.auth_token);
        if (!constant_time_equal(req.get_header_value("Authorization"), expected) || account != options.account_sid)
            return reply(401, 20003, "Authenticate");
        if (fail_count > 0) {
            --fail_count;
            if (fail_status == 429) return reply(429, 20429, "Too Many Requests");
            if (fail_status == 401) return reply(401, 20003, "Authenticate");
            return reply(fail_status, 20500, "Internal Server Error");
        }
        return false;
    }

    void routes() {
        server.Post(R"(/2010-04-01/Accounts/([^/]+)/Calls\.json)", [this](const httplib::Request& req, httplib::Response& res) {
            if (refuse(req, res, req.matches[1])) return;
            auto params = twilio::parse_form(req.body);
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
                std::lock_guard lock(mutex);
                FakeCall& c = calls[sid];
                c.sid = sid;
                c.direction = "outbound-api";
                c.to = to;
                c.from = from;
                c.twiml = twiml;
                script = options.script;
            }
            changed.notify_all();
            json body{{"sid", sid}, {"account_sid", options.account_sid}, {"to", to}, {"from", from},
                      {"status", "queued"}, {"direction", "outbound-api"}, {"api_version", "2010-04-01"},
                      {"date_created", nullptr}, {"start_time", nullptr}, {"end_time", nullptr}, {"duration", nullptr},
                      {"price", nullptr}, {"price_unit", "USD"}, {"parent_call_sid", nullptr},
                      {"uri", "/2010-04-01/Accounts/" + options.account_sid + "/Calls/" + sid + ".json"}};
            res.status = 201;
            res.set_content(body.dump(), "application/json");
            start_lifecycle([this, sid, twiml, url, status_url, events, script] {
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
        server.Post(R"(/2010-04-01/Accounts/([^/]+)/Calls/([^/.]+)\.json)", [this](const httplib::Request& req, httplib::Response& res) {
            if (refuse(req, res, req.matches[1])) return;
            std::string sid = req.matches[2];
            auto params = twilio::parse_form(req.body);
            std::shared_ptr<MediaCaller> caller;
            {
                std::lock_guard lock(mutex);
                auto it = calls.find(sid);
                if (it == calls.end() || it->second.ended) {
                    res.status = 404;
                    res.set_content(twilio_error(404, 20404, "The requested resource was not found").dump(), "application/json");
                    return;
                }
                if (auto c = callers.find(sid); c != callers.end()) caller = c->second;
                std::string status = form_value(params, "Status"), twiml = form_value(params, "Twiml");
                if (status == "completed" || status == "canceled") it->second.hung_up_by_api = true;
                if (!twiml.empty()) it->second.transferred_to = parse_twiml(twiml).dial;
            }
            changed.notify_all();
            // New instructions replace the stream: Twilio ends it, whatever the TwiML does next.
            if (caller) caller->end_from_carrier();
            res.status = 200;
            res.set_content(json{{"sid", sid}, {"status", "in-progress"}}.dump(), "application/json");
        });
    }
};

TwilioFake::TwilioFake(Options options) : m_options(std::move(options)), m_impl(std::make_unique<Impl>(m_options)) {
    m_impl->routes();
    m_port = m_options.port ? (m_impl->server.bind_to_port("127.0.0.1", m_options.port) ? m_options.port : -1)
                            : m_impl->server.bind_to_any_port("127.0.0.1");
    if (m_port <= 0) throw std::runtime_error("fake Twilio cannot listen on 127.0.0.1:" + std::to_string(m_options.port));
    m_impl->server_thread = std::thread([this] { m_impl->server.listen_after_bind(); });
    m_impl->io_thread = std::thread([this] { m_impl->io.run(); });
}

TwilioFake::~TwilioFake() {
    m_impl->stopping = true;
    {
        std::lock_guard lock(m_impl->mutex);
        for (auto& [sid, caller] : m_impl->callers) caller->end_from_carrier();
    }
    m_impl->server.stop();
    if (m_impl->server_thread.joinable()) m_impl->server_thread.join();
    std::vector<std::thread> lifecycles;
    {
        std::lock_guard lock(m_impl->mutex);
        lifecycles.swap(m_impl->lifecycles);
    }
    for (auto& t : lifecycles) t.join();
    m_impl->work.reset();
    m_impl->io.stop();
    if (m_impl->io_thread.joinable()) m_impl->io_thread.join();
}

void TwilioFake::set_script(CallerScript script) {
    std::lock_guard lock(m_impl->mutex);
    m_options.script = std::move(script);
}

void TwilioFake::fail_next(int status, int count) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->fail_status = status;
    m_impl->fail_count = count;
}

int TwilioFake::rest_requests() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->requests;
}

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
        c.sid = sid;
        c.direction = "inbound";
        c.to = to;
        c.from = from;
        c.twiml = answer->body;
    });
    m_impl->start_lifecycle([impl = m_impl.get(), sid, twiml = answer->body, script = std::move(script)] {
        impl->run_stream(sid, twiml, "", {}, script);
    });
    return sid;
}

std::optional<FakeCall> TwilioFake::wait_for_end(const std::string& sid, std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_impl->mutex);
    bool ended = m_impl->changed.wait_for(lock, timeout, [&] {
        auto it = m_impl->calls.find(sid);
        return it != m_impl->calls.end() && it->second.ended;
    });
    if (!ended) return std::nullopt;
    return m_impl->calls[sid];
}

std::optional<FakeCall> TwilioFake::wait_for_any_call(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_impl->mutex);
    bool any = m_impl->changed.wait_for(lock, timeout, [&] { return !m_impl->calls.empty(); });
    if (!any) return std::nullopt;
    return m_impl->calls.begin()->second;
}

std::vector<FakeCall> TwilioFake::calls() const {
    std::lock_guard lock(m_impl->mutex);
    std::vector<FakeCall> out;
    for (const auto& [sid, c] : m_impl->calls) out.push_back(c);
    return out;
}

}  // namespace va::fake
