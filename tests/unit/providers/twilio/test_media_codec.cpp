#include <catch2/catch.hpp>

#include "unit/providers/media_sink_recorder.hpp"

#include "core/audio/g711.hpp"
#include "core/util/encoding.hpp"
#include "providers/twilio/media_codec.hpp"

using namespace va;
using nlohmann::json;

namespace {

using Recorder = va::test::MediaSinkRecorder;

const char* kStart = R"({"event":"start","sequenceNumber":"1","streamSid":"MZ1",
 "start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],
          "customParameters":{"call_id":"c_123"},
          "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})";

}  // namespace

TEST_CASE("twilio media: the documented messages are understood") {
    auto codec = twilio::make_media_codec();
    Recorder r;
    CHECK(codec->sample_rate() == 8000);
    CHECK(codec->chunk_samples() == 160);
    codec->parse(R"({"event":"connected","protocol":"Call","version":"1.0.0"})", false, r);
    codec->parse(kStart, false, r);
    std::vector<std::int16_t> tone(160);
    for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = std::int16_t((i % 20) * 800 - 8000);
    std::string ulaw(160, '\0');
    g711::encode_ulaw(tone, {reinterpret_cast<std::uint8_t*>(ulaw.data()), ulaw.size()});
    json media{{"event", "media"}, {"sequenceNumber", "2"}, {"streamSid", "MZ1"},
               {"media", {{"track", "inbound"}, {"chunk", "1"}, {"timestamp", "5"}, {"payload", base64_encode(ulaw)}}}};
    codec->parse(media.dump(), false, r);
    codec->parse(R"({"event":"dtmf","sequenceNumber":"5","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}})", false, r);
    codec->parse(R"({"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"m1"}})", false, r);
    codec->parse(R"({"event":"stop","sequenceNumber":"6","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})", false, r);
    CHECK(r.log == std::vector<std::string>{"start", "audio", "dtmf:1", "mark:m1", "stop:caller_hangup"});
    CHECK(r.start["stream_sid"] == "MZ1");
    CHECK(r.start["call_sid"] == "CA1");
    CHECK(r.start["custom_parameters"]["call_id"] == "c_123");
    REQUIRE(r.audio.size() == 160);
    for (std::size_t i = 0; i < 160; ++i) CHECK(r.audio[i] == g711::ulaw_to_linear(std::uint8_t(ulaw[i])));
}

TEST_CASE("twilio media: what the agent sends is JSON text with the stream id, its mu-law bytes as they are") {
    auto codec = twilio::make_media_codec();
    Recorder r;
    codec->parse(kStart, false, r);
    CHECK(codec->encoding() == Encoding::mulaw);
    // 0x7F is mu-law's negative zero: decoded and encoded again it would come back as 0xFF.
    std::string wire(160, '\x7F');
    wire[0] = '\x00';
    wire[1] = '\x80';
    auto out = codec->audio(wire);
    CHECK_FALSE(out.binary);
    json m = json::parse(out.data);
    CHECK(m["event"] == "media");
    CHECK(m["streamSid"] == "MZ1");
    auto bytes = base64_decode(m["media"]["payload"].get<std::string>());
    REQUIRE(bytes);
    CHECK(*bytes == wire);
    CHECK(json::parse(*codec->clear()) == json{{"event", "clear"}, {"streamSid", "MZ1"}});
    CHECK(json::parse(*codec->mark("x")) == json{{"event", "mark"}, {"streamSid", "MZ1"}, {"mark", {{"name", "x"}}}});
    CHECK_FALSE(codec->control(json{{"type", "listening"}}));  // Twilio has no such messages
}

TEST_CASE("twilio media: bad input is reported and the stream goes on") {
    auto codec = twilio::make_media_codec();
    Recorder r;
    codec->parse(R"({"event":"media","media":{"payload":"AAAA"}})", false, r);  // before start
    codec->parse(kStart, false, r);
    codec->parse("not json", false, r);
    codec->parse(std::string(10, '\x01'), true, r);
    codec->parse(R"({"event":"media","streamSid":"MZ1","media":{"payload":"@@not base64@@"}})", false, r);
    codec->parse(R"({"event":"bogus","streamSid":"MZ1"})", false, r);
    codec->parse(R"({"event":"media","streamSid":"MZ1","media":{"track":"outbound","payload":"AAAA"}})", false, r);
    codec->parse(R"({"event":"media","streamSid":"MZ1","media":{"payload":"AAAA"}})", false, r);
    REQUIRE(r.log.size() == 7);
    CHECK(r.log[0].rfind("error:", 0) == 0);
    CHECK(r.log[1] == "start");
    for (int i = 2; i < 6; ++i) CHECK(r.log[std::size_t(i)].rfind("error:", 0) == 0);
    CHECK(r.log[6] == "audio");
}

TEST_CASE("twilio twiml: connect stream with parameters, escaped") {
    auto xml = twilio::connect_stream_twiml("wss://h.example/media/twilio/c1", {{"call_id", "c1"}, {"token", "a&b\"c"}});
    CHECK(xml == "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream "
                 "url=\"wss://h.example/media/twilio/c1\"><Parameter name=\"call_id\" value=\"c1\"/><Parameter "
                 "name=\"token\" value=\"a&amp;b&quot;c\"/></Stream></Connect></Response>");
    CHECK(twilio::dial_twiml("+15551234567").find("<Dial>+15551234567</Dial>") != std::string::npos);
}

