// Regular expressions from users (agent intents and extraction fields, schema "pattern"s) and on untrusted text
// (log redaction): RE2, which matches in time linear in the text whatever the pattern, so `^(a+)+$` cannot
// freeze a thread the way a backtracking engine (std::regex) does. Patterns are bounded in length and in the
// memory RE2 may use for them; constructs RE2 cannot run in linear time (backreferences, lookaround) are refused
// at compile time with a reason.
// Thread-safety: a compiled Pattern is immutable and safe to use from any thread; copies share the program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/result.hpp"

namespace re2 {
class RE2;
}

namespace va {

// The longest user pattern accepted, in bytes.
inline constexpr std::size_t kMaxPatternLength = 512;
// The memory one user pattern's compiled program and match caches may use (RE2 max_mem); beyond it compilation
// fails ("pattern too large") rather than the process growing.
inline constexpr std::int64_t kPatternMaxMem = 256 * 1024;

class Pattern {
public:
    struct Options {
        bool case_insensitive = false;
        std::size_t max_length = kMaxPatternLength;
        std::int64_t max_mem = kPatternMaxMem;
    };
    // The compiled pattern, or invalid_request naming why ("unsupported or invalid regular expression: ...",
    // "longer than 512 characters").
    static Result<Pattern> compile(std::string_view pattern, Options options);
    static Result<Pattern> compile(std::string_view pattern) { return compile(pattern, Options{}); }

    // True when the pattern matches somewhere in `text` (std::regex_search).
    bool search(std::string_view text) const;
    // The first match: its first capture group when the pattern has one and it took part, else the whole match.
    std::optional<std::string> find(std::string_view text) const;
    // Replaces every match in `text` by `rewrite`, where \1..\9 stand for the groups. The number of replacements.
    int replace_all(std::string& text, std::string_view rewrite) const;
    // RE2's measure of the compiled program (instructions), for caches that bound their total size.
    std::size_t program_size() const;

private:
    explicit Pattern(std::shared_ptr<const re2::RE2> re) : m_re(std::move(re)) {}
    std::shared_ptr<const re2::RE2> m_re;
};

}  // namespace va
