// Twilio calls end to end against the protocol-faithful fake (providers/fake): inbound through the signed voice
// webhook, outbound through POST /calls/outbound and Twilio's REST API, the media stream in both directions with
// real espeak-ng audio, DTMF, barge-in, transfer, hang-up, status callbacks, and the faults a carrier can bring.
// Twilio audio is 8 kHz, which the offline recognizer cannot hear, so these agents use simulated recognition.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <thread>

#include "core/audio/vad.hpp"
#include "core/audio/wav.hpp"
#include "providers/fake/twilio_fake.hpp"
#include "providers/twilio/signature.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using va::fake::CallerScript;
using va::fake::CallerTurn;
using va::fake::TwilioFake;
using nlohmann::json;

namespace {

constexpr auto kCallTimeout = std::chrono::seconds(60);

struct TwilioSetup {
    TwilioFake fake{TwilioFake::Options{}};
    DaemonProcess daemon{{{"VOICEAGENT_TWILIO_ACCOUNT_SID", fake.options().account_sid},
                          {"VOICEAGENT_TWILIO_AUTH_TOKEN", fake.options().auth_token},
                          {"VOICEAGENT_TWILIO_API_BASE_URL", fake.base_url()}}};
    Api api{daemon.base_url(), daemon.admin_key()};
    std::string dir = make_temp_dir("va-twilio");

    ~TwilioSetup() { std::filesystem::remove_all(dir); }

    // The receptionist with simulated recognition of `lines`, on the number +15550001111.
    void agent(const std::vector<std::string>& lines, json extra = json::object()) {
        json a = example_agent("receptionist.json");
        a["stt"] = {{"provider", "scripted"}, {"script", lines}, {"endpointing_ms", 500}};
        a["script"]["intents"].push_back({{"name", "key"}, {"pattern", "^[0-9#*]$"}, {"reply", "You pressed a key."}});
        a.update(extra);
        auto created = api.post("/api/v1/agents", a);
        REQUIRE(created.status == 201);
        auto phone = api.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"},
                                                 {"agent_id", created.json()["id"]}});
        INFO(phone.body);
        REQUIRE(phone.status == 201);
    }
    std::vector<std::int16_t> say(const std::string& text) { return espeak_pcm(text, 8000, dir); }
    std::string voice_url() const { return daemon.base_url() + "/api/v1/webhooks/twilio/voice"; }
    json call_by_sid(const std::string& sid) { return call_by_provider_id(api, sid); }
};


}  // namespace

TEST_CASE("twilio: an inbound call hears the greeting, asks, hears the answer, and a key press reaches the agent") {
    TwilioSetup t;
    t.agent({"what are your hours"});
    CallerScript script;
    script.turns.push_back({t.say("what are your hours"), "", -1});
    script.turns.push_back({{}, "1", -1});
    auto sid = t.fake.place_inbound(t.voice_url(), "+15557654321", "+15550001111", script);
    REQUIRE(sid);
    auto call = t.fake.wait_for_end(*sid, kCallTimeout);
    REQUIRE(call);
    INFO("violations: " << json(call->caller.violations).dump() << " error: " << call->caller.error);
    CHECK(call->caller.violations.empty());
    CHECK(call->caller.ended_by == "caller");
    CHECK(call->instructions.find("<Connect><Stream url=\"ws://") != std::string::npos);
    CHECK(va::fake::parse_twiml(call->instructions).url.find('?') == std::string::npos);  // Twilio forbids a query here
    // Greeting, answer, and the answer to the key: three stretches of speech the person heard.
    CHECK(call->caller.spans.size() >= 3);
    CHECK(va::level_dbfs(call->caller.heard) > -40);

    json stored = t.call_by_sid(*sid);
    REQUIRE(stored.is_object());
    std::string id = stored["id"];
    stored = wait_for_call(t.api, id, "completed");
    CHECK(stored["channel"] == "twilio");
    CHECK(stored["direction"] == "inbound");
    CHECK(stored["from"] == "+15557654321");
    CHECK(stored["end_reason"] == "caller_hangup");
    auto turns = turn_texts(t.api, id);
    INFO(json(turns).dump());
    REQUIRE(turns.size() >= 5);
    CHECK(turns[1] == "user: what are your hours");
    CHECK(turns[2].rfind("agent: We are open Monday to Friday", 0) == 0);
    CHECK(turns[3] == "user: 1");
    CHECK(turns[4] == "agent: You pressed a key.");

    // The recording: stereo, caller left and agent right, both with speech, as long as the call.
    auto recording = t.api.get("/api/v1/calls/" + id + "/recording");
    REQUIRE(recording.status == 200);
    auto wav = va::read_wav_bytes(recording.body);
    REQUIRE(wav);
    CHECK(wav->channels == 2);
    CHECK(wav->sample_rate == 8000);
    CHECK(wav->duration_s() == Approx(call->caller.duration_ms / 1000.0).margin(1.0));
    std::vector<std::int16_t> left, right;
    for (std::size_t i = 0; i + 1 < wav->samples.size(); i += 2) {
        left.push_back(wav->samples[i]);
        right.push_back(wav->samples[i + 1]);
    }
    CHECK(va::level_dbfs(left) > -45);
    CHECK(va::level_dbfs(right) > -45);
    CHECK(t.api.del("/api/v1/calls/" + id + "/recording").status == 204);
    CHECK(t.api.get("/api/v1/calls/" + id + "/recording").status == 404);
}

