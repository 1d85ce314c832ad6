// Local audio calls end to end with real audio and no fakes: espeak-ng speech streamed in real time, pocketsphinx
// recognition, the scripted agent, espeak-ng answers paced back in 20 ms frames; barge-in, silence reprompts and
// hang-up, and vactl talk with WAV files.
#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/client.hpp"
#include "cli/ws_client.hpp"
#include "core/audio/resampler.hpp"
#include "core/audio/vad.hpp"
#include "core/audio/wav.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using va::cli::WsClient;
using nlohmann::json;

namespace {

json receptionist() { return example_agent("receptionist.json"); }

std::vector<std::int16_t> espeak_16k(const std::string& text, const std::string& dir) { return espeak_pcm(text, 16000, dir); }

void send_realtime(WsClient& ws, const std::vector<std::int16_t>& audio) {
    auto next = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < audio.size(); i += 320) {
        std::size_t n = std::min<std::size_t>(320, audio.size() - i);
        ws.send_binary(std::string(reinterpret_cast<const char*>(audio.data() + i), n * 2));
        next += std::chrono::milliseconds(20);
        std::this_thread::sleep_until(next);
    }
}

struct Received {
    std::vector<json> messages;
    std::size_t audio_samples = 0;
    std::vector<std::string> types() const {
        std::vector<std::string> t;
        for (auto& m : messages) t.push_back(m.value("type", ""));
        return t;
    }
};

