// Exotel calls end to end against the protocol-faithful fake: inbound through the Voicebot applet endpoint,
// outbound through Calls/connect in Connect Voice AI and flow modes, AgentStream media at 16 kHz with real
// espeak-ng speech recognized by pocketsphinx, Exotel's chunk rules, DTMF, status callbacks in all three encodings,
// reconciliation through the Call Details API when a callback never comes, and the faults (tokens, credentials,
// REST errors, bad media).
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <filesystem>

#include <httplib.h>
#include <thread>

#include "core/audio/vad.hpp"
#include "core/audio/wav.hpp"
#include "core/util/encoding.hpp"
#include "providers/fake/exotel_fake.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using va::fake::CallerScript;
using va::fake::ExotelFake;
using nlohmann::json;

namespace {

constexpr auto kCallTimeout = std::chrono::seconds(60);

struct ExotelSetup {
    ExotelFake fake;
    DaemonProcess daemon;
    Api api;
    std::string dir = make_temp_dir("va-exotel");
    std::string phone_id, applet_url;

    explicit ExotelSetup(ExotelFake::Options options = {}, Env extra = {})
        : fake(std::move(options)), daemon(env(fake, extra)), api(daemon.base_url(), daemon.admin_key()) {}
    ~ExotelSetup() { std::filesystem::remove_all(dir); }

    static Env env(ExotelFake& fake, const Env& extra) {
        Env e{{"VOICEAGENT_EXOTEL_ACCOUNT_SID", fake.options().account_sid},
              {"VOICEAGENT_EXOTEL_API_KEY", fake.options().api_key},
              {"VOICEAGENT_EXOTEL_API_TOKEN", fake.options().api_token},
              {"VOICEAGENT_EXOTEL_API_BASE_URL", fake.base_url()},
              {"VOICEAGENT_EXOTEL_SAMPLE_RATE", "16000"}};
        for (const auto& [k, v] : extra) e[k] = v;
        return e;
    }

    // The receptionist (pocketsphinx at 16 kHz) on the Exotel number +915550003333.
    void agent() {
        json a = example_agent("receptionist.json");
        a["script"]["intents"].push_back({{"name", "key"}, {"pattern", "^[0-9#*]$"}, {"reply", "You pressed a key."}});
        auto created = api.post("/api/v1/agents", a);
        REQUIRE(created.status == 201);
        auto phone = api.post("/api/v1/phones", {{"number", "+915550003333"}, {"provider", "exotel"},
                                                 {"agent_id", created.json()["id"]}});
        INFO(phone.body);
        REQUIRE(phone.status == 201);
        phone_id = phone.json()["id"];
        applet_url = phone.json()["webhook_url"];
    }
    std::vector<std::int16_t> say(const std::string& text) { return espeak_pcm(text, 16000, dir); }
    json call_by_sid(const std::string& sid) { return call_by_provider_id(api, sid); }
};


}  // namespace

TEST_CASE("exotel: an inbound call through the applet is recognized offline, answered, and a key press reaches the agent") {
    ExotelSetup t;
    t.agent();
    CHECK(t.applet_url.find("/api/v1/webhooks/exotel/incoming?token=") != std::string::npos);
    CallerScript script;
    script.turns.push_back({t.say("what are your hours"), "", -1});
    script.turns.push_back({{}, "5", -1});
    auto sid = t.fake.place_inbound(t.applet_url, "+919876543210", "+915550003333", script);
    REQUIRE(sid);
    auto call = t.fake.wait_for_end(*sid, kCallTimeout);
    REQUIRE(call);
    INFO("violations: " << json(call->caller.violations).dump());
    CHECK(call->caller.violations.empty());  // every chunk within Exotel's rules
    CHECK(call->instructions.find("sample-rate=16000") != std::string::npos);
    CHECK(call->caller.spans.size() >= 3);
    json stored = wait_for_call(t.api, t.call_by_sid(*sid)["id"], "completed");
    CHECK(stored["channel"] == "exotel");
    auto turns = turn_texts(t.api, stored["id"]);
    INFO(json(turns).dump());
    REQUIRE(turns.size() >= 5);
    CHECK(turns[1] == "user: what are your hours");
    CHECK(turns[2].rfind("agent: We are open Monday to Friday", 0) == 0);
    CHECK(turns[3] == "user: 5");
    CHECK(turns[4] == "agent: You pressed a key.");
    auto recording = t.api.get("/api/v1/calls/" + stored["id"].get<std::string>() + "/recording");
    REQUIRE(recording.status == 200);
    auto wav = va::read_wav_bytes(recording.body);
    REQUIRE(wav);
    CHECK(wav->sample_rate == 16000);
    CHECK(wav->channels == 2);
}

