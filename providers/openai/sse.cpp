#include "providers/openai/sse.hpp"

namespace va::openai {

void SseParser::feed(std::string_view bytes) {
    for (char c : bytes) {
        if (m_overflowed) return;
        if (m_after_cr) {
            m_after_cr = false;
            if (c == '\n') continue;
        }
        if (c == '\r' || c == '\n') {
            m_after_cr = c == '\r';
            line(m_line);
            m_line.clear();
        } else if (m_line.size() < m_max) {
            m_line += c;
        } else {
            m_overflowed = true;
        }
    }
}

void SseParser::finish() {
    if (!m_line.empty() && !m_overflowed) line(m_line);
    m_line.clear();
}

void SseParser::line(std::string_view text) {
    if (text.empty()) {
        if (m_has_data) {
            if (m_event.event.empty()) m_event.event = "message";
            m_handler(m_event);
        }
        m_event = SseEvent{"", "", m_event.id};  // the last event id persists, as in EventSource
        m_has_data = false;
        return;
    }
    if (text.front() == ':') return;  // a comment (keep-alive)
    auto colon = text.find(':');
    std::string_view field = text.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
        if (m_event.data.size() + value.size() + 1 > m_max) {
            m_overflowed = true;
            return;
        }
        if (m_has_data) m_event.data += '\n';
        m_event.data += value;
        m_has_data = true;
    } else if (field == "event") {
        m_event.event = value;
    } else if (field == "id") {
        m_event.id = value;
    }
}

}  // namespace va::openai