TEST_CASE("twilio media: an agent frame is the same bytes as its JSON document, whatever the stream id holds") {
    // The frame is written without a JSON tree; it must still be what serializing one gives, escapes included.
    for (std::string sid : {"MZ1", "MZ\"quoted\\back\"", "MZ\u00e9\n"}) {
        auto codec = twilio::make_media_codec();
        Recorder r;
        codec->parse(json{{"event", "start"}, {"start", {{"streamSid", sid}}}}.dump(), false, r);
        REQUIRE(r.log == std::vector<std::string>{"start"});
        for (std::size_t n : {160u, 161u, 162u, 0u}) {
            std::vector<std::int16_t> pcm(n);
            for (std::size_t i = 0; i < n; ++i) pcm[i] = std::int16_t(i * 97 - 7000);
            std::string ulaw(n, '\0');
            g711::encode_ulaw(pcm, {reinterpret_cast<std::uint8_t*>(ulaw.data()), ulaw.size()});
            json expected{{"event", "media"}, {"streamSid", sid}, {"media", {{"payload", base64_encode(ulaw)}}}};
            CHECK(codec->audio(ulaw).data == expected.dump());
        }
    }
}

TEST_CASE("twilio media: media messages read without a JSON tree give what the full parse gave") {
    // Each message after a start, alone: what the sink hears (and how many samples). The scanner answers the
    // common shapes; the rest (escapes it declines, duplicates, non-ASCII, malformed, deep) go the full way.
    struct Case {
        std::string message;
        std::vector<std::string> log;
        std::size_t samples = 0;
    };
    const std::string deep = R"({"event":"media","x":)" + std::string(70, '[') + std::string(70, ']') + "}";
    const Case cases[] = {
        {R"({"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","payload":"AAAA"}})", {"audio"}, 3},
        {R"( { "event" : "media" , "media" : { "payload" : "AA\/A" , "track" : "inbound_track" } } )", {"audio"}, 3},
        {R"({"event":"media","media":{"payload":"\u0041AAA"}})", {"audio"}, 3},
        {R"({"event":"media","media":{"payload":"AAAA"},"media":{"payload":"AAAAAAAA"}})", {"audio"}, 6},
        {R"({"event":"media","media":{"payload":"AAAA","payload":"AAAAAAAA"}})", {"audio"}, 6},
        {"{\"event\":\"media\",\"x\":\"caf\xc3\xa9\",\"media\":{\"payload\":\"AAAA\"}}", {"audio"}, 3},
        {R"({"event":"media","media":{"payload":null}})", {"audio"}, 0},
        {R"({"event":"media","media":"AAAA"})", {"audio"}, 0},
        {R"({"event":"media"})", {"audio"}, 0},
        {R"({"event":"media","media":{"track":"outbound","payload":"AAAA"}})", {}, 0},
        {R"({"event":"media","media":{"track":1,"payload":"AAAA"}})", {}, 0},
        {R"({"event":"media","media":{"track":true,"payload":"AAAA"}})", {"audio"}, 3},
        {R"({"event":"media","media":{"payload":"@@@@"}})", {"error:media payload is not valid base64"}, 0},
        {R"({"event":"media","media":{"payload":"AAA"}})", {"error:media payload is not valid base64"}, 0},
        {R"({"event":"media","media":{"payload":123}})", {"error:media payload is not valid base64"}, 0},
        {R"({"event":"media","media":{"payload":"AAAA"})", {"error:malformed JSON message"}, 0},
        {R"({"event":"media","media":{"payload":"AAAA"}} x)", {"error:malformed JSON message"}, 0},
        {R"({"event":"media","media":{"payload":"AAAA",}})", {"error:malformed JSON message"}, 0},
        {"{\"event\":\"media\",\"x\":\"\xff\",\"media\":{\"payload\":\"AAAA\"}}", {"error:malformed JSON message"}, 0},
        {R"({"event":"media","media":{"payload":"AA	AA"}})", {"error:malformed JSON message"}, 0},
        {deep, {"error:malformed JSON message"}, 0},
        {R"(["media"])", {"error:malformed JSON message"}, 0},
        {R"({"event":"Media","media":{"payload":"AAAA"}})", {"error:unknown event \"Media\""}, 0},
    };
    for (const auto& c : cases) {
        INFO(c.message);
        auto codec = twilio::make_media_codec();
        Recorder r;
        codec->parse(kStart, false, r);
        r.log.clear();
        codec->parse(c.message, false, r);
        CHECK(r.log == c.log);
        CHECK(r.audio.size() == c.samples);
    }
}

TEST_CASE("twilio media: parse_media takes the media event after start and nothing else, doing nothing when it declines") {
    auto codec = twilio::make_media_codec();
    Recorder r;
    std::string ulaw(160, '\x55');
    json media{{"event", "media"}, {"streamSid", "MZ1"}, {"media", {{"track", "inbound"}, {"payload", base64_encode(ulaw)}}}};
    CHECK_FALSE(codec->parse_media(media.dump(), r));  // before start: the full parse reports it
    CHECK(r.log.empty());
    codec->parse(kStart, false, r);
    CHECK(codec->parse_media(media.dump(), r));
    CHECK(r.log == std::vector<std::string>{"start", "audio"});
    CHECK(r.audio.size() == 160);
    // Other events, media the scanner declines (a \u escape, nesting deeper than it reads, a bad payload's JSON)
    // are left to parse(), untouched.
    for (const char* declined : {R"({"event":"mark","streamSid":"MZ1","mark":{"name":"m1"}})",
                                 R"({"event":"\u006dedia","media":{"payload":""}})",
                                 R"({"event":"media","media":{"payload":"","x":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}})",
                                 R"({"event":"media",)"}) {
        CHECK_FALSE(codec->parse_media(declined, r));
    }
    CHECK(r.log == std::vector<std::string>{"start", "audio"});
}
