#include "core/pipeline/sentences.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace va {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_terminator(char c) { return c == '.' || c == '!' || c == '?'; }
// ASCII closers only: a UTF-8 curly quote after a terminator keeps the sentence open until the next space.
bool is_closer(char c) { return c == '"' || c == '\'' || c == ')' || c == ']'; }

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// Words a period follows mid-sentence in spoken answers. Lower case, without their final period.
constexpr std::array<std::string_view, 14> kAbbreviations = {"mr", "mrs", "ms", "dr", "prof", "sr", "jr",
                                                             "st", "vs", "e.g", "i.e", "mt", "ft", "approx"};

// The word that ends just before `end` (letters, digits and inner periods, as in "e.g").
std::string_view word_before(std::string_view text, std::size_t end) {
    std::size_t b = end;
    while (b > 0 && (std::isalnum(static_cast<unsigned char>(text[b - 1])) || text[b - 1] == '.')) --b;
    return text.substr(b, end - b);
}

// Whether a lone period at `dot` (followed by `at_chunk_end`) leaves the sentence open.
bool period_continues(std::string_view text, std::size_t dot, bool at_chunk_end) {
    if (dot == 0) return false;
    unsigned char before = static_cast<unsigned char>(text[dot - 1]);
    if (at_chunk_end && std::isdigit(before)) return true;
    std::string_view word = word_before(text, dot);
    if (word.size() == 1 && std::isupper(before)) return true;
    if (word.empty() || word.size() > 6) return false;
    std::string lower(word);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return std::find(kAbbreviations.begin(), kAbbreviations.end(), lower) != kAbbreviations.end();
}

bool has_alnum(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c >= 0x80; });
}

}  // namespace

std::vector<std::string> SentenceSplitter::push(std::string_view text) {
    m_pending += text;
    std::vector<std::string> out;
    const std::string_view pending = m_pending;
    std::size_t start = 0;
    std::size_t i = m_resume;
    m_resume = pending.size();
    while (i < pending.size()) {
        if (!is_terminator(pending[i])) {
            ++i;
            continue;
        }
        std::size_t run = i;
        while (run < pending.size() && is_terminator(pending[run])) ++run;
        std::size_t end = run;
        while (end < pending.size() && is_closer(pending[end])) ++end;
        const bool at_chunk_end = end == pending.size();
        const bool ends = (at_chunk_end || is_space(pending[end])) &&
                          !(run - i == 1 && pending[i] == '.' && period_continues(pending, i, at_chunk_end));
        if (!ends && at_chunk_end) m_resume = i;  // the next chunk decides ("3." then "5")
        if (ends) {
            std::string sentence = trim(pending.substr(start, end - start));
            // A stray "!" streamed after "What?" closed would be a sentence of nothing to say.
            if (has_alnum(sentence)) out.push_back(std::move(sentence));
            start = end;
        }
        i = end;
    }
    while (pending.size() - start > kMaxSentenceBytes) {
        std::size_t cut = pending.rfind(' ', start + kMaxSentenceBytes);
        if (cut == std::string_view::npos || cut <= start) {
            cut = start + kMaxSentenceBytes;
            while (cut > start && (static_cast<unsigned char>(pending[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8
        }
        if (std::string sentence = trim(pending.substr(start, cut - start)); has_alnum(sentence))
            out.push_back(std::move(sentence));
        start = cut;
    }
    m_pending.erase(0, start);
    m_resume = m_resume > start ? m_resume - start : 0;
    return out;
}

std::string SentenceSplitter::flush() {
    std::string rest = trim(m_pending);
    m_pending.clear();
    m_resume = 0;
    return has_alnum(rest) ? rest : std::string();
}

}  // namespace va
