#include "providers/elevenlabs/tts.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/audio/g711.hpp"
#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "providers/common/http_speech.hpp"
#include "providers/common/ws_client.hpp"
#include "providers/elevenlabs/stream_message.hpp"

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

namespace {

ErrorCode code_for_status_string(const std::string& status, ErrorCode otherwise) {
    if (status == "quota_exceeded") return ErrorCode::quota;
    if (status == "invalid_api_key" || status == "unauthorized" || status == "needs_authorization") return ErrorCode::unauthenticated;
    if (status == "too_many_concurrent_requests" || status == "system_busy") return ErrorCode::rate_limited;
    return otherwise;
}

Error with_provider(Error e) {
    e.provider = "elevenlabs";
    if (e.message.rfind("elevenlabs", 0) != 0) e.message = "elevenlabs: " + e.message;
    return e;
}

json voice_settings(const Settings& s) {
    json v{{"stability", 0.5}, {"similarity_boost", 0.75}};
    if (s.speed != 1.0) v["speed"] = s.speed;
    return v;
}

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
                             [](const Result<HttpResult>& r) { return r ? api_error(*r) : with_provider(r.error()); });
    }

private:
    Settings m_settings;
    std::string m_format_name = "pcm_16000";
};

// --- stream-input WebSocket -----------------------------------------------------------------------------------

// The call's connection, shared with its callbacks (which may outlive the client by a moment).
class Stream : public std::enable_shared_from_this<Stream> {
public:
    Stream(Settings settings, std::string format_name)
        : m_settings(std::move(settings)), m_format_name(std::move(format_name)), m_format(*parse_output_format(m_format_name)) {}

    void open() {
        std::lock_guard lock(m_mutex);
        connect_locked();
    }

    void end() {
        std::lock_guard lock(m_mutex);
        m_ended = true;
        if (m_ws && m_open) {
            m_ws->send_text(R"({"text":""})");  // end of input: the service finishes and closes
            m_ws->close(1000, "");
        } else if (m_ws) {
            m_ws->abort();
        }
    }

    Result<TtsAudio> synthesize(const std::string& sentence) {
        std::unique_lock lock(m_mutex);
        if (m_failure && !m_failure->transient()) return *m_failure;
        for (int attempt = 0;; ++attempt) {
            if (m_closed) {
                // The service closed the last connection (inactivity, an error): a new one for this sentence.
                m_failure.reset();
                connect_locked();
            }
            auto said = say_locked(lock, sentence);
            if (!said) return said.take_error();
            if (!m_audio.empty() || !m_closed) break;
            // Closed before any audio. With an error message, that is the answer; a bare close (the inactivity
            // timeout reached just as the sentence went out) gets one more try on a fresh connection.
            if (m_failure || attempt > 0)
                return m_failure ? *m_failure
                                 : with_provider(make_error(ErrorCode::unavailable, "the stream closed before any audio: " + m_close_text));
        }
        TtsAudio audio;
        audio.format = m_format;
        audio.format.encoding = Encoding::pcm16;
        decode_speech(m_format, m_audio, audio.samples);
        return audio;
    }

private:
    // Sends the sentence and waits for its audio: until the alignment has covered it, the audio pauses after it,
    // the stream ends or closes, or the timeout.
    Status say_locked(std::unique_lock<std::mutex>& lock, const std::string& sentence) {
        m_expected = visible_chars(sentence);
        m_covered = 0;
        m_audio.clear();
        m_final = false;
        m_last_audio_ms = 0;
        m_ws->send_text(json{{"text", sentence + " "}, {"try_trigger_generation", false}, {"flush", true}}.dump());
        m_last_send_ms = now_ms();
        auto started = now_ms();
        auto done = [&] {
            if (m_closed || m_final) return true;
            if (m_expected > 0 && m_covered >= m_expected && !m_audio.empty()) return true;
            // Alignment that never quite adds up (normalised text): a pause after audio ends the sentence.
            return !m_audio.empty() && now_ms() - m_last_audio_ms >= 800;
        };
        while (!done()) {
            if (now_ms() - started >= m_settings.timeout_ms) {
                // The stream is in an unknown state: start afresh next time.
                if (m_ws) m_ws->abort();
                m_closed = true;
                return with_provider(make_error(ErrorCode::timeout, "no audio within " + std::to_string(m_settings.timeout_ms) + " ms"));
            }
            m_cv.wait_for(lock, std::chrono::milliseconds(50));
        }
        return Ok{};
    }

