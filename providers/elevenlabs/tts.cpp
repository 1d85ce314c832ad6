#include "providers/elevenlabs/tts.hpp"

#include "core/util/json.hpp"
#include "providers/common/http_speech.hpp"
#include "providers/elevenlabs/input_stream.hpp"

namespace va::elevenlabs {

using nlohmann::json;

std::string output_format(const AudioFormat& transport) {
    if (transport.encoding == Encoding::mulaw && transport.sample_rate == 8000) return "ulaw_8000";
    if (transport.encoding == Encoding::alaw && transport.sample_rate == 8000) return "alaw_8000";
    for (int rate : {8000, 16000, 22050, 24000, 44100})
        if (transport.sample_rate <= rate) return "pcm_" + std::to_string(rate);
    return "pcm_44100";
}

std::optional<AudioFormat> parse_output_format(const std::string& name) {
    if (name == "ulaw_8000") return AudioFormat{Encoding::mulaw, 8000, 1};
    if (name == "alaw_8000") return AudioFormat{Encoding::alaw, 8000, 1};
    for (int rate : {8000, 16000, 22050, 24000, 44100, 48000})
        if (name == "pcm_" + std::to_string(rate)) return AudioFormat{Encoding::pcm16, rate, 1};
    return std::nullopt;
}

ErrorCode code_for_status_string(const std::string& status, ErrorCode otherwise) {
    if (status == "quota_exceeded") return ErrorCode::quota;
    if (status == "invalid_api_key" || status == "unauthorized" || status == "needs_authorization") return ErrorCode::unauthenticated;
    if (status == "too_many_concurrent_requests" || status == "system_busy") return ErrorCode::rate_limited;
    return otherwise;
}

Error tagged(Error e) {
    e.provider = "elevenlabs";
    if (e.message.rfind("elevenlabs", 0) != 0) e.message = "elevenlabs: " + e.message;
    return e;
}

json voice_settings(const Settings& s) {
    json v{{"stability", 0.5}, {"similarity_boost", 0.75}};
    if (s.speed != 1.0) v["speed"] = s.speed;
    return v;
}

namespace {

// --- HTTP stream ----------------------------------------------------------------------------------------------

// Each sentence is one request on the shared HTTP engine; its audio goes to the sink piece by piece as the
// service sends it, decoded to PCM16 at the service's rate.
class HttpTts final : public TtsClient {
public:
    explicit HttpTts(Settings settings) : m_settings(std::move(settings)) {}
    std::string name() const override { return "elevenlabs"; }
    void set_output(const AudioFormat& transport) override { m_format_name = output_format(transport); }
    bool streams() const override { return true; }

    Result<TtsAudio> synthesize(const std::string& sentence) override { return synthesize_streamed(*this, sentence); }

    std::unique_ptr<TtsStream> speak(const std::string& sentence, TtsSink sink) override {
        HttpRequest request;
        request.method = "POST";
        std::string base = m_settings.base_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        request.url = base + "/v1/text-to-speech/" + m_settings.voice + "/stream?output_format=" + m_format_name;
        request.headers = {{"xi-api-key", m_settings.api_key}, {"Content-Type", "application/json"}};
        request.body = json{{"text", sentence}, {"model_id", m_settings.model}, {"voice_settings", voice_settings(m_settings)}}.dump();
        request.timeout_ms = m_settings.timeout_ms;
        return stream_speech(std::move(request), *parse_output_format(m_format_name), std::move(sink),
                             [](const Result<HttpResult>& r) { return r ? api_error(*r) : tagged(r.error()); });
    }

private:
    Settings m_settings;
    std::string m_format_name = "pcm_16000";
};

class Factory final : public TtsFactory {
public:
    explicit Factory(Settings defaults) : m_defaults(std::move(defaults)) {}
    Result<std::unique_ptr<TtsClient>> create(const json& agent) const override {
        if (m_defaults.api_key.empty())
            return make_error(ErrorCode::unprocessable, "elevenlabs needs an API key (elevenlabs.api_key in the configuration)");
        Settings s = m_defaults;
        const json tts = agent.contains("tts") && agent["tts"].is_object() ? agent["tts"] : json::object();
        s.voice = tts.value("voice", s.voice);
        s.model = tts.value("model", s.model);
        s.speed = tts.value("speed", s.speed);
        if (s.transport == "http") return std::unique_ptr<TtsClient>(std::make_unique<HttpTts>(std::move(s)));
        return websocket_tts(std::move(s));
    }

private:
    Settings m_defaults;
};

}  // namespace

Error api_error(const HttpResult& r) {
    json body = parse_json(r.body);
    std::string message = r.body.substr(0, 300), status;
    if (body.is_object() && body.contains("detail")) {
        const json& d = body["detail"];
        if (d.is_object()) {
            status = json_string_or(d, "status");
            message = json_string_or(d, "message", message);
        } else if (d.is_array() && !d.empty() && d[0].is_object()) {
            message = json_string_or(d[0], "msg", message);
            if (d[0].contains("loc") && d[0]["loc"].is_array()) message = d[0]["loc"].dump() + ": " + message;
        } else if (d.is_string()) {
            message = d.get<std::string>();
        }
    }
    ErrorCode code = code_for_status_string(status, error_code_for_status(r.status));
    return tagged(make_error(code, "answered " + std::to_string(r.status) + ": " + message));
}

std::shared_ptr<TtsFactory> tts_factory(Settings defaults) { return std::make_shared<Factory>(std::move(defaults)); }

}  // namespace va::elevenlabs
