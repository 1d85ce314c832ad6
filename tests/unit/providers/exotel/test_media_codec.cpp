#include <catch2/catch.hpp>

#include "unit/providers/media_sink_recorder.hpp"

#include "core/util/encoding.hpp"
#include "providers/exotel/media_codec.hpp"
#include "providers/fake/media_caller.hpp"

using namespace va;
using nlohmann::json;

namespace {

using Recorder = va::test::MediaSinkRecorder;

// The documented start message, with the stream id only inside start (as some servers read it).
const char* kStart = R"({"event":"start","sequence_number":"1",
 "start":{"stream_sid":"S1","call_sid":"C1","account_sid":"A1","from":"+919876543210","to":"+918047491899",
          "custom_parameters":{"key1":"value1"},
          "media_format":{"encoding":"base64","sample_rate":"8000","bit_rate":"128kbps"}}})";

}  // namespace

TEST_CASE("exotel media: the documented messages are understood, at the rate asked for") {
    auto codec = exotel::make_media_codec(16000);
    Recorder r;
    CHECK(codec->channel() == "exotel");
    CHECK(codec->sample_rate() == 16000);  // not the start message's "8000": the URL's rate rules
    CHECK(codec->chunk_samples() == 1600);
    CHECK(exotel::make_media_codec(8000)->chunk_samples() == 1600);   // 3200 bytes: 200 ms at 8 kHz
    CHECK(exotel::make_media_codec(24000)->chunk_samples() == 2400);  // 100 ms
    codec->parse(R"({"event":"connected","protocol":"Exotel Media Stream","version":"1.0.0"})", false, r);
    codec->parse(kStart, false, r);
    std::string bytes = {char(0x34), char(0x12), char(0xff), char(0xff), char(0x00), char(0x80)};  // 0x1234, -1, -32768
    codec->parse(json{{"event", "media"}, {"sequence_number", "3"}, {"stream_sid", "S1"},
                      {"media", {{"chunk", "1"}, {"timestamp", "100"}, {"payload", base64_encode(bytes)}}}}.dump(),
                 false, r);
    codec->parse(R"({"event":"dtmf","sequence_number":"7","stream_sid":"S1","dtmf":{"digit":"5","duration":"100"}})", false, r);
    codec->parse(R"({"event":"mark","sequence_number":"15","stream_sid":"S1","mark":{"name":"greeting-done"}})", false, r);
    codec->parse(R"({"event":"stop","sequence_number":"100","stream_sid":"S1","stop":{"call_sid":"C1","account_sid":"A1","reason":"callended"}})", false, r);
    CHECK(r.log == std::vector<std::string>{"start", "audio", "dtmf:5", "mark:greeting-done", "stop:caller_hangup"});
    CHECK(r.start["stream_sid"] == "S1");
    CHECK(r.start["call_sid"] == "C1");
    CHECK(r.start["custom_parameters"]["key1"] == "value1");
    CHECK(r.audio == std::vector<std::int16_t>{0x1234, -1, -32768});
}

TEST_CASE("exotel media: what the agent sends follows the chunk rules, as JSON text with stream_sid") {
    for (int rate : {8000, 16000, 24000}) {
        auto codec = exotel::make_media_codec(rate);
        Recorder r;
        codec->parse(kStart, false, r);
        CHECK(codec->encoding() == Encoding::pcm16);
        std::vector<std::int16_t> chunk(codec->chunk_samples(), 7);
        std::string wire;
        encode_audio(Encoding::pcm16, chunk, wire);
        auto out = codec->audio(wire);
        CHECK_FALSE(out.binary);
        json m = json::parse(out.data);
        CHECK(m["event"] == "media");
        CHECK(m["stream_sid"] == "S1");
        auto payload = base64_decode(m["media"]["payload"].get<std::string>());
        REQUIRE(payload);
        CHECK(exotel::chunk_ok(payload->size()));
        CHECK((*payload)[0] == 7);  // little-endian
        CHECK(*payload == wire);
    }
    CHECK(exotel::chunk_ok(3200));
    CHECK(exotel::chunk_ok(102400));
    CHECK_FALSE(exotel::chunk_ok(320));      // under 3200: distorted
    CHECK_FALSE(exotel::chunk_ok(3300));     // off the 320-byte grid: gaps
    CHECK_FALSE(exotel::chunk_ok(102720));   // over 100 KB: times out
}

