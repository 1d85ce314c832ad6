// Splits streamed LLM text into sentences as they complete, so speech synthesis can start on the first sentence
// while the model is still writing the rest. Thread-safety: one instance per reply, used from one strand.
#pragma once

#include <string>
#include <vector>

namespace va {

class SentenceSplitter {
public:
    // Adds streamed text; returns the sentences it completed (trimmed, non-empty).
    std::vector<std::string> push(const std::string& text);
    // The rest, at the end of the reply.
    std::string flush();

private:
    std::string m_pending;
};

}  // namespace va