TEST_CASE("twilio: an outbound call is dialed once per Idempotency-Key and completed by the status callback") {
    TwilioSetup t;
    t.agent({});
    CallerScript script;
    script.turns.push_back({t.say("what are your hours"), "", -1});
    t.fake.set_script(script);
    json body{{"agent_id", "receptionist"}, {"to", "+15557654321"}, {"from", "+15550001111"},
              {"caller_lines", {"what are your hours"}}};
    auto keyed = t.api.with_header("Idempotency-Key", "order-42");
    auto first = keyed.post("/api/v1/calls/outbound", body);
    INFO(first.body);
    REQUIRE(first.status == 202);
    std::string id = first.json()["call"]["id"];
    std::string sid = first.json()["call"]["provider_call_id"];
    CHECK(sid.rfind("CA", 0) == 0);
    auto again = keyed.post("/api/v1/calls/outbound", body);
    REQUIRE(again.status == 202);
    CHECK(again.json()["call"]["id"] == id);
    CHECK(t.fake.calls().size() == 1);  // dialed once

    auto call = t.fake.wait_for_end(sid, kCallTimeout);
    REQUIRE(call);
    CHECK(call->caller.violations.empty());
    CHECK(call->statuses_sent == std::vector<std::string>{"initiated", "ringing", "in-progress", "completed"});
    CHECK(call->callback_answers == std::vector<int>{204, 204, 204, 204});
    // The carrier's own duration (CallDuration, whole seconds) is the one kept.
    double carrier = double((call->caller.duration_ms + 500) / 1000);
    json stored = wait_for_carrier_duration(t.api, id, carrier);
    CHECK(stored["status"] == "completed");
    CHECK(stored["direction"] == "outbound");
    CHECK(stored["to"] == "+15557654321");
    CHECK(stored["duration_s"].get<double>() == carrier);
    auto turns = turn_texts(t.api, id);
    REQUIRE(turns.size() >= 3);
    CHECK(turns[1] == "user: what are your hours");
}

TEST_CASE("twilio: barge-in clears the caller's queue, and transfer_call redirects the live call") {
    TwilioSetup t;
    t.agent({"i want to speak to a person"});
    CallerScript script;
    auto request = t.say("i want to speak to a person");
    script.turns.push_back({request, "", 700});  // talks over the greeting
    auto sid = t.fake.place_inbound(t.voice_url(), "+15557654321", "+15550001111", script);
    REQUIRE(sid);
    auto call = t.fake.wait_for_end(*sid, kCallTimeout);
    REQUIRE(call);
    CHECK(call->caller.violations.empty());
    CHECK(call->caller.clears >= 1);
    CHECK(call->caller.queue_after_clear == 0);
    CHECK(call->transferred_to == "+15551234567");
    CHECK(call->caller.ended_by == "carrier");  // Twilio ended the stream for the new TwiML
    json stored = wait_for_call(t.api, t.call_by_sid(*sid)["id"], "completed");
    CHECK(stored["end_reason"] == "transferred:+15551234567");
    auto turns = turn_texts(t.api, stored["id"]);
    REQUIRE_FALSE(turns.empty());
    CHECK(turns[0].size() < std::string("agent: Hello, thank you for calling Bright Smile Dental. How can I help you today?").size());
}