TEST_CASE("exotel media: bad input is reported and the stream goes on") {
    auto codec = exotel::make_media_codec(8000);
    Recorder r;
    codec->parse(R"({"event":"media","stream_sid":"S1","media":{"payload":"AAAA"}})", false, r);  // before start
    codec->parse(kStart, false, r);
    codec->parse("{not json", false, r);
    codec->parse("AAAA", true, r);
    codec->parse(R"({"event":"media","stream_sid":"S1","media":{"payload":"***"}})", false, r);
    codec->parse(R"({"event":"media","stream_sid":"S1","media":{"payload":"AAA="}})", false, r);  // 2 bytes... odd? no: even
    codec->parse(R"({"event":"media","stream_sid":"S1","media":{"payload":"AA=="}})", false, r);  // 1 byte: half a sample
    codec->parse(R"({"event":"weird","stream_sid":"S1"})", false, r);
    REQUIRE(r.log.size() == 8);
    CHECK(r.log[0].rfind("error:", 0) == 0);
    CHECK(r.log[1] == "start");
    CHECK(r.log[2].rfind("error:", 0) == 0);
    CHECK(r.log[3].rfind("error:", 0) == 0);
    CHECK(r.log[4].rfind("error:", 0) == 0);
    CHECK(r.log[5] == "audio");
    CHECK(r.log[6].rfind("error:", 0) == 0);
    CHECK(r.log[7].rfind("error:unknown event", 0) == 0);
}

TEST_CASE("exotel fake dialect: its messages parse with the codec, and it flags what Exotel would not like") {
    auto dialect = fake::exotel_dialect(16000, 100, "S9", "C9", "A9", "+91100", "+91200", json{{"k", "v"}});
    auto codec = exotel::make_media_codec(16000);
    Recorder r;
    auto opening = dialect->opening();
    for (const auto& m : opening) codec->parse(m, false, r);
    std::vector<std::int16_t> frame(1600, 300);
    codec->parse(dialect->media(frame), false, r);
    codec->parse(dialect->dtmf('7'), false, r);
    CHECK(r.log == std::vector<std::string>{"start", "audio", "dtmf:7"});
    CHECK(r.start["stream_sid"] == "S9");
    CHECK(r.audio == frame);
    json start = json::parse(opening[1]);
    CHECK(start["sequence_number"] == "1");
    CHECK(start["start"]["media_format"]["sample_rate"] == "16000");

    std::vector<std::string> violations;
    auto good = dialect->parse(*codec->clear(), false, violations);
    CHECK(good.kind == fake::Dialect::BotMessage::clear);
    CHECK(violations.empty());
    dialect->parse(json{{"event", "media"}, {"stream_sid", "S9"}, {"media", {{"payload", base64_encode(std::string(100, 'x'))}}}}.dump(),
                   false, violations);
    dialect->parse("AAAA", true, violations);
    dialect->parse(R"({"event":"clear","stream_sid":"other"})", false, violations);
    dialect->parse(R"({"event":"clear","streamSid":"S9"})", false, violations);  // Exotel's samples' key: fine
    REQUIRE(violations.size() == 3);
    CHECK(violations[0].find("chunk rules") != std::string::npos);
    CHECK(violations[1].find("binary") != std::string::npos);
    CHECK(violations[2].find("stream_sid") != std::string::npos);
}

TEST_CASE("exotel media: media messages read without a JSON tree give what the full parse gave") {
    struct Case {
        std::string message;
        std::vector<std::string> log;
        std::size_t samples = 0;
    };
    const std::string deep = R"({"event":"media","x":)" + std::string(70, '{') + std::string(70, '}') + "}";
    const Case cases[] = {
        {R"({"event":"media","sequence_number":"3","stream_sid":"S1","media":{"chunk":"2","timestamp":"200","payload":"AAAAAA=="}})", {"audio"}, 2},
        {R"({"event":"media","media":{"payload":"AA\/AAAAA"}})", {"audio"}, 3},
        {R"({"event":"media","media":{"payload":"\u0041AAAAA=="}})", {"audio"}, 2},
        {R"({"event":"media","media":{"payload":"AAAA"},"media":{"payload":"AAAAAAAA"}})", {"audio"}, 3},
        {R"({"event":"media","media":{"payload":null}})", {"audio"}, 0},
        {R"({"event":"media","media":["AAAA"]})", {"audio"}, 0},
        {R"({"event":"media","media":{"payload":"AAAA"}})", {"error:media payload is not whole PCM16 samples"}, 0},
        {R"({"event":"media","media":{"payload":"@@@@"}})", {"error:media payload is not valid base64"}, 0},
        {R"({"event":"media","media":{"payload":12}})", {"error:media payload is not valid base64"}, 0},
        {R"({"event":"media","media":{"payload":"AAAA"}})" "\n}", {"error:malformed JSON message"}, 0},
        {R"({"event":"media","n":01,"media":{"payload":"AAAA"}})", {"error:malformed JSON message"}, 0},
        {deep, {"error:malformed JSON message"}, 0},
    };
    for (const auto& c : cases) {
        INFO(c.message);
        auto codec = exotel::make_media_codec(8000);
        Recorder r;
        codec->parse(kStart, false, r);
        r.log.clear();
        codec->parse(c.message, false, r);
        CHECK(r.log == c.log);
        CHECK(r.audio.size() == c.samples);
    }
}
