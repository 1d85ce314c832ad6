// Small string helpers shared across the code base. Pure functions, thread-safe.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace va {

// An environment variable's value, empty when unset.
inline std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// ASCII lower-casing (emails, header names, media types); other bytes pass through unchanged.
inline std::string to_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// `text` without the spaces and tabs around it.
inline std::string_view trim_blanks(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// `text` in double quotes, for naming a bad value in an error message.
inline std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// The words of `text`, split at spaces, tabs and newlines; no empty words.
inline std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!word.empty()) words.push_back(std::move(word));
            word.clear();
        } else {
            word += c;
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

// The items of a comma-separated list (config values such as server.cors_origins), spaces trimmed, none empty.
inline std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> items;
    while (true) {
        auto comma = text.find(',');
        auto item = trim_blanks(text.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) return items;
        text.remove_prefix(comma + 1);
    }
}

}  // namespace va
