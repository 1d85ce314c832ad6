// The carrier fakes' outbound-call outcomes, their count of calls in flight, and the webhook receiver's signature
// check. Both carriers' fakes are tested here because this is the unit-test binary that links the fakes.
#include <catch2/catch.hpp>

#include "support/eventually.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/util/encoding.hpp"
#include "providers/common/http_client.hpp"
#include "providers/fake/exotel_fake.hpp"
#include "providers/fake/fake_server.hpp"
#include "providers/fake/twilio_fake.hpp"
#include "providers/fake/webhook_receiver.hpp"
#include "providers/twilio/signature.hpp"
#include "support/http_capture_server.hpp"

using namespace va;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The daemon's side of the status callbacks: records each one, and how many calls the fake had in flight as it
// arrived.
struct StatusReceiver {
    struct Callback {
        std::string path, content_type, body, twilio_signature;
        int active_at_arrival = -1;
    };
    std::mutex mutex;
    std::vector<Callback> received;
    std::function<int()> active;  // set before any call is placed
    test::HttpCaptureServer server;  // last: stopped before what its handler uses is destroyed

    StatusReceiver() {
        server.route("POST", R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
            Callback c{req.path, req.get_header_value("Content-Type"), req.body, req.get_header_value("X-Twilio-Signature"),
                       active ? active() : -1};
            std::lock_guard lock(mutex);
            received.push_back(std::move(c));
            res.status = 204;
        });
        server.start();
    }
    std::string url(const std::string& path) const { return server.url(path); }
    std::vector<Callback> for_path(const std::string& path) {
        std::lock_guard lock(mutex);
        std::vector<Callback> out;
        for (const auto& c : received)
            if (c.path == path) out.push_back(c);
        return out;
    }
};

std::string form_field(const std::string& body, const std::string& name) {
    for (const auto& [k, v] : parse_form(body))
        if (k == name) return v;
    return {};
}

// The daemon's media endpoint, reduced to what these tests need: it counts streams, may speak a greeting (Twilio
// media, mu-law) once the stream starts, and may close the stream after a while or when the test says so
// (close_streams()).
struct BotSettings {
    int greeting_ms = 0;     // > 0: this much audio right after start
    int close_after_ms = -1; // >= 0: the bot ends the stream
};

struct MiniBot {
    using Settings = BotSettings;
    fake::LoopbackServer server;
    std::atomic<int> streams{0};
    Settings settings;
    std::function<int()> active;          // the fake's calls in flight, looked at when a stop arrives
    std::atomic<int> active_at_stop{-1};
    std::mutex mutex;
    std::vector<std::weak_ptr<http::WsConnection>> open;  // streams whose on_open has run, guarded by mutex

    // The bot ends every stream that is open: a gate the test opens, however slow the machine.
    void close_streams() {
        std::lock_guard lock(mutex);
        for (auto& weak : open)
            if (auto c = weak.lock()) c->close(1000, "bye");
    }
    std::size_t opened() {
        std::lock_guard lock(mutex);
        return open.size();
    }

    class Session final : public http::WsHandler {
    public:
        explicit Session(MiniBot& bot) : m_bot(bot) {}
        void on_open(std::shared_ptr<http::WsConnection> connection) override {
            m_connection = connection;
            {
                std::lock_guard lock(m_bot.mutex);
                m_bot.open.push_back(connection);
            }
            if (m_bot.settings.close_after_ms >= 0)
                connection->post_after(m_bot.settings.close_after_ms, [connection] { connection->close(1000, "bye"); });
        }
        void on_text(std::string_view message) override {
            json m = json::parse(message, nullptr, false);
            if (m.is_object() && m.value("event", "") == "stop" && m_bot.active) m_bot.active_at_stop = m_bot.active();
            if (!m.is_object() || m.value("event", "") != "start" || m_bot.settings.greeting_ms <= 0) return;
            std::string stream_sid = m.value("streamSid", "");
            std::string ulaw(std::size_t(8 * m_bot.settings.greeting_ms), char(0xff));  // mu-law silence: audio all the same
            m_connection->send_text(
                json{{"event", "media"}, {"streamSid", stream_sid}, {"media", {{"payload", base64_encode(ulaw)}}}}.dump());
        }
        void on_binary(std::string_view) override {}
        void on_close() override { m_connection.reset(); }