TEST_CASE("exotel: outbound calls complete from the status callback in JSON, urlencoded and multipart form") {
    for (const char* format : {"json", "form", "multipart"}) {
        ExotelFake::Options options;
        options.callback_format = format;
        ExotelSetup t(options);
        t.agent();
        CallerScript script;
        script.turns.push_back({t.say("what are your hours"), "", -1});
        t.fake.options().script = script;
        auto r = t.api.post("/api/v1/calls/outbound", {{"agent_id", "receptionist"}, {"to", "+919876543210"},
                                                       {"phone_id", t.phone_id}});
        INFO(format << ": " << r.body);
        REQUIRE(r.status == 202);
        std::string id = r.json()["call"]["id"], sid = r.json()["call"]["provider_call_id"];
        auto call = t.fake.wait_for_end(sid, kCallTimeout);
        REQUIRE(call);
        CHECK(call->instructions.find("/media/exotel/" + id + "?sample-rate=16000&token=") != std::string::npos);
        CHECK(call->caller.violations.empty());
        CHECK(call->callback_answers == std::vector<int>{200});
        double carrier = double((call->caller.duration_ms + 500) / 1000);
        json stored = wait_for_carrier_duration(t.api, id, carrier);
        CHECK(stored["status"] == "completed");
        CHECK(stored["duration_s"].get<double>() == carrier);
        CHECK(turn_texts(t.api, id).size() >= 3);
    }
}

TEST_CASE("exotel: a call whose status callback never comes is settled from the Call Details API") {
    ExotelFake::Options options;
    options.drop_status_callback = true;
    options.lowercase_response = true;  // {"call":{"sid":...}}: the newer docs' shape
    ExotelSetup t(options, {{"VOICEAGENT_EXOTEL_RECONCILE_AFTER_S", "1"}});
    t.agent();
    CallerScript script;
    script.turns.push_back({t.say("what are your hours"), "", -1});
    t.fake.options().script = script;
    auto r = t.api.post("/api/v1/calls/outbound", {{"agent_id", "receptionist"}, {"to", "+919876543210"},
                                                   {"from", "+915550003333"}});
    REQUIRE(r.status == 202);
    std::string id = r.json()["call"]["id"], sid = r.json()["call"]["provider_call_id"];
    auto call = t.fake.wait_for_end(sid, kCallTimeout);
    REQUIRE(call);
    CHECK(call->statuses_sent.empty());
    // The session records its own measure; a second later the Call Details API's figure replaces it.
    double carrier = double((call->caller.duration_ms + 500) / 1000);
    json stored = wait_for_carrier_duration(t.api, id, carrier);
    CHECK(stored["status"] == "completed");
    CHECK(stored["duration_s"].get<double>() == carrier);
}

TEST_CASE("exotel: flow mode reaches the agent through the flow's Voicebot applet") {
    ExotelFake::Options options;
    ExotelSetup t(options, {{"VOICEAGENT_EXOTEL_MODE", "flow"},
                            {"VOICEAGENT_EXOTEL_FLOW_URL", "http://my.exotel.com/fakeaccount1/exoml/start_voice/42"}});
    t.agent();
    t.fake.options().flow_applet_url = t.applet_url;
    CallerScript script;
    script.turns.push_back({t.say("what are your hours"), "", -1});
    t.fake.options().script = script;
    auto r = t.api.post("/api/v1/calls/outbound", {{"agent_id", "receptionist"}, {"to", "+919876543210"},
                                                   {"from", "+915550003333"}});
    REQUIRE(r.status == 202);
    std::string id = r.json()["call"]["id"], sid = r.json()["call"]["provider_call_id"];
    auto call = t.fake.wait_for_end(sid, kCallTimeout);
    REQUIRE(call);
    CHECK(call->instructions == "http://my.exotel.com/fakeaccount1/exoml/start_voice/42");
    CHECK(call->caller.spans.size() >= 2);
    wait_for_call(t.api, id, "completed");
    auto turns = turn_texts(t.api, id);  // the same call record, not a new inbound one
    REQUIRE(turns.size() >= 3);
    CHECK(turns[1] == "user: what are your hours");
    CHECK(t.api.get("/api/v1/calls").json()["items"].size() == 1);
}

