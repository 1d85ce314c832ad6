// The provider fakes' timing options (a real service's pace: Deepgram's final after the speech ends, OpenAI's first
// token and token rate, ElevenLabs' first audio and real-time factor), over real loopback connections. As
// docs/testing.md asks, nothing here is timed with a stopwatch: each test sets one delay far beyond the test's
// length and checks what could (and could not) have happened before it, or sets them small and checks the order
// and the content of what arrived.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include "core/util/encoding.hpp"
#include "providers/common/http_client.hpp"
#include "providers/common/ws_client.hpp"
#include "providers/fake/deepgram_fake.hpp"
#include "providers/fake/elevenlabs_fake.hpp"
#include "providers/fake/openai_fake.hpp"
#include "support/eventually.hpp"

using namespace va;
using nlohmann::json;
using va::test::eventually;
using namespace std::chrono_literals;

namespace {

constexpr int kForever = 600000;  // ten minutes: longer than any test runs

// A streamed HTTP request on a thread of its own, which the test can cancel; collects the body's pieces.
struct Streamer {
    std::atomic<bool> cancel{false};
    std::mutex mutex;
    std::vector<std::string> pieces;
    int status = 0;
    std::thread thread;

    Streamer(HttpRequest request) {
        thread = std::thread([this, request] {
            HttpStream stream;
            stream.cancelled = &cancel;
            stream.on_body = [this](const HttpResult& head, std::string_view piece) {
                std::lock_guard lock(mutex);
                status = head.status;
                pieces.emplace_back(piece);
                return true;
            };
            auto r = http_stream(request, stream);
            std::lock_guard lock(mutex);
            if (r && r->status) status = r->status;
        });
    }
    ~Streamer() {
        cancel = true;
        wait();
    }
    void wait() {
        if (thread.joinable()) thread.join();
    }
    std::string body() {
        std::lock_guard lock(mutex);
        std::string all;
        for (const auto& p : pieces) all += p;
        return all;
    }
};

HttpRequest chat_request(const fake::OpenAiFake& fake) {
    HttpRequest r;
    r.method = "POST";
    r.url = fake.base_url() + "/chat/completions";
    r.headers = {{"Authorization", "Bearer sk-fake-openai"}, {"Content-Type", "application/json"}};
    r.body = json{{"model", "gpt-4o-mini"}, {"stream", true}, {"messages", {{{"role", "user"}, {"content", "hours?"}}}}}.dump();
    r.timeout_ms = 60000;
    return r;
}

// The content deltas of an SSE body, in order.
std::vector<std::string> content_deltas(const std::string& body) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while ((at = body.find("data: {", at)) != std::string::npos) {
        std::size_t end = body.find("\n\n", at);
        json j = json::parse(body.substr(at + 6, end - at - 6), nullptr, false);
        at = end;
        if (!j.is_object() || !j.contains("choices") || j["choices"].empty()) continue;
        const auto& delta = j["choices"][0]["delta"];
        if (delta.contains("content") && delta["content"].is_string() && !delta["content"].get<std::string>().empty())
            out.push_back(delta["content"]);
    }
    return out;
}

HttpRequest speech_request(const fake::ElevenLabsFake& fake, const std::string& text) {
    HttpRequest r;
    r.method = "POST";
    r.url = fake.base_url() + "/v1/text-to-speech/voice-1/stream?output_format=ulaw_8000";
    r.headers = {{"xi-api-key", "xi-fake-key"}, {"Content-Type", "application/json"}};
    r.body = json{{"text", text}, {"model_id", "eleven_flash_v2_5"}}.dump();
    r.timeout_ms = 60000;
    return r;
}

}  // namespace

TEST_CASE("timed openai fake: with the token rate set, the reply comes as words, in order, then the end of the stream") {
    fake::OpenAiFake::Options o;
    o.replies = {{"We open at nine. We close at six.", "", json::object()}};
    o.tokens_per_s = 1000;
    fake::OpenAiFake fake(o);
    Streamer s(chat_request(fake));
    s.wait();
    std::string body = s.body();
    CHECK(content_deltas(body) ==
          std::vector<std::string>{"We", " open", " at", " nine.", " We", " close", " at", " six."});
    CHECK(body.find("\"finish_reason\":\"stop\"") < body.find("data: [DONE]"));
    CHECK(fake.max_in_flight() == 1);
    CHECK(eventually([&] { return fake.in_flight() == 0; }));
}