// Reads until a text message of `type` (returned) or the end of the connection.
json read_until(WsClient& ws, const std::string& type, Received& got) {
    while (auto m = ws.read_message()) {
        if (m->binary) {
            got.audio_samples += m->data.size() / 2;
            continue;
        }
        json msg = json::parse(m->data);
        got.messages.push_back(msg);
        if (msg.value("type", "") == type) return msg;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("voice: a spoken question is recognized and answered with speech, turns and events in order") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    std::string dir = make_temp_dir("va-voice");
    auto question = espeak_16k("what are your hours", dir);

    WsClient events(d.base_url() + "/api/v1/events", d.admin_key());
    REQUIRE(events.read());  // subscribed
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "local"}}).json();
    std::string id = created["call"]["id"];
    WsClient media(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    Received greeting;
    auto start = read_until(media, "start", greeting);
    REQUIRE(start.is_object());
    CHECK(start["sample_rate"] == 16000);
    CHECK(start["encoding"] == "pcm16");
    REQUIRE(read_until(media, "listening", greeting).is_object());
    CHECK(greeting.audio_samples > 16000 * 2);  // the greeting was spoken

    std::vector<std::int16_t> caller(16000 / 2, 0);
    caller.insert(caller.end(), question.begin(), question.end());
    caller.resize(caller.size() + 16000 * 3 / 2, 0);
    send_realtime(media, caller);
    Received answer;
    auto user = read_until(media, "user", answer);
    REQUIRE(user.is_object());
    CHECK(user["text"] == "what are your hours");
    CHECK(user["source"] == "pocketsphinx");
    auto agent = read_until(media, "agent", answer);
    REQUIRE(agent.is_object());
    CHECK(agent["text"].get<std::string>().rfind("We are open Monday to Friday", 0) == 0);
    // The answer's audio: a few seconds of speech at a real level.
    CHECK(answer.audio_samples > 16000 * 2);
    media.send_text(R"({"type":"hangup"})");
    Received rest;
    auto end = read_until(media, "end", rest);
    REQUIRE(end.is_object());
    CHECK(end["reason"] == "caller_hangup");

    auto call = wait_for_call(api, id, "completed");
    CHECK(call["end_reason"] == "caller_hangup");
    REQUIRE(call["metrics"]["turns"].size() == 1);
    auto metrics = call["metrics"]["turns"][0];
    for (const char* k : {"stt_ms", "llm_first_token_ms", "tts_first_audio_ms", "voice_to_voice_ms"}) CHECK(metrics.contains(k));
    auto turns = api.get("/api/v1/calls/" + id + "/transcript").json()["items"];
    REQUIRE(turns.size() == 3);
    CHECK(turns[0]["role"] == "agent");
    CHECK(turns[1]["text"] == "what are your hours");
    CHECK(turns[1]["source"] == "pocketsphinx");
    CHECK(turns[2]["role"] == "agent");
    CHECK(turns[1]["started_ms"].get<int>() > 0);

    // Interim user words (final:false) come while the caller speaks, before the final user turn; a run of them
    // counts once here.
    std::vector<std::string> sequence;
    std::vector<std::string> interim;
    while (sequence.empty() || sequence.back() != "call:ended") {
        auto text = events.read();
        REQUIRE(text);
        json e = json::parse(*text);
        std::string entry = e["type"];
        if (entry == "call:transcript") {
            entry += ":" + e["data"]["role"].get<std::string>();
            if (!e["data"].value("final", true)) {
                entry += ":interim";
                interim.push_back(e["data"]["text"]);
            }
        }
        if (sequence.empty() || entry != sequence.back() || entry.find(":interim") == std::string::npos)
            sequence.push_back(entry);
    }
    CHECK(sequence == std::vector<std::string>{"call:status", "call:started", "call:status", "call:transcript:agent",
                                               "call:transcript:user:interim", "call:transcript:user",
                                               "call:transcript:agent", "call:metrics", "call:status", "call:ended"});
    REQUIRE_FALSE(interim.empty());
    CHECK(std::string("what are your hours").rfind(interim.front().substr(0, 4), 0) == 0);
    auto scraped = api.get("/metrics").body;
    CHECK(scraped.find(R"(voiceagent_turn_voice_to_voice_seconds_count{channel="local"} 1)") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("voice: barge-in clears the agent and keeps only what was heard") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    std::string dir = make_temp_dir("va-barge");
    auto speech = espeak_16k("I want to book an appointment", dir);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "local"},
                                                    {"caller_lines", {"what are your hours"}}}).json();
    std::string id = created["call"]["id"];
    WsClient media(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    Received got;
    auto start = read_until(media, "start", got);
    CHECK(start["recognition"] == "simulated");
    // Wait for the greeting's first second of audio, then talk over it.
    while (got.audio_samples < 16000) {
        auto m = media.read_message();
        REQUIRE(m);
        if (m->binary) got.audio_samples += m->data.size() / 2;
    }
    std::thread talker([&] { send_realtime(media, speech); });
    Received after;
    auto clear = read_until(media, "clear", after);
    talker.join();
    REQUIRE(clear.is_object());
    std::vector<std::int16_t> silence(16000 * 3 / 2, 0);
    send_realtime(media, silence);
    auto user = read_until(media, "user", after);
    REQUIRE(user.is_object());
    CHECK(user["text"] == "what are your hours");
    CHECK(user["source"] == "simulated");
    REQUIRE(read_until(media, "agent", after).is_object());
    media.send_text(R"({"type":"hangup"})");
    read_until(media, "end", after);

    wait_for_call(api, id, "completed");
    auto turns = api.get("/api/v1/calls/" + id + "/transcript").json()["items"];
    REQUIRE(turns.size() >= 3);
    CHECK(turns[0]["role"] == "agent");
    CHECK(turns[0]["interrupted"] == true);
    std::string greeting = receptionist()["first_message"];
    std::string heard = turns[0]["text"];
    CHECK(heard.size() < greeting.size());
    CHECK(greeting.rfind(heard, 0) == 0);  // a prefix of what was said
    CHECK(turns[1]["source"] == "simulated");
    std::filesystem::remove_all(dir);
}

TEST_CASE("voice: silence brings a reprompt and then the end, and bad frames get errors") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    json agent = {{"name", "quiet"},
                  {"first_message", "Hi."},
                  {"silence", {{"timeout_ms", 1000}, {"reprompt", "Still there?"}, {"max_reprompts", 1}}},
                  {"script", {{"intents", json::array()}, {"fallback", "Okay."}}}};
    REQUIRE(api.post("/api/v1/agents", agent).status == 201);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "quiet"}, {"channel", "local"}, {"caller_lines", {"x"}}}).json();
    WsClient media(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    Received got;
    REQUIRE(read_until(media, "listening", got).is_object());
    media.send_binary(std::string(3, '\0'));  // half a sample
    auto error = read_until(media, "error", got);
    REQUIRE(error.is_object());
    CHECK(error["message"].get<std::string>().find("even byte count") != std::string::npos);
    media.send_text(R"({"type":"dance"})");
    REQUIRE(read_until(media, "error", got).is_object());
    media.send_text(R"({"type":"mark","name":"m1"})");
    CHECK(read_until(media, "mark", got)["name"] == "m1");
    auto reprompt = read_until(media, "agent", got);
    REQUIRE(reprompt.is_object());
    CHECK(reprompt["text"] == "Still there?");
    auto end = read_until(media, "end", got);
    REQUIRE(end.is_object());
    CHECK(end["reason"] == "silence_timeout");
    auto call = wait_for_call(api, created["call"]["id"], "completed");
    CHECK(call["end_reason"] == "silence_timeout");
}