TEST_CASE("exotel: an applet request names another workspace's call in CustomField and does not get its media") {
    ExotelFake::Options options;
    options.ring_ms = 120000;  // the outbound call stays ringing (open) until the fake is stopped
    ExotelSetup t(options, {{"VOICEAGENT_EXOTEL_MODE", "flow"},
                            {"VOICEAGENT_EXOTEL_FLOW_URL", "http://my.exotel.com/fakeaccount1/exoml/start_voice/42"}});
    t.agent();
    auto dialed = t.api.post("/api/v1/calls/outbound", {{"agent_id", "receptionist"}, {"to", "+919876543210"},
                                                        {"from", "+915550003333"}});
    REQUIRE(dialed.status == 202);
    std::string victim = dialed.json()["call"]["id"];

    // Workspace B owns another Exotel number, so its applet URL (with that number's token) is B's to know.
    auto ws_b = t.api.post("/api/v1/workspaces", {{"name", "B"}});
    REQUIRE(ws_b.status == 201);
    Api in_b = t.api.with_header("X-Workspace-Id", ws_b.json()["id"].get<std::string>());
    auto agent_b = in_b.post("/api/v1/agents", example_agent("receptionist.json"));
    REQUIRE(agent_b.status == 201);
    auto phone_b = in_b.post("/api/v1/phones", {{"number", "+915550004444"}, {"provider", "exotel"},
                                                {"agent_id", agent_b.json()["id"]}});
    REQUIRE(phone_b.status == 201);
    std::string applet_b = phone_b.json()["webhook_url"];

    auto asked = Api(t.daemon.base_url()).get(applet_b.substr(t.daemon.base_url().size()) +
                                              "&To=%2B915550004444&From=%2B919876543210&CallSid=x&CustomField=" + victim);
    INFO(asked.body);
    REQUIRE(asked.status == 200);
    std::string url = asked.json()["url"];
    CHECK(url.find(victim) == std::string::npos);  // a new inbound call of B's number, not A's live call

    // The same holds for A's own second number: the call was dialed from +915550003333, not from it.
    auto phone_a2 = t.api.post("/api/v1/phones", {{"number", "+915550005555"}, {"provider", "exotel"},
                                                  {"agent_id", t.api.get("/api/v1/agents").json()["items"][0]["id"]}});
    REQUIRE(phone_a2.status == 201);
    std::string applet_a2 = phone_a2.json()["webhook_url"];
    auto other_number = Api(t.daemon.base_url()).get(applet_a2.substr(t.daemon.base_url().size()) +
                                                      "&To=%2B915550005555&CallSid=y&CustomField=" + victim);
    REQUIRE(other_number.status == 200);
    CHECK(other_number.json()["url"].get<std::string>().find(victim) == std::string::npos);
}

TEST_CASE("exotel: tokens, credentials and REST faults") {
    ExotelSetup t;
    t.agent();
    // The applet endpoint and the status callback need their tokens.
    auto no_token = t.api.get("/api/v1/webhooks/exotel/incoming?To=%2B915550003333&CallSid=x");
    CHECK(no_token.status == 403);
    auto wrong = t.api.get("/api/v1/webhooks/exotel/incoming?To=%2B915550003333&token=00000000000000000000000000000000");
    CHECK(wrong.status == 403);
    auto status = t.api.raw("POST", "/api/v1/webhooks/exotel/status/call_x?token=bad", R"({"Status":"completed"})",
                            "application/json");
    CHECK(status.status == 403);

    // The media socket: no token is closed with 1008; the account's Basic credentials are accepted.
    auto created = Api(t.daemon.base_url()).get(t.applet_url.substr(t.daemon.base_url().size()) + "&To=%2B915550003333&CallSid=abc");
    REQUIRE(created.status == 200);
    std::string url = created.json()["url"];
    std::string bare = url.substr(0, url.find('?')) + "?sample-rate=16000";
    boost::asio::io_context io;
    va::fake::CallerResult refused, accepted;
    va::fake::MediaCaller::start(io, bare, {}, va::fake::exotel_dialect(16000, 100, "s1", "abc", "a", "f", "t", json::object()),
                                 CallerScript{}, [&](const va::fake::CallerResult& r) { refused = r; });
    io.run_for(std::chrono::seconds(10));
    CHECK(refused.close_code == 1008);
    io.restart();
    CallerScript quiet;
    quiet.first_wait_ms = 500;
    std::string basic = "Basic " + va::base64_encode(t.fake.options().api_key + ":" + t.fake.options().api_token);
    va::fake::MediaCaller::start(io, bare, {{"Authorization", basic}},
                                 va::fake::exotel_dialect(16000, 100, "s1", "abc", "a", "f", "t", json::object()), quiet,
                                 [&](const va::fake::CallerResult& r) { accepted = r; });
    io.run_for(std::chrono::seconds(20));
    CHECK(accepted.close_code == 0);
    CHECK(accepted.ended_by == "caller");
    CHECK(accepted.violations.empty());

    json body{{"agent_id", "receptionist"}, {"to", "+919876543210"}, {"from", "+915550003333"}};
    t.fake.fail_next(401);
    auto r401 = t.api.post("/api/v1/calls/outbound", body);
    CHECK(r401.status == 503);
    CHECK(r401.body.find("Exotel answered 401: Authentication failed") != std::string::npos);
    t.fake.fail_next(500);
    CHECK(t.api.post("/api/v1/calls/outbound", body).status == 503);
    int before = t.fake.rest_requests();
    t.fake.fail_next(429, 2);
    auto retried = t.api.post("/api/v1/calls/outbound", body);
    CHECK(retried.status == 202);
    CHECK(t.fake.rest_requests() - before == 3);
    CHECK(t.fake.wait_for_end(retried.json()["call"]["provider_call_id"], kCallTimeout));
}

