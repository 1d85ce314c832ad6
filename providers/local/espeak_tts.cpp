#include "providers/local/espeak_tts.hpp"

#include <espeak-ng/speak_lib.h>

#include <cstring>
#include <mutex>

namespace va::local {

namespace {

std::mutex g_espeak;  // espeak-ng is one global engine
int g_rate = 0;
std::vector<std::int16_t>* g_sink = nullptr;

int collect(short* samples, int count, espeak_EVENT*) {
    if (samples && count > 0 && g_sink) g_sink->insert(g_sink->end(), samples, samples + count);
    return 0;
}

Status ensure_initialized() {
    static bool ok = [] {
        g_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
        if (g_rate > 0) espeak_SetSynthCallback(collect);
        return g_rate > 0;
    }();
    if (!ok) return make_error(ErrorCode::unavailable, "espeak-ng could not be initialized (is espeak-ng-data installed?)");
    return Ok{};
}

class EspeakTts final : public TtsClient {
public:
    std::string name() const override { return "espeak-ng"; }
    EspeakTts(std::string voice, int rate) : m_voice(std::move(voice)), m_rate(rate) {}

    Result<TtsAudio> synthesize(const std::string& sentence) override {
        std::lock_guard lock(g_espeak);
        if (auto s = ensure_initialized(); !s) return s.take_error();
        if (espeak_SetVoiceByName(m_voice.c_str()) != EE_OK)
            return make_error(ErrorCode::invalid_request, "espeak-ng has no voice \"" + m_voice + "\"");
        espeak_SetParameter(espeakRATE, m_rate, 0);
        TtsAudio audio;
        audio.format = AudioFormat{Encoding::pcm16, g_rate, 1};
        g_sink = &audio.samples;
        auto rc = espeak_Synth(sentence.c_str(), sentence.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, nullptr);
        espeak_Synchronize();
        g_sink = nullptr;
        if (rc != EE_OK) return make_error(ErrorCode::internal, "espeak-ng synthesis failed");
        return audio;
    }

private:
    std::string m_voice;
    int m_rate;
};

class EspeakFactory final : public TtsFactory {
public:
    Result<std::unique_ptr<TtsClient>> create(const nlohmann::json& agent) const override {
        std::string voice = "en-us";
        int rate = 170;
        if (agent.contains("tts") && agent["tts"].is_object()) {
            voice = agent["tts"].value("voice", voice);
            rate = agent["tts"].value("rate", rate);
        }
        return std::unique_ptr<TtsClient>(std::make_unique<EspeakTts>(voice, rate));
    }
};

}  // namespace

std::shared_ptr<TtsFactory> espeak_tts_factory() { return std::make_shared<EspeakFactory>(); }

}  // namespace va::local
