// Fuzzes the Server-Sent Events parser of streamed OpenAI responses (providers/openai/sse): the body is fed whole
// and in pieces split where the first input byte says; both give the same events (the network may split a stream
// anywhere). Each event's data is parsed as the chat client parses it (JSON, no exceptions).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/openai/sse.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "core/util/json.hpp"

namespace {
using va::openai::SseEvent;

std::vector<SseEvent> parse(std::string_view body, std::size_t piece) {
    std::vector<SseEvent> events;
    va::openai::SseParser parser([&](const SseEvent& e) { events.push_back(e); });
    for (std::size_t at = 0; at < body.size(); at += piece) parser.feed(body.substr(at, piece));
    parser.finish();
    return events;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::size_t piece = std::size_t(data[0] % 16) + 1;
    std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto whole = parse(body, body.size() + 1);
    auto pieces = parse(body, piece);
    FUZZ_CHECK(whole.size() == pieces.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
        FUZZ_CHECK(whole[i].event == pieces[i].event && whole[i].data == pieces[i].data && whole[i].id == pieces[i].id);
        auto chunk = va::parse_json(whole[i].data);
        if (!chunk.is_discarded()) (void)chunk.dump();
    }
    return 0;
}
