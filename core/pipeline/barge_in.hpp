// When the caller's speech interrupts the agent, from the agent definition's `interruption` settings: speech that
// began after the reply did and lasted min_speech_ms, or recognized words that are not a backchannel ("okay",
// "uh-huh": the caller is listening, not taking the turn).
// Thread-safety: immutable after construction.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/strings.hpp"

namespace va {

class BargeInPolicy {
public:
    explicit BargeInPolicy(const nlohmann::json& agent) {
        const nlohmann::json interruption = agent.value("interruption", nlohmann::json::object());
        m_enabled = interruption.value("enabled", true);
        m_min_speech_ms = interruption.value("min_speech_ms", 300);
        auto list = interruption.value("backchannels", nlohmann::json::array({"okay", "ok", "uh-huh", "mm-hmm", "yeah", "right"}));
        for (const auto& b : list)
            if (b.is_string()) m_backchannels.push_back(to_lower(b.get<std::string>()));
    }

    bool is_backchannel(const std::string& text) const {
        std::string said = to_lower(text);
        while (!said.empty() && (said.back() == '.' || said.back() == '!' || said.back() == ' ')) said.pop_back();
        return std::find(m_backchannels.begin(), m_backchannels.end(), said) != m_backchannels.end();
    }
    // Speech heard for `speech_ms` in an utterance begun at `started_at`, while a reply begun at `reply_from` plays.
    // Only speech that began after the reply did counts: a streaming recognizer may end the turn (and the reply
    // start) while the VAD still hears the tail of the same utterance.
    bool speech_interrupts(int speech_ms, std::int64_t started_at, std::int64_t reply_from) const {
        return m_enabled && speech_ms >= m_min_speech_ms && started_at >= reply_from;
    }
    // Interim words interrupt as soon as they are heard, however short the speech, unless a backchannel.
    bool words_interrupt(const std::string& text) const { return m_enabled && !is_backchannel(text); }

private:
    bool m_enabled = true;
    int m_min_speech_ms = 300;
    std::vector<std::string> m_backchannels;
};

}  // namespace va
