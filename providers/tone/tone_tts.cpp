#include "providers/tone/tone_tts.hpp"

#include <cmath>

namespace va::tone {

namespace {

class ToneTts final : public TtsClient {
public:
    std::string name() const override { return "tone"; }
    bool cheap() const override { return true; }
    Result<TtsAudio> synthesize(const std::string& sentence) override {
        std::size_t words = 1;
        for (char c : sentence) words += c == ' ';
        TtsAudio audio;
        audio.format = AudioFormat{Encoding::pcm16, 16000, 1};
        audio.samples.resize(words * 960);
        for (std::size_t i = 0; i < audio.samples.size(); ++i)
            audio.samples[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440.0 * double(i) / 16000.0));
        return audio;
    }
};

class ToneFactory final : public TtsFactory {
public:
    Result<std::unique_ptr<TtsClient>> create(const nlohmann::json&) const override {
        return std::unique_ptr<TtsClient>(std::make_unique<ToneTts>());
    }
};

}  // namespace

std::shared_ptr<TtsFactory> tone_tts_factory() { return std::make_shared<ToneFactory>(); }

}  // namespace va::tone