TEST_CASE("timed openai fake: each token waits its turn: at one token per 100 s, the first comes alone") {
    fake::OpenAiFake::Options o;
    o.replies = {{"We open at nine.", "", json::object()}};
    o.tokens_per_s = 0.01;
    fake::OpenAiFake fake(o);
    Streamer s(chat_request(fake));
    REQUIRE(eventually([&] { return content_deltas(s.body()).size() == 1; }, 30s));
    s.cancel = true;
    s.wait();
    CHECK(content_deltas(s.body()) == std::vector<std::string>{"We"});
    CHECK(s.body().find("[DONE]") == std::string::npos);
    // The client went away: the fake's stream ended with it, its remaining tokens unsent.
    CHECK(eventually([&] { return fake.in_flight() == 0; }, 30s));
}

TEST_CASE("timed openai fake: a request cancelled before the first token's latency got no token") {
    fake::OpenAiFake::Options o;
    o.first_token_ms = kForever;
    o.tokens_per_s = 50;
    fake::OpenAiFake fake(o);
    Streamer s(chat_request(fake));
    REQUIRE(eventually([&] { return fake.in_flight() == 1; }, 30s));  // the request is in, its answer started
    s.cancel = true;
    s.wait();
    CHECK(eventually([&] { return fake.in_flight() == 0; }, 30s));
    CHECK(fake.first_bytes_sent() == 0);
    CHECK(content_deltas(s.body()).empty());
}

TEST_CASE("timed elevenlabs fake: a request cancelled before the first audio's latency was sent no audio") {
    fake::ElevenLabsFake::Options o;
    o.tones = true;
    o.first_audio_ms = kForever;
    o.realtime_factor = 4;
    fake::ElevenLabsFake fake(o);
    Streamer s(speech_request(fake, "We open at nine."));
    REQUIRE(eventually([&] { return fake.in_flight() == 1; }, 30s));
    s.cancel = true;
    s.wait();
    CHECK(eventually([&] { return fake.in_flight() == 0; }, 30s));
    CHECK(fake.audio_bytes_sent() == 0);
    CHECK(s.body().empty());
}

TEST_CASE("timed elevenlabs fake: audio comes a chunk at a time at the real-time factor, a tone as long as the text") {
    SECTION("at 1/1000 of real time, the first 100 ms chunk comes alone") {
        fake::ElevenLabsFake::Options o;
        o.tones = true;
        o.realtime_factor = 0.001;  // the next chunk 100 s later
        fake::ElevenLabsFake fake(o);
        Streamer s(speech_request(fake, "We open at nine."));
        REQUIRE(eventually([&] { return !s.body().empty(); }, 30s));
        s.cancel = true;
        s.wait();
        CHECK(s.body().size() == 800);  // 100 ms of mu-law at 8 kHz
        CHECK(eventually([&] { return fake.in_flight() == 0; }, 30s));
        CHECK(fake.audio_bytes_sent() == 800);
    }
    SECTION("fast, the whole tone arrives: 60 ms per character") {
        fake::ElevenLabsFake::Options o;
        o.tones = true;
        o.first_audio_ms = 10;
        o.realtime_factor = 1000;
        fake::ElevenLabsFake fake(o);
        Streamer s(speech_request(fake, "We open at nine."));
        s.wait();
        CHECK(s.status == 200);
        CHECK(s.body().size() == 16 * 60 * 8);
        CHECK(fake.audio_bytes_sent() == 16 * 60 * 8);
        CHECK(fake.max_in_flight() == 1);
    }
}

TEST_CASE("timed elevenlabs fake: over stream-input, a sentence's tone arrives in chunks, then isFinal") {
    fake::ElevenLabsFake::Options o;
    o.tones = true;
    o.first_audio_ms = 10;
    o.realtime_factor = 1000;
    fake::ElevenLabsFake fake(o);
    std::mutex mutex;
    std::vector<json> received;
    std::atomic<bool> closed{false};
    WsClientCallbacks cb;
    cb.on_message = [&](bool, std::string data) {
        std::lock_guard lock(mutex);
        received.push_back(json::parse(data, nullptr, false));
    };
    cb.on_closed = [&](int, std::string, std::optional<Error>) { closed = true; };
    auto ws = WsClient::connect({fake.ws_url() + "/v1/text-to-speech/voice-1/stream-input?output_format=ulaw_8000",
                                 {{"xi-api-key", "xi-fake-key"}}, 5000, 0},
                                cb);
    ws->send_text(json{{"text", " "}}.dump());
    ws->send_text(json{{"text", "We open at nine. "}, {"flush", true}}.dump());
    ws->send_text(json{{"text", ""}}.dump());
    REQUIRE(eventually([&] { return closed.load(); }, 30s));
    std::lock_guard lock(mutex);
    std::size_t audio = 0;
    REQUIRE(received.size() >= 2);
    for (std::size_t i = 0; i + 1 < received.size(); ++i) audio += base64_decode(received[i]["audio"].get<std::string>())->size();
    CHECK(audio == 17 * 60 * 8);  // the text as sent, with its trailing space
    CHECK(received.size() == 1 + (17 * 60 + 199) / 200);  // 200 ms chunks, then isFinal
    CHECK(received.back().value("isFinal", false));
    CHECK(fake.audio_bytes_sent() == audio);
}

