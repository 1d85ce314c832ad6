#include "providers/openai/speech_client.hpp"

#include "providers/common/http_speech.hpp"
#include "providers/openai/api_error.hpp"

namespace va::openai {

using nlohmann::json;

json speech_body(const SpeechSettings& s, const std::string& sentence) {
    json body{{"model", s.model}, {"input", sentence}, {"voice", s.voice}, {"response_format", "pcm"}};
    if (s.speed != 1.0) body["speed"] = s.speed;
    return body;
}

namespace {

class SpeechClient final : public TtsClient {
public:
    explicit SpeechClient(SpeechSettings settings) : m_settings(std::move(settings)) {}

    std::string name() const override { return "openai"; }

    bool streams() const override { return true; }

    Result<TtsAudio> synthesize(const std::string& sentence) override { return synthesize_streamed(*this, sentence); }

    // The body is raw PCM16 at 24 kHz, streamed as the model speaks it: each piece goes to the call as it comes.
    std::unique_ptr<TtsStream> speak(const std::string& sentence, TtsSink sink) override {
        HttpRequest request;
        request.method = "POST";
        std::string base = m_settings.base_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        request.url = base + "/audio/speech";
        request.headers = {{"Authorization", "Bearer " + m_settings.api_key}, {"Content-Type", "application/json"}};
        request.body = speech_body(m_settings, sentence.substr(0, 4096)).dump();
        request.timeout_ms = m_settings.timeout_ms;
        return stream_speech(std::move(request), AudioFormat{Encoding::pcm16, kSpeechPcmRate, 1}, std::move(sink),
                             [](const Result<HttpResult>& r) {
                                 if (r) return api_error("the OpenAI speech server", *r);
                                 Error e = r.error();
                                 e.message = "openai speech: " + e.message;
                                 e.provider = "openai";
                                 return e;
                             });
    }

private:
    SpeechSettings m_settings;
};

class SpeechFactory final : public TtsFactory {
public:
    explicit SpeechFactory(SpeechSettings defaults) : m_defaults(std::move(defaults)) {}
    Result<std::unique_ptr<TtsClient>> create(const json& agent) const override {
        if (m_defaults.api_key.empty())
            return make_error(ErrorCode::unprocessable, "openai speech needs an API key (openai.api_key in the configuration)");
        SpeechSettings s = m_defaults;
        const json tts = agent.contains("tts") && agent["tts"].is_object() ? agent["tts"] : json::object();
        s.voice = tts.value("voice", s.voice);
        s.model = tts.value("model", s.model);
        s.speed = tts.value("speed", s.speed);
        return std::unique_ptr<TtsClient>(std::make_unique<SpeechClient>(std::move(s)));
    }

private:
    SpeechSettings m_defaults;
};

}  // namespace

std::shared_ptr<TtsFactory> speech_factory(SpeechSettings defaults) {
    return std::make_shared<SpeechFactory>(std::move(defaults));
}

}  // namespace va::openai
