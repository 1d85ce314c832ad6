#include <catch2/catch.hpp>

#include "providers/openai/sse.hpp"

using va::openai::SseEvent;
using va::openai::SseParser;

namespace {

std::vector<SseEvent> parse_in_pieces(const std::string& stream, std::size_t piece) {
    std::vector<SseEvent> events;
    SseParser parser([&](const SseEvent& e) { events.push_back(e); });
    for (std::size_t i = 0; i < stream.size(); i += piece) parser.feed(std::string_view(stream).substr(i, piece));
    parser.finish();
    return events;
}

}  // namespace

TEST_CASE("sse: the same events whatever the line endings and wherever the bytes are split") {
    for (std::string eol : {"\n", "\r\n", "\r"}) {
        std::string stream = ": keep-alive" + eol + "data: {\"a\":1}" + eol + eol + "event: ping" + eol + "data:x" + eol +
                             "data: y" + eol + "id: 7" + eol + eol + "data: [DONE]" + eol + eol;
        for (std::size_t piece : {std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(7), stream.size()}) {
            auto events = parse_in_pieces(stream, piece);
            INFO("eol " << int(eol.back()) << " size " << eol.size() << ", pieces of " << piece);
            REQUIRE(events.size() == 3);
            CHECK(events[0].event == "message");
            CHECK(events[0].data == "{\"a\":1}");
            CHECK(events[1].event == "ping");
            CHECK(events[1].data == "x\ny");  // data lines join with LF; one space after the colon is dropped
            CHECK(events[1].id == "7");
            CHECK(events[2].data == "[DONE]");
        }
    }
}

TEST_CASE("sse: comments, unknown fields and an unterminated last event") {
    auto events = parse_in_pieces(":comment\nretry: 100\nfoo: bar\ndata:  two spaces\n\ndata: cut off", 5);
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == " two spaces");  // only one space is dropped
}