TEST_CASE("exotel: vactl calls simulate plays a whole conversation through the Exotel path with offline recognition") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", example_agent("receptionist.json")).status == 201);
    auto run = run_vactl({"--server", d.base_url(), "calls", "simulate", "--carrier", "exotel", "--agent", "receptionist",
                          "--say", "I want to book an appointment"},
                         {{"VOICEAGENT_DATA_DIR", d.data_dir()}}, "", 90);
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.err.find("at 16 kHz; recognition: pocketsphinx") != std::string::npos);
    CHECK(run.out.find("user: i want to book an appointment") != std::string::npos);
    CHECK(run.out.find("agent: Sure, I can book that for you.") != std::string::npos);
    CHECK(run.err.find("protocol violation") == std::string::npos);
}

TEST_CASE("exotel: a source allowlist refuses other addresses on webhooks and media") {
    ExotelSetup t({}, {{"VOICEAGENT_EXOTEL_ALLOWED_SOURCES", "10.1.2.3, 10.1.2.4"}});
    t.agent();
    auto applet = Api(t.daemon.base_url()).get(t.applet_url.substr(t.daemon.base_url().size()) + "&To=%2B915550003333");
    CHECK(applet.status == 403);
    CHECK(applet.body.find("allowed_sources") != std::string::npos);
    // The media socket refuses 127.0.0.1 too, even with the account's own credentials.
    boost::asio::io_context io;
    va::fake::CallerResult result;
    std::string basic = "Basic " + va::base64_encode(t.fake.options().api_key + ":" + t.fake.options().api_token);
    std::string url = "ws" + t.daemon.base_url().substr(4) + "/media/exotel/call_any?sample-rate=16000";
    va::fake::MediaCaller::start(io, url, {{"Authorization", basic}},
                                 va::fake::exotel_dialect(16000, 100, "s", "c", "a", "f", "t", json::object()),
                                 CallerScript{}, [&](const va::fake::CallerResult& r) { result = r; });
    io.run_for(std::chrono::seconds(10));
    CHECK(result.close_code == 1008);
    CHECK(result.close_reason == "address not allowed");
}

