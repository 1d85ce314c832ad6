// Splits streamed LLM text into sentences as they complete, so speech synthesis can start on the first sentence
// while the model is still writing the rest. Thread-safety: one instance per reply, used from one strand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace va {

// A sentence ends at a run of . ! ? (and any closing quotes or brackets after it) that is followed by whitespace
// or that closes a pushed chunk: a chunk is one streamed token, and waiting for the next token to show the space
// after "nine." would hold every first sentence back by a token's time (20 ms at 50 tokens/s). Kept whole: a
// period after a digit that closes a chunk (the next token may be the "5" of "3.5"), a period after a known
// abbreviation ("Dr.", "e.g.") or a capital initial ("J."), and a terminator inside a token ("that.com").
class SentenceSplitter {
public:
    // Adds one streamed chunk; returns the sentences it completed (trimmed, with at least one letter or digit).
    std::vector<std::string> push(std::string_view text);
    // The rest, at the end of the reply.
    std::string flush();

    // A reply that never ends a sentence (a hostile or broken LLM server) is cut at a space once this long, so
    // neither the pending text nor the work per chunk grows without bound.
    static constexpr std::size_t kMaxSentenceBytes = 4096;

private:
    std::string m_pending;
    std::size_t m_resume = 0;  // where the next push scans from: what lies before it is decided
};

}  // namespace va