namespace {

// A Deepgram live stream on the project's WebSocket client; collects the Results messages.
struct Listener {
    std::mutex mutex;
    std::vector<json> results;
    std::shared_ptr<WsClient> ws;

    Listener(const fake::DeepgramFake& fake, int endpointing_ms) {
        WsClientCallbacks cb;
        cb.on_message = [this](bool, std::string data) {
            json j = json::parse(data, nullptr, false);
            std::lock_guard lock(mutex);
            if (j.is_object() && j.value("type", "") == "Results") results.push_back(j);
        };
        ws = WsClient::connect({fake.base_url() + "/v1/listen?encoding=linear16&sample_rate=8000&interim_results=true&endpointing=" +
                                    std::to_string(endpointing_ms),
                                {{"Authorization", "Token dg-fake-key"}}, 5000, 0},
                               cb);
    }
    ~Listener() { ws->abort(); }
    void send_audio(int ms, bool loud) {
        std::string bytes;
        for (int i = 0; i < ms * 8; ++i) {
            auto s = loud ? static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 300.0 * i / 8000.0)) : std::int16_t(0);
            bytes.push_back(char(s & 0xff));
            bytes.push_back(char((s >> 8) & 0xff));
        }
        for (std::size_t at = 0; at < bytes.size(); at += 320) ws->send_binary(bytes.substr(at, 320));
    }
    std::vector<json> finals() {
        std::lock_guard lock(mutex);
        std::vector<json> out;
        for (const auto& r : results)
            if (r.value("is_final", false)) out.push_back(r);
        return out;
    }
    std::size_t interims() {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& r : results) n += r.value("is_final", false) ? 0 : 1;
        return n;
    }
};

std::string transcript(const json& r) { return r["channel"]["alternatives"][0]["transcript"]; }

}  // namespace

TEST_CASE("timed deepgram fake: the final comes final_delay_ms after the speech ends, on a timer, not after endpointing") {
    fake::DeepgramFake::Options o;
    o.phrase = "what are your hours";
    o.final_delay_ms = 50;
    o.interim_ms = 200;
    fake::DeepgramFake fake(o);
    Listener l(fake, 100000);  // endpointing would need 100 s of silence: this final can only come from the timer
    l.send_audio(1000, true);
    l.send_audio(20, false);   // the speech has ended; nothing more is sent
    REQUIRE(eventually([&] { return l.finals().size() == 1; }, 30s));
    auto f = l.finals()[0];
    CHECK(f.value("speech_final", false));
    CHECK(transcript(f) == "what are your hours");
    CHECK(l.interims() == 4);  // one every 200 ms of speech: 960 ms after the 60 ms onset, and the quiet frame
    CHECK(fake.max_open_streams() == 1);
}

TEST_CASE("timed deepgram fake: speech that resumes before the final delay makes one utterance") {
    fake::DeepgramFake::Options o;
    o.lines = {"first", "second"};
    o.final_delay_ms = kForever;
    fake::DeepgramFake fake(o);
    Listener l(fake, 10);
    l.send_audio(400, true);
    l.send_audio(300, false);  // with endpointing (10 ms) alone, this pause would end an utterance
    l.send_audio(400, true);
    l.ws->send_text(R"({"type":"CloseStream"})");  // the service settles what it heard
    REQUIRE(eventually([&] { return !l.finals().empty(); }, 30s));
    auto finals = l.finals();
    REQUIRE(finals.size() == 1);
    CHECK(transcript(finals[0]) == "first");
    CHECK(eventually([&] { return fake.open_streams() == 0; }, 30s));
}