    void connect_locked() {
        std::string base = m_settings.ws_url;
        if (base.empty()) {
            base = m_settings.base_url;
            if (base.rfind("https://", 0) == 0) base = "wss://" + base.substr(8);
            else if (base.rfind("http://", 0) == 0) base = "ws://" + base.substr(7);
        }
        while (!base.empty() && base.back() == '/') base.pop_back();
        WsClientOptions options;
        options.url = base + "/v1/text-to-speech/" + m_settings.voice + "/stream-input?model_id=" + m_settings.model +
                      "&output_format=" + m_format_name + "&inactivity_timeout=" + std::to_string(m_settings.inactivity_timeout_s);
        options.headers = {{"xi-api-key", m_settings.api_key}};
        options.tick_ms = 1000;
        auto cb = callbacks_for(weak_from_this(), ++m_generation);
        m_open = false;
        m_closed = false;
        m_ws = WsClient::connect(std::move(options), std::move(cb));
        // The first message: a single space, with the voice and the chunk schedule (queued until the upgrade).
        json first{{"text", " "}, {"voice_settings", voice_settings(m_settings)},
                   {"generation_config", {{"chunk_length_schedule", m_settings.chunk_schedule}}}};
        m_ws->send_text(first.dump());
        m_last_send_ms = now_ms();
    }

public:  // the connection's callbacks (callbacks_for)
    void ws_opened(int generation) {
        std::lock_guard lock(m_mutex);
        if (generation == m_generation) m_open = true;
    }

    void ws_tick(int generation) {
        std::lock_guard lock(m_mutex);
        if (generation != m_generation || !m_open || m_ended) return;
        // A single space keeps the stream inside the inactivity timeout ("" would end it): five seconds before it
        // runs out, or half-way through short ones.
        int t = m_settings.inactivity_timeout_s;
        int every_ms = t > 10 ? (t - 5) * 1000 : t * 500;
        if (now_ms() - m_last_send_ms >= every_ms) {
            m_ws->send_text(R"({"text":" "})");
            m_last_send_ms = now_ms();
        }
    }

    void ws_message(int generation, bool binary, const std::string& text) {
        if (binary) return;
        // The message is read field by field without trusting its shape (stream_message.cpp).
        auto m = parse_stream_message(text);
        std::lock_guard lock(m_mutex);
        if (generation != m_generation || !m) return;
        if (m->audio) {
            m_audio += *m->audio;
            m_last_audio_ms = now_ms();
        }
        m_covered += m->covered_chars;
        if (m->is_final) m_final = true;
        if (m->error_message)
            m_failure = with_provider(make_error(code_for_status_string(m->error_status, ErrorCode::unavailable), *m->error_message));
        m_cv.notify_all();
    }

    void ws_closed(int generation, int code, std::string reason, std::optional<Error> error) {
        std::lock_guard lock(m_mutex);
        if (generation != m_generation) return;
        m_open = false;
        m_closed = true;
        m_close_text = error ? error->message : "closed with " + std::to_string(code) + (reason.empty() ? "" : ": " + reason);
        if (error) m_failure = with_provider(*error);
        if (!m_ended && code != 1000) spdlog::info("elevenlabs: stream {}", m_close_text);
        m_cv.notify_all();
    }

private:
    Settings m_settings;
    std::string m_format_name;
    AudioFormat m_format;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::shared_ptr<WsClient> m_ws;
    int m_generation = 0;
    bool m_open = false, m_closed = false, m_ended = false, m_final = false;
    std::optional<Error> m_failure;
    std::string m_close_text;
    std::size_t m_expected = 0, m_covered = 0;
    std::string m_audio;
    std::int64_t m_last_audio_ms = 0, m_last_send_ms = 0;
};

class WsTts final : public TtsClient {
public:
    explicit WsTts(Settings settings) : m_settings(std::move(settings)) {}
    ~WsTts() override {
        if (m_stream) m_stream->end();
    }
    std::string name() const override { return "elevenlabs"; }

    // Warm start: the connection opens as soon as the call's media is up, before anything is said.
    void set_output(const AudioFormat& transport) override {
        if (m_stream) return;
        m_stream = std::make_shared<Stream>(m_settings, output_format(transport));
        m_stream->open();
    }

    Result<TtsAudio> synthesize(const std::string& sentence) override {
        if (!m_stream) set_output(kLocalFormat);
        return m_stream->synthesize(sentence);
    }

private:
    Settings m_settings;
    std::shared_ptr<Stream> m_stream;
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
        return std::unique_ptr<TtsClient>(std::make_unique<WsTts>(std::move(s)));
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
    return with_provider(make_error(code, "answered " + std::to_string(r.status) + ": " + message));
}

std::shared_ptr<TtsFactory> tts_factory(Settings defaults) { return std::make_shared<Factory>(std::move(defaults)); }

}  // namespace va::elevenlabs