    private:
        MiniBot& m_bot;
        std::shared_ptr<http::WsConnection> m_connection;
    };

    explicit MiniBot(Settings s = {}) : settings(s) {
        server.router().add_websocket("/media/{id}", [this](http::Request&) -> Result<std::unique_ptr<http::WsHandler>> {
            ++streams;
            return std::unique_ptr<http::WsHandler>(std::make_unique<Session>(*this));
        });
        server.start(0, 1);
    }
    std::string url(const std::string& id) const { return "ws://127.0.0.1:" + std::to_string(server.port()) + "/media/" + id; }
};

// POST Calls.json as the daemon does (inline TwiML, every progress event asked for).
std::string twilio_dial(fake::TwilioFake& fake, const std::string& to, const std::string& stream_url,
                        const std::string& status_url) {
    HttpRequest r;
    r.method = "POST";
    r.url = fake.base_url() + "/2010-04-01/Accounts/" + fake.options().account_sid + "/Calls.json";
    r.basic_user = fake.options().account_sid;
    r.basic_password = fake.options().auth_token;
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    r.body = form_encode({{"To", to},
                          {"From", "+14155550000"},
                          {"Twiml", "<Response><Connect><Stream url=\"" + stream_url + "\"/></Connect></Response>"},
                          {"StatusCallback", status_url},
                          {"StatusCallbackEvent", "initiated"},
                          {"StatusCallbackEvent", "ringing"},
                          {"StatusCallbackEvent", "answered"},
                          {"StatusCallbackEvent", "completed"}});
    auto answer = http_request(r);
    REQUIRE(answer);
    REQUIRE(answer->status == 201);
    return json::parse(answer->body)["sid"].get<std::string>();
}

// POST Calls/connect.json in Connect Voice AI mode, JSON status callbacks.
std::string exotel_dial(fake::ExotelFake& fake, const std::string& from, const std::string& stream_url,
                        const std::string& status_url) {
    HttpRequest r;
    r.method = "POST";
    r.url = fake.base_url() + "/v1/Accounts/" + fake.options().account_sid + "/Calls/connect.json";
    r.basic_user = fake.options().api_key;
    r.basic_password = fake.options().api_token;
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    r.body = form_encode({{"From", from},
                          {"CallerId", "08047491899"},
                          {"StreamUrl", stream_url},
                          {"StreamType", "bidirectional"},
                          {"StatusCallback", status_url},
                          {"StatusCallbackContentType", "application/json"},
                          {"StatusCallbackEvents[0]", "terminal"}});
    auto answer = http_request(r);
    REQUIRE(answer);
    REQUIRE(answer->status == 200);
    return json::parse(answer->body)["Call"]["Sid"].get<std::string>();
}

fake::CallerScript quick_hang_up() {
    fake::CallerScript s;
    s.first_wait_ms = 300;  // the bot of these tests mostly says nothing: the callee leaves soon
    s.hang_up_after_ms = 200;
    return s;
}

}  // namespace