TEST_CASE("voice: vactl talk with --input and --output produces a spoken answer") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    std::string dir = make_temp_dir("va-talk");
    REQUIRE(std::system(("espeak-ng -w " + dir + "/question.wav 'what are your hours' >/dev/null 2>&1").c_str()) == 0);
    auto talk = run_process({VA_VACTL_PATH, "--server", d.base_url(), "talk", "receptionist", "--input",
                             dir + "/question.wav", "--output", dir + "/answer.wav"},
                            {{"XDG_CONFIG_HOME", dir}, {"VOICEAGENT_DATA_DIR", d.data_dir()}}, "", 90);
    INFO(talk.err);
    REQUIRE(talk.exit_code == 0);
    CHECK(talk.out.find("user: what are your hours") != std::string::npos);
    CHECK(talk.out.find("agent: We are open Monday to Friday") != std::string::npos);
    auto answer = va::read_wav(dir + "/answer.wav");
    REQUIRE(answer);
    CHECK(answer->sample_rate == 16000);
    CHECK(answer->duration_s() > 6.0);  // greeting and answer
    CHECK(va::level_dbfs(answer->samples) > -40);
    std::filesystem::remove_all(dir);
}

TEST_CASE("voice: a backchannel while the agent speaks does not interrupt it, other words do") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    auto agent = receptionist();
    agent["name"] = "patient";
    agent["interruption"]["min_speech_ms"] = 5000;  // the VAD alone never interrupts here: only words decide
    REQUIRE(api.post("/api/v1/agents", agent).status == 201);
    std::string dir = make_temp_dir("va-backchannel");
    auto burst = espeak_16k("okay", dir);
    burst.resize(burst.size() + 16000 * 7 / 10, 0);  // the caller stops: the VAD ends the utterance
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "patient"}, {"channel", "local"},
                                                    {"caller_lines", {"okay", "what are your hours", "goodbye"}}}).json();
    std::string id = created["call"]["id"];
    WsClient media(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    Received got;
    REQUIRE(read_until(media, "start", got).is_object());
    while (got.audio_samples < 8000) {
        auto m = media.read_message();
        REQUIRE(m);
        if (m->binary) got.audio_samples += m->data.size() / 2;
    }
    std::vector<std::int16_t> lead(16000 / 2, 0);
    send_realtime(media, lead);
    send_realtime(media, burst);  // "okay" during the greeting
    Received after;
    auto listening = read_until(media, "listening", after);
    REQUIRE(listening.is_object());
    for (auto& t : after.types()) CHECK(t != "clear");
    // Now real words while the agent answers something: they interrupt.
    send_realtime(media, burst);  // recognized as "what are your hours"
    auto user = read_until(media, "user", after);
    REQUIRE(user.is_object());
    CHECK(user["text"] == "what are your hours");
    Received reply;
    while (reply.audio_samples < 8000) {  // the answer has started playing
        auto m = media.read_message();
        REQUIRE(m);
        if (m->binary) reply.audio_samples += m->data.size() / 2;
    }
    send_realtime(media, burst);  // recognized as "goodbye": not a backchannel, so it interrupts
    REQUIRE(read_until(media, "clear", reply).is_object());
    auto bye = read_until(media, "user", reply);
    REQUIRE(bye.is_object());
    CHECK(bye["text"] == "goodbye");
    read_until(media, "end", reply);
    wait_for_call(api, id, "completed");
    auto turns = api.get("/api/v1/calls/" + id + "/transcript").json()["items"];
    REQUIRE(turns.size() >= 2);
    CHECK(turns[0]["role"] == "agent");
    CHECK(turns[0]["interrupted"] == false);
    CHECK(turns[0]["text"] == agent["first_message"]);  // the whole greeting was played
    CHECK(turns[1]["text"] == "what are your hours");  // the backchannel is not a turn
    REQUIRE(turns.size() >= 4);
    CHECK(turns[2]["role"] == "agent");
    CHECK(turns[2]["interrupted"] == true);
    CHECK(turns[3]["text"] == "goodbye");
    std::filesystem::remove_all(dir);
}