TEST_CASE("exotel: va-fake runs standalone and answers the daemon's outbound call") {
    // A free port for the fake, which the daemon must know before it starts.
    int port = 0;
    {
        httplib::Server probe;
        port = probe.bind_to_any_port("127.0.0.1");
    }
    std::string dir = make_temp_dir("va-fake-standalone");
    DaemonProcess d{{{"VOICEAGENT_EXOTEL_ACCOUNT_SID", "standalone1"},
                     {"VOICEAGENT_EXOTEL_API_KEY", "k1"},
                     {"VOICEAGENT_EXOTEL_API_TOKEN", "t1"},
                     {"VOICEAGENT_EXOTEL_API_BASE_URL", "http://127.0.0.1:" + std::to_string(port)}}};
    Api api(d.base_url(), d.admin_key());
    auto agent = api.post("/api/v1/agents", example_agent("receptionist.json"));
    REQUIRE(api.post("/api/v1/phones", {{"number", "+915550003333"}, {"provider", "exotel"}, {"agent_id", agent.json()["id"]}}).status == 201);
    std::thread dialer([&] {
        for (int i = 0; i < 100; ++i) {  // until the fake listens
            auto r = api.post("/api/v1/calls/outbound", {{"agent_id", "receptionist"}, {"to", "+919876543210"},
                                                         {"from", "+915550003333"}});
            if (r.status == 202) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    auto fake = run_process_interrupting({VA_FAKE_PATH, "exotel", "--port", std::to_string(port), "--account-sid",
                                          "standalone1", "--api-key", "k1", "--auth-token", "t1", "--say",
                                          "what are your hours", "--callback-format", "multipart"},
                                         {}, "\"ended_by\"", 90);
    dialer.join();
    INFO(fake.out << fake.err);
    CHECK(fake.interrupted);
    CHECK(fake.exit_code == 0);
    CHECK(fake.out.find("\"listening\":\"http://127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(fake.out.find("\"violations\":[]") != std::string::npos);
    // Dials tried before the fake listened failed (and are recorded so); one call went through.
    json answered;
    for (int i = 0; i < 100 && answered.empty(); ++i) {
        auto completed = api.get("/api/v1/calls?status=completed").json()["items"];
        if (completed.size() == 1) answered = completed[0];
        else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(answered.is_object());
    CHECK(answered["direction"] == "outbound");
    std::filesystem::remove_all(dir);
}

TEST_CASE("exotel: barge-in clears the caller's queue, and transfer_call hands the call back to the flow") {
    ExotelSetup t;
    t.agent();
    CallerScript script;
    script.turns.push_back({t.say("i want to speak to a person"), "", 800});  // over the greeting
    auto sid = t.fake.place_inbound(t.applet_url, "+919876543210", "+915550003333", script);
    REQUIRE(sid);
    auto call = t.fake.wait_for_end(*sid, kCallTimeout);
    REQUIRE(call);
    INFO(json(call->caller.violations).dump());
    CHECK(call->caller.violations.empty());
    CHECK(call->caller.clears >= 1);
    CHECK(call->caller.queue_after_clear == 0);
    CHECK(call->caller.ended_by == "bot");  // the daemon closed the stream: Exotel moves on to the next applet
    // The transfer reply was heard to its end before the stream closed (its mark came back first).
    REQUIRE_FALSE(call->caller.marks_echoed.empty());
    json stored = wait_for_call(t.api, t.call_by_sid(*sid)["id"], "completed");
    CHECK(stored["end_reason"] == "transferred:+15551234567");
    auto turns = turn_texts(t.api, stored["id"]);
    INFO(json(turns).dump());
    REQUIRE(turns.size() >= 3);
    CHECK(turns[1] == "user: i want to speak to a person");
    CHECK(turns[2] == "agent: Of course, let me transfer you to our front desk.");
}

TEST_CASE("exotel: the API hangs up a live call, and media for an unknown call is refused") {
    ExotelSetup t;
    t.agent();
    CallerScript script;
    script.turns.push_back({std::vector<std::int16_t>(16000 * 30, 0), "", -1});
    script.first_wait_ms = 100;
    auto sid = t.fake.place_inbound(t.applet_url, "+919876543210", "+915550003333", script);
    REQUIRE(sid);
    json stored;
    for (int i = 0; i < 100 && !(stored = t.call_by_sid(*sid)).is_object(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(stored.is_object());
    wait_for_call(t.api, stored["id"], "in-progress");
    REQUIRE(t.api.post("/api/v1/calls/" + stored["id"].get<std::string>() + "/hangup", json::object()).status == 202);
    auto call = t.fake.wait_for_end(*sid, kCallTimeout);
    REQUIRE(call);
    CHECK(call->caller.ended_by == "bot");
    CHECK(wait_for_call(t.api, stored["id"], "completed")["end_reason"] == "api_hangup");

    // An unknown call id: refused before the upgrade even with the account's credentials.
    boost::asio::io_context io;
    va::fake::CallerResult result;
    std::string basic = "Basic " + va::base64_encode(t.fake.options().api_key + ":" + t.fake.options().api_token);
    std::string url = "ws" + t.daemon.base_url().substr(4) + "/media/exotel/call_missing?sample-rate=16000";
    va::fake::MediaCaller::start(io, url, {{"Authorization", basic}},
                                 va::fake::exotel_dialect(16000, 100, "s", "c", "a", "f", "t", json::object()),
                                 CallerScript{}, [&](const va::fake::CallerResult& r) { result = r; });
    io.run_for(std::chrono::seconds(10));
    CHECK(result.ended_by == "error");
    CHECK(result.error.find("handshake") != std::string::npos);
}