TEST_CASE("twilio fake: each outcome sends Twilio's callbacks, and only an answered call streams") {
    struct Case {
        std::string outcome;
        std::vector<std::string> statuses;
    };
    const std::vector<Case> cases{
        {"answer", {"initiated", "ringing", "in-progress", "completed"}},
        {"completed", {"initiated", "ringing", "in-progress", "completed"}},
        {"busy", {"initiated", "busy"}},
        {"no-answer", {"initiated", "ringing", "no-answer"}},
        {"failed", {"initiated", "failed"}},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.outcome) {
            MiniBot bot;
            StatusReceiver receiver;
            fake::TwilioFake::Options o;
            o.ring_ms = 50;
            o.script = quick_hang_up();
            o.default_outcome = c.outcome;
            fake::TwilioFake fake(o);
            std::string status_url = receiver.url("/status/" + c.outcome);
            std::string sid = twilio_dial(fake, "+14155550100", bot.url("c1"), status_url);
            auto call = fake.wait_for_end(sid, 10s);
            REQUIRE(call);
            CHECK(call->outcome == c.outcome);
            CHECK(call->statuses_sent == c.statuses);
            CHECK(bot.streams == (c.outcome == "answer" ? 1 : 0));
            CHECK(call->caller.done == (c.outcome == "answer"));
            auto callbacks = receiver.for_path("/status/" + c.outcome);
            REQUIRE(callbacks.size() == c.statuses.size());
            for (std::size_t i = 0; i < callbacks.size(); ++i) {
                const auto& cb = callbacks[i];
                auto params = parse_form(cb.body);
                CHECK(cb.content_type == "application/x-www-form-urlencoded");
                CHECK(twilio::verify_signature(fake.options().auth_token, status_url, params, cb.body, cb.twilio_signature));
                CHECK(form_field(cb.body, "CallSid") == sid);
                CHECK(form_field(cb.body, "CallStatus") == c.statuses[i]);
                CHECK(form_field(cb.body, "SequenceNumber") == std::to_string(i));
                CHECK(form_field(cb.body, "To") == "+14155550100");
                CHECK(form_field(cb.body, "Direction") == "outbound-api");
            }
            if (c.outcome != "answer") CHECK(form_field(callbacks.back().body, "CallDuration") == "0");
            CHECK(fake.active_calls() == 0);
            CHECK(fake.max_active_calls() == 1);
        }
    }
}

TEST_CASE("exotel fake: each outcome ends with its terminal Status in the callback, and only an answered call streams") {
    for (std::string outcome : {"answer", "completed", "busy", "no-answer", "failed"}) {
        DYNAMIC_SECTION(outcome) {
            MiniBot bot({0, 100});  // an answered call: the bot hangs up soon
            StatusReceiver receiver;
            fake::ExotelFake::Options o;
            o.ring_ms = 50;
            o.script = quick_hang_up();
            o.default_outcome = outcome;
            fake::ExotelFake fake(o);
            std::string sid = exotel_dial(fake, "+919876543210", bot.url("c1"), receiver.url("/exotel/status"));
            auto call = fake.wait_for_end(sid, 10s);
            REQUIRE(call);
            CHECK(call->outcome == outcome);
            std::string terminal = outcome == "answer" ? "completed" : outcome;
            CHECK(call->statuses_sent == std::vector<std::string>{terminal});
            CHECK(bot.streams == (outcome == "answer" ? 1 : 0));
            auto callbacks = receiver.for_path("/exotel/status");
            REQUIRE(callbacks.size() == 1);
            CHECK(callbacks[0].content_type == "application/json");
            json body = json::parse(callbacks[0].body);
            CHECK(body["CallSid"] == sid);
            CHECK(body["EventType"] == "terminal");
            CHECK(body["Status"] == terminal);
            CHECK(body["From"] == "+919876543210");
            if (outcome != "answer") CHECK(body["ConversationDuration"] == 0);
            CHECK(fake.active_calls() == 0);
        }
    }
}

TEST_CASE("exotel fake: form-encoded status callbacks carry the outcome too") {
    StatusReceiver receiver;
    fake::ExotelFake::Options o;
    o.ring_ms = 10;
    o.default_outcome = "no-answer";
    fake::ExotelFake fake(o);
    HttpRequest r;
    r.method = "POST";
    r.url = fake.base_url() + "/v1/Accounts/" + o.account_sid + "/Calls/connect.json";
    r.basic_user = o.api_key;
    r.basic_password = o.api_token;
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    r.body = form_encode({{"From", "+919800000001"}, {"CallerId", "0801"}, {"StreamUrl", "ws://127.0.0.1:1/x"},
                          {"StatusCallback", receiver.url("/s")}});  // no content type asked for: form
    auto answer = http_request(r);
    REQUIRE(answer);
    std::string sid = json::parse(answer->body)["Call"]["Sid"];
    REQUIRE(fake.wait_for_end(sid, 5s));
    auto callbacks = receiver.for_path("/s");
    REQUIRE(callbacks.size() == 1);
    CHECK(callbacks[0].content_type == "application/x-www-form-urlencoded");
    CHECK(form_field(callbacks[0].body, "Status") == "no-answer");
    CHECK(form_field(callbacks[0].body, "ConversationDuration") == "0");
}

