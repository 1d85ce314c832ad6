#include "core/pipeline/sentences.hpp"

#include <cctype>

namespace va {

namespace {
std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}
}  // namespace

std::vector<std::string> SentenceSplitter::push(const std::string& text) {
    m_pending += text;
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i + 1 < m_pending.size(); ++i) {
        char c = m_pending[i];
        // A sentence ends at . ! ? (or a run of them) followed by whitespace; "3.5" and "e.g." mid-word do not.
        if ((c == '.' || c == '!' || c == '?') && std::isspace(static_cast<unsigned char>(m_pending[i + 1]))) {
            std::string sentence = trim(m_pending.substr(start, i + 1 - start));
            if (!sentence.empty()) out.push_back(std::move(sentence));
            start = i + 1;
        }
    }
    m_pending.erase(0, start);
    return out;
}

std::string SentenceSplitter::flush() {
    std::string rest = trim(m_pending);
    m_pending.clear();
    return rest;
}

}  // namespace va
