#include "providers/local/pocketsphinx_stt.hpp"

#include <pocketsphinx.h>

#include <mutex>
#include <sstream>

#include "core/util/strings.hpp"

namespace va::local {

namespace {

std::vector<std::string> words_of(const std::string& phrase) {
    std::vector<std::string> words;
    std::string word;
    for (char c : to_lower(phrase)) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
            word += c;
        } else if (!word.empty()) {
            words.push_back(std::move(word));
            word.clear();
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

class PocketsphinxStt final : public UtteranceRecognizer {
public:
    std::string name() const override { return "pocketsphinx"; }
    PocketsphinxStt(ps_decoder_t* ps, cmd_ln_t* config) : m_ps(ps), m_config(config) {}
    ~PocketsphinxStt() override {
        ps_free(m_ps);
        cmd_ln_free_r(m_config);
    }
    int sample_rate() const override { return 16000; }

    // Live decoding gives the interim words; the final result decodes the whole utterance again in one pass, whose
    // cepstral mean normalization over the full utterance recognizes markedly better than the live estimate.
    void push(std::span<const std::int16_t> samples) override {
        m_audio.insert(m_audio.end(), samples.begin(), samples.end());
        if (!m_live) m_live = ps_start_utt(m_ps) >= 0;
        if (m_live) ps_process_raw(m_ps, samples.data(), samples.size(), FALSE, FALSE);
    }

    std::string partial() override {
        if (!m_live) return {};
        std::int32_t score = 0;
        const char* hyp = ps_get_hyp(m_ps, &score);
        return hyp ? hyp : "";
    }

    void reset() override {
        end_live();
        m_audio.clear();
    }

    Result<Transcript> finish() override {
        end_live();
        Transcript t;
        t.source = "pocketsphinx";
        if (m_audio.empty()) return t;
        if (ps_start_utt(m_ps) < 0) return make_error(ErrorCode::internal, "pocketsphinx could not start an utterance");
        ps_process_raw(m_ps, m_audio.data(), m_audio.size(), FALSE, TRUE);
        ps_end_utt(m_ps);
        m_audio.clear();
        std::int32_t score = 0;
        const char* hyp = ps_get_hyp(m_ps, &score);
        if (hyp) t.text = hyp;
        t.confidence = hyp ? logmath_exp(ps_get_logmath(m_ps), ps_get_prob(m_ps)) : 0.0;
        return t;
    }

private:
    void end_live() {
        if (m_live) ps_end_utt(m_ps);
        m_live = false;
    }

    ps_decoder_t* m_ps;
    cmd_ln_t* m_config;
    std::vector<std::int16_t> m_audio;
    bool m_live = false;
};

class PocketsphinxFactory final : public SttFactory {
public:
    Result<std::unique_ptr<SttClient>> create(const nlohmann::json& agent) const override {
        std::string grammar;
        std::vector<std::string> phrases;
        if (agent.contains("stt") && agent["stt"].is_object()) {
            grammar = agent["stt"].value("grammar", "");
            if (agent["stt"].contains("phrases"))
                for (const auto& p : agent["stt"]["phrases"])
                    if (p.is_string()) phrases.push_back(p.get<std::string>());
        }
        std::string model = VA_POCKETSPHINX_MODEL_DIR;
        // Model loading touches shared files and sphinxbase globals: one decoder is built at a time.
        static std::mutex mutex;
        std::lock_guard lock(mutex);
        cmd_ln_t* config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", (model + "/en-us").c_str(), "-dict",
                                       (model + "/cmudict-en-us.dict").c_str(), "-logfn", "/dev/null", nullptr);
        if (!config) return make_error(ErrorCode::unavailable, "pocketsphinx configuration failed (is pocketsphinx-en-us installed?)");
        if (grammar.empty() && phrases.empty())
            cmd_ln_set_str_r(config, "-lm", (model + "/en-us.lm.bin").c_str());
        ps_decoder_t* ps = ps_init(config);
        if (!ps) {
            cmd_ln_free_r(config);
            return make_error(ErrorCode::unavailable, "pocketsphinx could not load its en-us model from " + model);
        }
        if (grammar.empty() && !phrases.empty()) {
            // Words the dictionary lacks would make the grammar fail: keep only phrases it can spell.
            std::vector<std::string> known;
            for (const auto& p : phrases) {
                bool ok = true;
                for (const auto& w : words_of(p)) ok &= ps_lookup_word(ps, w.c_str()) != nullptr;
                if (ok) known.push_back(p);
            }
            grammar = phrases_to_jsgf(known);
        }
        if (!grammar.empty()) {
            if (ps_set_jsgf_string(ps, "agent", grammar.c_str()) < 0 || ps_set_search(ps, "agent") < 0) {
                ps_free(ps);
                cmd_ln_free_r(config);
                return invalid_field("/stt/grammar", "pocketsphinx could not use this grammar");
            }
        }
        return std::unique_ptr<SttClient>(std::make_unique<PocketsphinxStt>(ps, config));
    }
};

}  // namespace

std::string phrases_to_jsgf(const std::vector<std::string>& phrases) {
    std::ostringstream out;
    out << "#JSGF V1.0;\ngrammar agent;\npublic <utterance> = ";
    bool first = true;
    for (const auto& p : phrases) {
        auto words = words_of(p);
        if (words.empty()) continue;
        out << (first ? "" : " | ") << "(";
        for (std::size_t i = 0; i < words.size(); ++i) out << (i ? " " : "") << words[i];
        out << ")";
        first = false;
    }
    out << ";\n";
    return first ? std::string() : out.str();
}

std::shared_ptr<SttFactory> pocketsphinx_stt_factory() { return std::make_shared<PocketsphinxFactory>(); }

}  // namespace va::local