TEST_CASE("carrier fakes: the n-th call to a number takes the n-th outcome, the last repeating") {
    SECTION("twilio, by To, from Options") {
        StatusReceiver receiver;
        fake::TwilioFake::Options o;
        o.ring_ms = 0;
        o.default_outcome = "completed";
        o.outcomes = {{"+14155550100", {"busy", "no-answer", "failed"}}};
        fake::TwilioFake fake(o);
        std::vector<std::string> got;
        for (int i = 0; i < 5; ++i) {
            auto call = fake.wait_for_end(twilio_dial(fake, "+14155550100", "ws://127.0.0.1:1/x", receiver.url("/s")), 5s);
            REQUIRE(call);
            got.push_back(call->outcome);
            CHECK(call->statuses_sent.back() == call->outcome);
        }
        CHECK(got == std::vector<std::string>{"busy", "no-answer", "failed", "failed", "failed"});
        auto other = fake.wait_for_end(twilio_dial(fake, "+14155550199", "ws://127.0.0.1:1/x", receiver.url("/s")), 5s);
        REQUIRE(other);
        CHECK(other->outcome == "completed");
    }
    SECTION("exotel, by From, through set_outcomes (which starts the sequences again)") {
        StatusReceiver receiver;
        fake::ExotelFake::Options o;
        o.ring_ms = 0;
        fake::ExotelFake fake(o);
        CHECK_THROWS_AS(fake.set_outcomes("answer", {{"+919800000001", {"busy", "ringing"}}}), std::invalid_argument);
        CHECK_THROWS_AS(fake.set_outcomes("answer", {{"+919800000001", {}}}), std::invalid_argument);
        fake.set_outcomes("failed", {{"+919800000001", {"busy", "completed"}}});
        std::vector<std::string> got;
        for (int i = 0; i < 3; ++i) {
            auto call = fake.wait_for_end(exotel_dial(fake, "+919800000001", "ws://127.0.0.1:1/x", receiver.url("/s")), 5s);
            REQUIRE(call);
            got.push_back(call->outcome);
        }
        CHECK(got == std::vector<std::string>{"busy", "completed", "completed"});
        fake.set_outcomes("failed", {{"+919800000001", {"busy", "completed"}}});
        auto again = fake.wait_for_end(exotel_dial(fake, "+919800000001", "ws://127.0.0.1:1/x", receiver.url("/s")), 5s);
        REQUIRE(again);
        CHECK(again->outcome == "busy");
        auto other = fake.wait_for_end(exotel_dial(fake, "+919800000002", "ws://127.0.0.1:1/x", receiver.url("/s")), 5s);
        REQUIRE(other);
        CHECK(other->outcome == "failed");
    }
    SECTION("an unknown outcome in Options is refused at construction") {
        fake::TwilioFake::Options o;
        o.default_outcome = "voicemail";
        CHECK_THROWS_AS(fake::TwilioFake(o), std::invalid_argument);
    }
}

TEST_CASE("carrier fakes: the outcomes file format") {
    auto plan = fake::parse_outcomes_json(R"({"+14155550100": ["busy", "answer"], "+14155550101": "no-answer"})");
    REQUIRE(plan);
    CHECK(plan->at("+14155550100") == std::vector<std::string>{"busy", "answer"});
    CHECK(plan->at("+14155550101") == std::vector<std::string>{"no-answer"});
    CHECK_FALSE(fake::parse_outcomes_json(R"({"+1": ["busy", "voicemail"]})"));
    CHECK_FALSE(fake::parse_outcomes_json(R"({"+1": []})"));
    CHECK_FALSE(fake::parse_outcomes_json(R"({"+1": [3]})"));
    CHECK_FALSE(fake::parse_outcomes_json(R"(["busy"])"));
    CHECK_FALSE(fake::parse_outcomes_json("not json"));
}

