#include "providers/openai/speech_client.hpp"

#include "providers/common/http_client.hpp"
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

    Result<TtsAudio> synthesize(const std::string& sentence) override {
        HttpRequest request;
        request.method = "POST";
        std::string base = m_settings.base_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        request.url = base + "/audio/speech";
        request.headers = {{"Authorization", "Bearer " + m_settings.api_key}, {"Content-Type", "application/json"}};
        request.body = speech_body(m_settings, sentence.substr(0, 4096)).dump();
        request.timeout_ms = m_settings.timeout_ms;
        std::string bytes;
        HttpStream stream;
        stream.on_body = [&bytes](const HttpResult&, std::string_view piece) {
            bytes.append(piece);
            return true;
        };
        auto r = http_stream(request, stream);
        if (!r) {
            Error e = r.error();
            e.message = "openai speech: " + e.message;
            e.provider = "openai";
            return e;
        }
        if (r->status != 200) return api_error("the OpenAI speech server", *r);
        TtsAudio audio;
        audio.format = AudioFormat{Encoding::pcm16, kSpeechPcmRate, 1};
        pcm16le_samples(bytes, audio.samples);
        return audio;
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
