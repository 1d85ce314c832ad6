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

TEST_CASE("sse: a line or an event's data past the limit stops the parser, which says so") {
    std::vector<SseEvent> events;
    SseParser endless_line([&](const SseEvent& e) { events.push_back(e); }, 64);
    endless_line.feed("data: " + std::string(100, 'x'));  // a server that never ends its line
    CHECK(endless_line.overflowed());
    endless_line.feed("\n\ndata: later\n\n");
    endless_line.finish();
    CHECK(events.empty());

    SseParser many_lines([&](const SseEvent& e) { events.push_back(e); }, 64);
    for (int i = 0; i < 10; ++i) many_lines.feed("data: " + std::string(20, 'y') + "\n");  // one event, never dispatched
    CHECK(many_lines.overflowed());
    many_lines.feed("\n");
    CHECK(events.empty());

    SseParser fits([&](const SseEvent& e) { events.push_back(e); }, 64);
    fits.feed("data: " + std::string(50, 'z') + "\n\n");
    CHECK_FALSE(fits.overflowed());
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == std::string(50, 'z'));
}