TEST_CASE("carrier fakes: calls in flight count from the REST create to the terminal callback, at most once each") {
    SECTION("twilio, completed calls that overlap while ringing") {
        StatusReceiver receiver;
        fake::TwilioFake::Options o;
        o.ring_ms = 400;
        o.default_outcome = "completed";
        fake::TwilioFake fake(o);
        receiver.active = [&fake] { return fake.active_calls(); };
        std::vector<std::string> sids;
        for (int i = 0; i < 3; ++i) {
            sids.push_back(twilio_dial(fake, "+1415555010" + std::to_string(i), "ws://127.0.0.1:1/x", receiver.url("/s/" + std::to_string(i))));
            CHECK(fake.active_calls() == i + 1);  // active as soon as the create is accepted
        }
        for (const auto& sid : sids) REQUIRE(fake.wait_for_end(sid, 5s));
        CHECK(fake.active_calls() == 0);
        CHECK(fake.max_active_calls() == 3);
        for (int i = 0; i < 3; ++i) {
            auto callbacks = receiver.for_path("/s/" + std::to_string(i));
            REQUIRE(callbacks.size() == 4);
            // Over for the carrier before its terminal callback: at most the other two are still active then.
            CHECK(callbacks.back().active_at_arrival <= 2);
            CHECK(callbacks[2].active_at_arrival >= 1);  // in-progress: this call still counts
        }
        fake.reset_max_active();
        CHECK(fake.max_active_calls() == 0);
        REQUIRE(fake.wait_for_end(twilio_dial(fake, "+14155550109", "ws://127.0.0.1:1/x", receiver.url("/s/x")), 5s));
        CHECK(fake.max_active_calls() == 1);
        CHECK(fake.active_calls() == 0);
    }
    SECTION("twilio, answered calls stop counting when their stream closes, before the terminal callback") {
        MiniBot bot;  // the bot ends the streams when the test closes them
        StatusReceiver receiver;
        fake::TwilioFake::Options o;
        o.ring_ms = 10;
        o.script.first_wait_ms = 60000;
        o.script.hang_up_after_ms = 60000;
        fake::TwilioFake fake(o);
        receiver.active = [&fake] { return fake.active_calls(); };
        std::string a = twilio_dial(fake, "+14155550100", bot.url("a"), receiver.url("/a"));
        std::string b = twilio_dial(fake, "+14155550101", bot.url("b"), receiver.url("/b"));
        // Both streams are up, and stay up until the test closes them: two in flight.
        REQUIRE(va::test::eventually([&] { return bot.opened() == 2; }, 20s));
        CHECK(fake.active_calls() == 2);
        bot.close_streams();
        auto ca = fake.wait_for_end(a, 10s), cb = fake.wait_for_end(b, 10s);
        REQUIRE(ca);
        REQUIRE(cb);
        CHECK(ca->caller.ended_by == "bot");
        CHECK(fake.active_calls() == 0);
        CHECK(fake.max_active_calls() == 2);
        auto terminal_a = receiver.for_path("/a").back(), terminal_b = receiver.for_path("/b").back();
        CHECK(form_field(terminal_a.body, "CallStatus") == "completed");
        CHECK(terminal_a.active_at_arrival <= 1);
        CHECK(terminal_b.active_at_arrival <= 1);
    }
    SECTION("twilio, a callee who hangs up is out of the count before the bot reads its stop") {
        MiniBot bot;
        StatusReceiver receiver;
        fake::TwilioFake::Options o;
        o.ring_ms = 10;
        o.script = quick_hang_up();
        fake::TwilioFake fake(o);
        bot.active = [&fake] { return fake.active_calls(); };
        auto call = fake.wait_for_end(twilio_dial(fake, "+14155550100", bot.url("h"), receiver.url("/h")), 10s);
        REQUIRE(call);
        CHECK(call->caller.ended_by == "caller");
        CHECK(bot.active_at_stop == 0);
        CHECK(fake.max_active_calls() == 1);
    }
    SECTION("exotel, a stream that fails to open counts down too") {
        StatusReceiver receiver;
        fake::ExotelFake::Options o;
        o.ring_ms = 200;
        fake::ExotelFake fake(o);
        receiver.active = [&fake] { return fake.active_calls(); };
        std::string a = exotel_dial(fake, "+919800000001", "ws://127.0.0.1:1/nothing-listens", receiver.url("/a"));
        std::string b = exotel_dial(fake, "+919800000002", "ws://127.0.0.1:1/nothing-listens", receiver.url("/b"));
        CHECK(fake.active_calls() == 2);
        auto ca = fake.wait_for_end(a, 10s), cb = fake.wait_for_end(b, 10s);
        REQUIRE(ca);
        REQUIRE(cb);
        CHECK(ca->caller.ended_by == "error");
        CHECK(fake.active_calls() == 0);
        CHECK(fake.max_active_calls() == 2);
    }
}

