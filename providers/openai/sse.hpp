// A Server-Sent Events parser for streamed HTTP bodies (OpenAI's chat completions): bytes go in as the network
// delivers them, split anywhere, even inside a CR LF pair; complete events come out. Lines may end in LF, CR LF or
// CR; lines starting with ':' are comments; "data" lines accumulate (joined by LF) until a blank line dispatches
// the event. Per the WHATWG EventSource rules, one space after the colon is dropped and unknown fields ignored.
// A line or an event's data beyond max_event_bytes (the server's bytes, so bounded) stops the parser: overflowed()
// tells, and nothing more is dispatched.
// Thread-safety: one parser per stream, used from one thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace va::openai {

struct SseEvent {
    std::string event;  // "message" when the stream names none
    std::string data;
    std::string id;
};

class SseParser {
public:
    using Handler = std::function<void(const SseEvent&)>;
    static constexpr std::size_t kMaxEventBytes = 1024 * 1024;
    explicit SseParser(Handler handler, std::size_t max_event_bytes = kMaxEventBytes)
        : m_handler(std::move(handler)), m_max(max_event_bytes) {}
    void feed(std::string_view bytes);
    bool overflowed() const { return m_overflowed; }
    // End of stream: an unterminated last line counts; an event without its blank line is not dispatched.
    void finish();

private:
    void line(std::string_view text);

    Handler m_handler;
    std::size_t m_max;
    bool m_overflowed = false;
    std::string m_line;
    bool m_after_cr = false;  // the last byte was CR: an LF right after it belongs to the same line end
    SseEvent m_event;
    bool m_has_data = false;
};

}  // namespace va::openai
