// Deepgram /v1/listen messages read without trusting their shape. The live stream used json::value and const
// operator[] on them: a final Results without "start" failed nlohmann's assertion (abort), a mistyped "type" or
// "is_final" threw on the WebSocket thread. Found while writing the deepgram fuzz harness.
#include <catch2/catch.hpp>

#include "providers/deepgram/listen_message.hpp"

using va::deepgram::ListenMessage;
using va::deepgram::parse_listen_message;
using va::deepgram::settled_bytes;

TEST_CASE("deepgram: parse_listen_message reads a final result") {
    auto m = parse_listen_message(
        R"({"type":"Results","start":1.0,"duration":0.5,"is_final":true,"speech_final":true,)"
        R"("channel":{"alternatives":[{"transcript":"hello","confidence":0.9}]}})");
    REQUIRE(m);
    CHECK(m->type == ListenMessage::Type::results);
    CHECK(m->transcript == "hello");
    CHECK(m->confidence == 0.9);
    CHECK(m->is_final);
    CHECK(m->speech_final);
    CHECK_FALSE(m->from_finalize);
    REQUIRE(m->end_s);
    CHECK(*m->end_s == 1.5);
}

TEST_CASE("deepgram: parse_listen_message takes missing and mistyped fields as absent") {
    auto no_span = parse_listen_message(R"({"type":"Results","is_final":true,"channel":{"alternatives":[{}]}})");
    REQUIRE(no_span);
    CHECK(no_span->is_final);
    CHECK(no_span->transcript.empty());
    CHECK_FALSE(no_span->end_s);

    auto mistyped = parse_listen_message(
        R"({"type":"Results","is_final":"yes","start":"0","duration":1,"channel":{"alternatives":[7]}})");
    REQUIRE(mistyped);
    CHECK_FALSE(mistyped->is_final);
    CHECK_FALSE(mistyped->end_s);

    auto bad_type = parse_listen_message(R"({"type":5})");
    REQUIRE(bad_type);
    CHECK(bad_type->type == ListenMessage::Type::other);

    auto error = parse_listen_message(R"({"type":"Error","description":{"x":1},"message":"quota"})");
    REQUIRE(error);
    CHECK(error->description == "quota");

    CHECK_FALSE(parse_listen_message("[1,2]"));
    CHECK_FALSE(parse_listen_message("not json"));
}

TEST_CASE("deepgram: settled_bytes stays within its limit for any span") {
    CHECK(settled_bytes(1.5, 16, 1'000'000) == 24'000);
    CHECK(settled_bytes(-3, 16, 1'000'000) == 0);
    CHECK(settled_bytes(1e300, 16, 1'000'000) == 1'000'000);
    auto m = parse_listen_message(R"({"type":"Results","is_final":true,"start":1e308,"duration":1e308})");
    REQUIRE(m);
    CHECK_FALSE(m->end_s);  // the sum is not finite
}