TEST_CASE("carrier fakes: with no turns, the callee hangs up once the bot's greeting is over and quiet") {
    SECTION("the bot greets: the callee waits for the end of it, then hang_up_after_ms of quiet") {
        MiniBot bot({600, -1});
        fake::TwilioFake::Options o;
        o.ring_ms = 10;
        o.script.first_wait_ms = 600000;  // never reached: the end of the greeting is what ends the call
        o.script.hang_up_after_ms = 300;
        fake::TwilioFake fake(o);
        StatusReceiver receiver;
        auto call = fake.wait_for_end(twilio_dial(fake, "+14155550100", bot.url("g"), receiver.url("/g")), 10s);
        REQUIRE(call);
        CHECK(call->caller.ended_by == "caller");
        CHECK(call->caller.violations.empty());
        REQUIRE_FALSE(call->caller.spans.empty());
        std::int64_t heard_ms = call->caller.spans.back().end_ms - call->caller.spans.front().start_ms;
        CHECK(heard_ms >= 560);  // the whole greeting was played out
        CHECK(call->caller.duration_ms >= call->caller.spans.back().end_ms + 250);
    }
    SECTION("the bot never speaks: first_wait_ms") {
        MiniBot bot;
        fake::TwilioFake::Options o;
        o.ring_ms = 10;
        o.script.first_wait_ms = 400;
        o.script.hang_up_after_ms = 100;
        fake::TwilioFake fake(o);
        StatusReceiver receiver;
        auto call = fake.wait_for_end(twilio_dial(fake, "+14155550100", bot.url("q"), receiver.url("/q")), 10s);
        REQUIRE(call);
        CHECK(call->caller.ended_by == "caller");
        CHECK(call->caller.spans.empty());
        CHECK(call->caller.duration_ms >= 380);  // not before first_wait_ms (on the fake's own clock)
    }
}

TEST_CASE("carrier fakes: finished lifecycle threads are joined as new calls start") {
    fake::FakeCarrier carrier(0);
    carrier.start();
    for (int i = 0; i < 300; ++i) carrier.start_lifecycle([] {});
    // Each new start joins those that have finished: once the 300 are done, the next start leaves only itself
    // (however slowly a loaded machine runs them, hence the polling).
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (carrier.lifecycle_threads() > 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
        carrier.start_lifecycle([] {});
    }
    CHECK(carrier.lifecycle_threads() <= 2);

    // Many short calls through a fake: every one ends, counted down once, with few threads left over.
    fake::TwilioFake::Options o;
    o.ring_ms = 0;
    o.default_outcome = "completed";
    fake::TwilioFake fake(o);
    std::vector<std::string> sids;
    for (int i = 0; i < 200; ++i) sids.push_back(twilio_dial(fake, "+14155550100", "ws://127.0.0.1:1/x", ""));
    for (const auto& sid : sids) REQUIRE(fake.wait_for_end(sid, 10s));
    CHECK(fake.active_calls() == 0);
    std::size_t cursor = 0;
    CHECK(fake.ended_since(cursor).size() == 200);
    CHECK(cursor == 200);
    CHECK(fake.ended_since(cursor).empty());
}

