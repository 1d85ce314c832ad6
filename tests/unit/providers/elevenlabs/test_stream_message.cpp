// ElevenLabs stream-input messages read without trusting their shape. The stream used json::value("error", ""),
// which threw on the WebSocket thread when "error" was not a string. Found while writing the elevenlabs harness.
#include <catch2/catch.hpp>

#include "providers/elevenlabs/stream_message.hpp"

using va::elevenlabs::parse_stream_message;

TEST_CASE("elevenlabs: parse_stream_message reads audio, alignment and the final flag") {
    auto m = parse_stream_message(R"({"audio":"AAEC","isFinal":null,"alignment":{"chars":["H","i"," "]}})");
    REQUIRE(m);
    REQUIRE(m->audio);
    CHECK_FALSE(m->bad_audio);
    CHECK(*m->audio == std::string("\x00\x01\x02", 3));
    CHECK(m->covered_chars == 2);
    CHECK_FALSE(m->is_final);
    CHECK_FALSE(m->error_message);
    auto last = parse_stream_message(R"({"isFinal":true})");
    REQUIRE(last);
    CHECK(last->is_final);
}

TEST_CASE("elevenlabs: parse_stream_message takes a mistyped error code as absent") {
    auto m = parse_stream_message(R"({"message":"quota exceeded","error":{"code":1}})");
    REQUIRE(m);
    REQUIRE(m->error_message);
    CHECK(*m->error_message == "quota exceeded");
    CHECK(m->error_status.empty());
    auto known = parse_stream_message(R"({"message":"no","error":"quota_exceeded"})");
    REQUIRE(known);
    CHECK(known->error_status == "quota_exceeded");
    auto bad_audio = parse_stream_message(R"({"audio":"!!","alignment":{"chars":"Hi"}})");
    REQUIRE(bad_audio);
    CHECK_FALSE(bad_audio->audio);
    CHECK(bad_audio->bad_audio);  // a broken message, not one without audio
    CHECK(bad_audio->covered_chars == 0);
    CHECK_FALSE(parse_stream_message("\"text\""));
}
