#include "providers/local/scripted_stt.hpp"

namespace va::local {

namespace {

// Simulated recognition: each utterance yields the next line of the agent's stt.script (a simulate request's
// caller lines, which the daemon puts there). Interim results reveal the line a word
// per piece of audio pushed, so interim events and word barge-in can be exercised deterministically.
class ScriptedStt final : public UtteranceRecognizer {
public:
    std::string name() const override { return "scripted"; }
    explicit ScriptedStt(std::vector<std::string> lines) : m_lines(std::move(lines)) {}
    int sample_rate() const override { return 0; }  // never listens, so never needs resampled audio
    bool cheap() const override { return true; }
    void push(std::span<const std::int16_t>) override { ++m_pieces; }
    void reset() override { m_pieces = 0; }
    std::string partial() override {
        if (m_next >= m_lines.size() || m_pieces == 0) return {};
        const std::string& line = m_lines[m_next];
        std::size_t end = 0;
        for (std::size_t words = 0; words < m_pieces && end != std::string::npos;) {
            end = line.find(' ', end + (words ? 1 : 0));
            ++words;
        }
        return line.substr(0, end);
    }
    Result<Transcript> finish() override {
        Transcript t;
        t.source = "simulated";
        t.confidence = 1.0;
        if (m_next < m_lines.size()) t.text = m_lines[m_next++];
        m_pieces = 0;
        return t;
    }

private:
    std::vector<std::string> m_lines;
    std::size_t m_next = 0;
    std::size_t m_pieces = 0;
};

class ScriptedSttFactory final : public SttFactory {
public:
    Result<std::unique_ptr<SttClient>> create(const nlohmann::json& agent) const override {
        std::vector<std::string> script;
        if (agent.contains("stt") && agent["stt"].is_object() && agent["stt"].contains("script"))
            for (const auto& line : agent["stt"]["script"])
                if (line.is_string()) script.push_back(line.get<std::string>());
        return std::unique_ptr<SttClient>(std::make_unique<ScriptedStt>(std::move(script)));
    }
};

}  // namespace

std::shared_ptr<SttFactory> scripted_stt_factory() { return std::make_shared<ScriptedSttFactory>(); }

}  // namespace va::local