TEST_CASE("webhook receiver: X-Voiceagent-Signature is checked over t.body, in time") {
    const std::string secret = "whsec_test", body = R"({"type":"call:ended","call_id":"c1"})";
    const std::int64_t now = 1'800'000'000;
    auto sign = [&](std::int64_t t, const std::string& b, const std::string& key) {
        return "t=" + std::to_string(t) + ",v1=" + hex_encode(hmac_sha256(key, std::to_string(t) + "." + b));
    };
    CHECK(fake::verify_voiceagent_signature(secret, sign(now, body, secret), body, now));
    CHECK(fake::verify_voiceagent_signature(secret, sign(now - 100, body, secret), body, now));
    CHECK_FALSE(fake::verify_voiceagent_signature(secret, sign(now - 301, body, secret), body, now));  // stale
    CHECK_FALSE(fake::verify_voiceagent_signature(secret, sign(now + 301, body, secret), body, now));
    CHECK_FALSE(fake::verify_voiceagent_signature(secret, sign(now, body, "other"), body, now));
    CHECK_FALSE(fake::verify_voiceagent_signature(secret, sign(now, body, secret), body + " ", now));  // tampered
    CHECK_FALSE(fake::verify_voiceagent_signature(secret, "", body, now));
    CHECK_FALSE(fake::verify_voiceagent_signature(secret, "t=abc,v1=00", body, now));
    CHECK_FALSE(fake::verify_voiceagent_signature(secret, "v1=" + hex_encode(hmac_sha256(secret, body)), body, now));
    // Spaces after commas and a second v1 (a rotated secret) are tolerated.
    std::string two = "t=" + std::to_string(now) + ", v1=" + std::string(64, '0') + ", v1=" +
                      hex_encode(hmac_sha256(secret, std::to_string(now) + "." + body));
    CHECK(fake::verify_voiceagent_signature(secret, two, body, now));
}

TEST_CASE("webhook receiver: a secret file that appears later, failures first, one record per request") {
    auto dir = std::filesystem::temp_directory_path() / ("va-webhook-" + fake::random_sid(""));
    std::filesystem::create_directories(dir);
    auto secret_file = (dir / "secret").string();
    std::mutex mutex;
    std::vector<json> lines;
    fake::WebhookReceiver::Options o;
    o.secret_file = secret_file;
    o.fail_first = 2;
    fake::WebhookReceiver receiver(o, [&](const fake::WebhookReceiver::Delivery& d) {
        std::lock_guard lock(mutex);
        lines.push_back(fake::to_json(d));
    });
    auto post = [&](const std::string& body, const std::string& signature, const std::string& delivery) {
        HttpRequest r;
        r.method = "POST";
        r.url = receiver.base_url() + "/hooks/any";
        r.body = body;
        r.headers = {{"Content-Type", "application/json"},
                     {"X-Voiceagent-Event", "call:ended"},
                     {"X-Voiceagent-Delivery", delivery},
                     {"X-Voiceagent-Signature", signature}};
        auto answer = http_request(r);
        REQUIRE(answer);
        return answer->status;
    };
    std::string body = R"({"type":"call:ended","call_id":"c1"})";
    auto t = std::to_string(std::time(nullptr));
    std::string good = "t=" + t + ",v1=" + hex_encode(hmac_sha256("s3cret", t + "." + body));
    CHECK(post(body, good, "d1") == 500);  // no secret file yet: unchecked
    {
        std::ofstream(secret_file) << "s3cret\n";
    }
    CHECK(post(body, good, "d1") == 500);
    CHECK(post(body, good, "d1") == 200);
    CHECK(post(body, "t=" + t + ",v1=" + std::string(64, 'a'), "d2") == 200);
    CHECK(post("not json", good, "d3") == 200);
    std::lock_guard lock(mutex);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0]["signature"] == "unchecked");
    CHECK(lines[0]["status"] == 500);
    CHECK(lines[0]["event"] == "call:ended");
    CHECK(lines[0]["delivery"] == "d1");
    CHECK(lines[0]["body"]["call_id"] == "c1");
    CHECK(lines[1]["signature"] == "valid");
    CHECK(lines[1]["status"] == 500);
    CHECK(lines[2]["signature"] == "valid");
    CHECK(lines[2]["status"] == 200);
    CHECK(lines[3]["signature"] == "invalid");
    CHECK(lines[4]["signature"] == "invalid");  // the signature was over another body
    CHECK(lines[4]["body"] == "not json");
    CHECK(receiver.deliveries().size() == 5);
    std::filesystem::remove_all(dir);
}