TEST_CASE("twilio: the API hangs up a live call") {
    TwilioSetup t;
    t.agent({});
    CallerScript script;
    script.turns.push_back({std::vector<std::int16_t>(8000 * 30, 0), "", -1});  // a caller who says nothing
    script.first_wait_ms = 100;
    auto sid = t.fake.place_inbound(t.voice_url(), "+15557654321", "+15550001111", script);
    REQUIRE(sid);
    json stored;
    for (int i = 0; i < 100 && !(stored = t.call_by_sid(*sid)).is_object(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(stored.is_object());
    std::string id = stored["id"];
    wait_for_call(t.api, id, "in-progress");
    REQUIRE(t.api.post("/api/v1/calls/" + id + "/hangup", json::object()).status == 202);
    auto call = t.fake.wait_for_end(*sid, kCallTimeout);
    REQUIRE(call);
    CHECK(call->caller.ended_by == "bot");
    CHECK(wait_for_call(t.api, id, "completed")["end_reason"] == "api_hangup");
}

TEST_CASE("twilio: webhooks and media streams with a bad signature are refused") {
    TwilioSetup t;
    t.agent({});
    va::twilio::Params params{{"CallSid", "CA1"}, {"From", "+15557654321"}, {"To", "+15550001111"}};
    std::string form = "CallSid=CA1&From=%2B15557654321&To=%2B15550001111";
    auto unsigned_hook = t.api.raw("POST", "/api/v1/webhooks/twilio/voice", form, "application/x-www-form-urlencoded");
    CHECK(unsigned_hook.status == 403);
    auto wrong = Api(t.daemon.base_url())
                     .with_header("X-Twilio-Signature", va::twilio::signature("not-the-token", t.voice_url(), params))
                     .raw("POST", "/api/v1/webhooks/twilio/voice", form, "application/x-www-form-urlencoded");
    CHECK(wrong.status == 403);
    auto good = Api(t.daemon.base_url())
                    .with_header("X-Twilio-Signature", va::twilio::signature(t.fake.options().auth_token, t.voice_url(), params))
                    .raw("POST", "/api/v1/webhooks/twilio/voice", form, "application/x-www-form-urlencoded");
    CHECK(good.status == 200);
    CHECK(good.body.find("<Stream") != std::string::npos);
    std::string call_url = va::fake::parse_twiml(good.body).url;

    // The media socket: a wrong signature is closed with 1008.
    boost::asio::io_context io;
    va::fake::CallerResult result;
    va::fake::MediaCaller::start(io, call_url, {{"X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}},
                                 va::fake::twilio_dialect("MZ1", "CA1", t.fake.options().account_sid, json::object()),
                                 CallerScript{}, [&](const va::fake::CallerResult& r) { result = r; });
    io.run_for(std::chrono::seconds(10));
    CHECK(result.done);
    CHECK(result.close_code == 1008);
    auto status_hook = t.api.raw("POST", "/api/v1/webhooks/twilio/status/call_missing", "CallStatus=completed",
                                 "application/x-www-form-urlencoded");
    CHECK(status_hook.status == 403);
}

TEST_CASE("twilio: carrier REST faults become clear errors, and 429 is retried") {
    TwilioSetup t;
    t.agent({});
    json body{{"agent_id", "receptionist"}, {"to", "+15557654321"}, {"from", "+15550001111"}};
    t.fake.fail_next(401);
    auto refused = t.api.post("/api/v1/calls/outbound", body);
    INFO(refused.body);
    CHECK(refused.status == 503);
    CHECK(refused.body.find("Twilio answered 401") != std::string::npos);
    t.fake.fail_next(500);
    CHECK(t.api.post("/api/v1/calls/outbound", body).status == 503);
    auto failed = t.api.get("/api/v1/calls?status=failed").json()["items"];
    CHECK(failed.size() == 2);

    int before = t.fake.rest_requests();
    t.fake.fail_next(429, 2);
    auto retried = t.api.post("/api/v1/calls/outbound", body);
    INFO(retried.body);
    CHECK(retried.status == 202);
    CHECK(t.fake.rest_requests() - before == 3);
    std::string sid = retried.json()["call"]["provider_call_id"];
    CHECK(t.fake.wait_for_end(sid, kCallTimeout));
}

TEST_CASE("twilio: vactl calls simulate plays a whole conversation through the Twilio path with no carrier account") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", example_agent("receptionist.json")).status == 201);
    std::string dir = make_temp_dir("va-simulate");
    auto run = run_vactl({"--server", d.base_url(), "calls", "simulate", "--carrier", "twilio", "--agent", "receptionist",
                          "--say", "I want to book an appointment", "--say", "thank you goodbye", "--output",
                          dir + "/heard.wav"},
                         {{"VOICEAGENT_DATA_DIR", d.data_dir()}}, "", 90);
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.err.find("simulated recognition") != std::string::npos);  // 8 kHz: said plainly
    CHECK(run.out.find("user: I want to book an appointment") != std::string::npos);
    CHECK(run.out.find("agent: Sure, I can book that for you.") != std::string::npos);
    CHECK(run.out.find("agent: Thank you for calling Bright Smile Dental. Goodbye!") != std::string::npos);
    CHECK(run.err.find("ended: agent_end_call") != std::string::npos);
    auto heard = va::read_wav(dir + "/heard.wav");
    REQUIRE(heard);
    CHECK(heard->sample_rate == 8000);
    CHECK(va::level_dbfs(heard->samples) > -40);
    std::filesystem::remove_all(dir);
}

TEST_CASE("twilio: malformed and unknown media messages are logged and the call goes on, and a caller vanishing mid-reply completes it") {
    TwilioSetup t;
    t.agent({"what are your hours"});
    CallerScript script;
    script.junk = {"{not json", R"({"event":"bogus","streamSid":"x"})",
                   R"({"event":"media","streamSid":"x","media":{"payload":"%%%not base64%%%"}})"};
    script.turns.push_back({t.say("what are your hours"), "", -1});
    script.vanish_after_bot_ms = 1000;  // a second into the answer
    auto sid = t.fake.place_inbound(t.voice_url(), "+15557654321", "+15550001111", script);
    REQUIRE(sid);
    auto call = t.fake.wait_for_end(*sid, kCallTimeout);
    REQUIRE(call);
    CHECK(call->caller.ended_by == "vanished");
    json stored = wait_for_call(t.api, t.call_by_sid(*sid)["id"], "completed");
    CHECK(stored["end_reason"] == "caller_disconnected");
    auto turns = turn_texts(t.api, stored["id"]);
    INFO(json(turns).dump());
    REQUIRE(turns.size() >= 3);
    CHECK(turns[1] == "user: what are your hours");  // the junk did not stop the call
    // What the caller heard of the answer before the line dropped, marked interrupted.
    CHECK(turns[2].rfind("agent: We are", 0) == 0);
    CHECK(turns[2].size() < std::string("agent: We are open Monday to Friday from nine to six, and Saturday from ten to two.").size());
}

TEST_CASE("twilio: behind a proxy, signatures are checked against the public URL and streams point at it") {
    TwilioFake fake{TwilioFake::Options{}};
    DaemonProcess d{{{"VOICEAGENT_TWILIO_ACCOUNT_SID", fake.options().account_sid},
                     {"VOICEAGENT_TWILIO_AUTH_TOKEN", fake.options().auth_token},
                     {"VOICEAGENT_SERVER_PUBLIC_BASE_URL", "https://voice.example.com"}}};
    Api api(d.base_url(), d.admin_key());
    auto agent = api.post("/api/v1/agents", example_agent("receptionist.json"));
    REQUIRE(api.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"}, {"agent_id", agent.json()["id"]}}).status == 201);
    va::twilio::Params params{{"CallSid", "CA1"}, {"From", "+15557654321"}, {"To", "+15550001111"}};
    std::string form = "CallSid=CA1&From=%2B15557654321&To=%2B15550001111";
    auto sign = [&](const std::string& url) {
        return Api(d.base_url()).with_header("X-Twilio-Signature", va::twilio::signature(fake.options().auth_token, url, params));
    };
    // Signed for the address Twilio was given, not the one the proxy forwarded to.
    auto local = sign(d.base_url() + "/api/v1/webhooks/twilio/voice")
                     .raw("POST", "/api/v1/webhooks/twilio/voice", form, "application/x-www-form-urlencoded");
    CHECK(local.status == 403);
    auto with_port = sign("https://voice.example.com:443/api/v1/webhooks/twilio/voice")
                         .raw("POST", "/api/v1/webhooks/twilio/voice", form, "application/x-www-form-urlencoded");
    CHECK(with_port.status == 200);
    CHECK(va::fake::parse_twiml(with_port.body).url.rfind("wss://voice.example.com/media/twilio/call_", 0) == 0);
}