#if VA_WITH_PORTAUDIO
// The microphone and speaker path through PortAudio, on a machine with no sound card: ALSA's file plugin stands in
// for the devices (capture reads a raw file, playback writes one), so vactl's real device code, echo canceller and
// duplex WebSocket run end to end. Ctrl-C then hangs the call up.
TEST_CASE("voice: vactl talk through the sound device hears the caller and plays the answer") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    std::string dir = make_temp_dir("va-talk-live");
    // The caller waits through the greeting, asks, then stays quiet.
    std::vector<std::int16_t> mic(16000 * 8, 0);
    auto question = espeak_16k("what are your hours", dir);
    mic.insert(mic.end(), question.begin(), question.end());
    mic.resize(mic.size() + 16000 * 30, 0);
    {
        std::ofstream raw(dir + "/mic.raw", std::ios::binary);
        raw.write(reinterpret_cast<const char*>(mic.data()), std::streamsize(mic.size() * 2));
        std::ofstream asoundrc(dir + "/.asoundrc");
        asoundrc << "pcm.!default {\n type asym\n"
                 << " playback.pcm { type file slave.pcm \"null\" file \"" << dir << "/speaker.raw\" format \"raw\" }\n"
                 << " capture.pcm { type file slave.pcm \"null\" file \"/dev/null\" infile \"" << dir
                 << "/mic.raw\" format \"raw\" }\n}\n";
    }
    auto talk = run_process_interrupting(
        {VA_VACTL_PATH, "--server", d.base_url(), "talk", "receptionist", "--output", dir + "/heard.wav"},
        {{"HOME", dir}, {"XDG_CONFIG_HOME", dir}, {"VOICEAGENT_DATA_DIR", d.data_dir()}},
        "agent: We are open Monday to Friday", 90);
    INFO(talk.out << talk.err);
    CHECK(talk.interrupted);
    REQUIRE(talk.exit_code == 0);
    CHECK(talk.out.find("user: what are your hours") != std::string::npos);
    CHECK(talk.err.find("ended: caller_hangup") != std::string::npos);
    // What reached the speaker: the greeting and the start of the answer, as real audio.
    auto heard = va::read_wav(dir + "/heard.wav");
    REQUIRE(heard);
    CHECK(va::level_dbfs(heard->samples) > -40);
    std::ifstream speaker(dir + "/speaker.raw", std::ios::binary | std::ios::ate);
    CHECK(speaker.tellg() > 16000 * 2 * 4);
    auto calls = api.get("/api/v1/calls?limit=1").json()["items"];
    REQUIRE(calls.size() == 1);
    wait_for_call(api, calls[0]["id"], "completed");
    std::filesystem::remove_all(dir);
}
#endif

TEST_CASE("voice: SIGTERM drains a voice call: it goes on, then the caller hears the goodbye before the end") {
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_DRAIN_TIMEOUT_MS", "1500"}});
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "local"}}).json();
    std::string id = created["call"]["id"];
    WsClient media(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    Received greeting;
    REQUIRE(read_until(media, "listening", greeting).is_object());

    auto signalled = std::chrono::steady_clock::now();
    REQUIRE(::kill(d.pid(), SIGTERM) == 0);
    Received drained;
    auto end = read_until(media, "end", drained);
    REQUIRE(end.is_object());
    auto waited = std::chrono::steady_clock::now() - signalled;
    CHECK(end["reason"] == "daemon_shutdown");
    // The call went on for the drain time, then the goodbye was said and spoken (over a second of audio) before
    // the end: the caller hears why the call ends.
    CHECK(waited >= std::chrono::milliseconds(1400));  // a lower bound: a slow machine only makes it longer
    bool goodbye = false;
    for (const auto& m : drained.messages)
        if (m.value("type", "") == "agent" && m.value("text", "") == "I'm sorry, I have to end our call now. Goodbye.")
            goodbye = true;
    CHECK(goodbye);
    CHECK(drained.audio_samples > 16000);
    CHECK(d.stop(SIGTERM, 20) == 0);
    CHECK(d.log().find("draining: 1 live calls") != std::string::npos);
}
