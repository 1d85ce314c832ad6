#include "core/util/pattern.hpp"

#include <re2/re2.h>

#include <algorithm>

namespace va {

Result<Pattern> Pattern::compile(std::string_view pattern, Options options) {
    if (pattern.size() > options.max_length)
        return make_error(ErrorCode::invalid_request,
                          "longer than " + std::to_string(options.max_length) + " characters");
    RE2::Options o;
    o.set_case_sensitive(!options.case_insensitive);
    o.set_max_mem(options.max_mem);
    o.set_log_errors(false);  // the reason goes back to the caller, not to stderr
    auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), o);
    if (!re->ok()) return make_error(ErrorCode::invalid_request, "unsupported or invalid regular expression: " + re->error());
    return Pattern(std::move(re));
}

bool Pattern::search(std::string_view text) const {
    return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *m_re);
}

std::optional<std::string> Pattern::find(std::string_view text) const {
    re2::StringPiece groups[2];
    int n = m_re->NumberOfCapturingGroups() >= 1 ? 2 : 1;
    re2::StringPiece input(text.data(), text.size());
    if (!m_re->Match(input, 0, input.size(), RE2::UNANCHORED, groups, n)) return std::nullopt;
    // An optional group that did not take part has a null data pointer.
    if (n == 2 && groups[1].data() != nullptr) return std::string(groups[1].data(), groups[1].size());
    return std::string(groups[0].data(), groups[0].size());
}

int Pattern::replace_all(std::string& text, std::string_view rewrite) const {
    return RE2::GlobalReplace(&text, *m_re, re2::StringPiece(rewrite.data(), rewrite.size()));
}

std::size_t Pattern::program_size() const { return std::size_t(std::max(0, m_re->ProgramSize())); }

}  // namespace va
