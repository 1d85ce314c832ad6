#include "providers/deepgram/live_stt.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <mutex>
#include <string_view>

#include "core/audio/g711.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "providers/common/ws_client.hpp"
#include "providers/deepgram/listen_message.hpp"

namespace va::deepgram {

using nlohmann::json;

std::string listen_url(const Settings& s, const AudioFormat& transport) {
    std::string base = s.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string url = base + "/v1/listen?model=" + s.model;
    url += std::string("&encoding=") + (transport.encoding == Encoding::mulaw ? "mulaw" : "linear16");
    url += "&sample_rate=" + std::to_string(transport.sample_rate) + "&channels=1";
    url += "&interim_results=true&endpointing=" + std::to_string(s.endpointing_ms);
    url += "&utterance_end_ms=" + std::to_string(s.utterance_end_ms) + "&vad_events=true";
    if (s.smart_format) url += "&smart_format=true&punctuate=true";
    if (!s.language.empty()) url += "&language=" + s.language;
    return url;
}

namespace {

bool permanent(ErrorCode code) {
    return code == ErrorCode::unauthenticated || code == ErrorCode::forbidden || code == ErrorCode::quota ||
           code == ErrorCode::invalid_request || code == ErrorCode::not_found;
}

// One call's stream. Shared with the connection's callbacks, so it outlives the client object until the
// connection has closed.
class Stream : public std::enable_shared_from_this<Stream> {
public:
    Stream(Settings settings, AudioFormat format, std::function<void(SttEvent)> on_event)
        : m_settings(std::move(settings)), m_format(format), m_on_event(std::move(on_event)) {
        m_format.encoding = m_format.encoding == Encoding::mulaw ? Encoding::mulaw : Encoding::pcm16;
        m_last_audio_ms = now_ms();
    }

    void open() {
        std::lock_guard lock(m_mutex);
        // Every connection of the stream, reconnects (started from a callback) included, on the loop of the thread
        // that opens it: the call's own I/O thread in the daemon, so its audio needs no hand-off to another thread.
        m_loop = WsLoop::current();
        connect_locked();
    }

    void push(const CallerAudio& audio) {
        auto samples = audio.pcm;
        if (samples.empty()) return;  // a zero-length frame would end Deepgram's session
        std::string bytes;
        if (m_format.encoding == Encoding::mulaw && audio.wire.size() == samples.size()) {
            bytes.assign(audio.wire);  // the carrier's mu-law as it came: no decode and encode again
        } else if (m_format.encoding == Encoding::mulaw) {
            bytes.resize(samples.size());
            g711::encode_ulaw(samples, std::span(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()));
        } else {
            bytes = pcm16le_bytes(samples);
        }
        std::lock_guard lock(m_mutex);
        if (m_closed || m_failed) return;
        m_last_audio_ms = now_ms();
        if (m_open) {
            send_audio_locked(std::move(bytes));
        } else {
            append_bounded(m_pending, bytes);
        }
    }

    void finalize() {
        std::lock_guard lock(m_mutex);
        if (m_open && !m_closed) m_ws->send_text(R"({"type":"Finalize"})");
    }

    void close() {
        std::lock_guard lock(m_mutex);
        if (m_closed) return;
        m_closed = true;
        m_on_event = nullptr;
        if (!m_ws) return;
        if (m_open) m_ws->send_text(R"({"type":"CloseStream"})");
        m_ws->close(1000, "");
    }

private:
    std::size_t buffer_cap() const {
        return std::size_t(m_settings.reconnect_buffer_s * double(m_format.bytes_per_ms()) * 1000.0);
    }

    // Keeps the newest buffer_cap() bytes, whole samples only.
    void trim_front(std::string& bytes) const {
        std::size_t cap = buffer_cap();
        if (bytes.size() <= cap) return;
        std::size_t drop = bytes.size() - cap;
        drop += drop % m_format.bytes_per_sample();
        bytes.erase(0, std::min(drop, bytes.size()));
    }

    // Appends a frame to a buffer that keeps the newest buffer_cap() bytes. Trimming on every 20 ms frame moved the
    // whole buffer (80 KB at the default 10 s of mu-law) 50 times a second per call; it is trimmed once a second of
    // audio has piled up beyond the cap instead, and grows in steps of that second up to cap plus one second, not
    // by doubling past it. Whoever replays the buffer trims it exactly first.
    void append_bounded(std::string& buffer, std::string_view bytes) const {
        std::size_t cap = buffer_cap(), slack = m_format.bytes_for_ms(1000);
        if (buffer.size() + bytes.size() > cap + slack) {
            std::size_t keep = cap > bytes.size() ? cap - bytes.size() : 0;
            std::size_t drop = buffer.size() > keep ? buffer.size() - keep : 0;
            drop += drop % m_format.bytes_per_sample();
            buffer.erase(0, std::min(drop, buffer.size()));
        }
        if (buffer.size() + bytes.size() > buffer.capacity())
            buffer.reserve(std::min(cap + slack, buffer.size() + bytes.size() + slack));
        buffer += bytes;
    }

    void send_audio_locked(std::string bytes) {
        m_sent_bytes += bytes.size();
        append_bounded(m_unsettled, bytes);
        m_ws->send_binary(std::move(bytes));
    }

    void connect_locked() {
        WsClientOptions options;
        options.url = listen_url(m_settings, m_format);
        options.headers = {{"Authorization", "Token " + m_settings.api_key}};
        options.tick_ms = 1000;
        auto callbacks = callbacks_for(weak_from_this(), ++m_generation);
        m_open = false;
        m_ws = WsClient::connect(std::move(options), std::move(callbacks), m_loop);
    }

public:  // the connection's callbacks (callbacks_for)
    void ws_opened(int generation) {
        std::lock_guard lock(m_mutex);
        if (generation != m_generation || m_closed) return;
        m_open = true;
        m_sent_bytes = 0;
        // What the last connection had not settled goes first, then what arrived while reconnecting.
        trim_front(m_unsettled);
        trim_front(m_pending);
        std::string replay = std::move(m_unsettled);
        replay += m_pending;
        m_unsettled.clear();
        m_pending.clear();
        std::size_t piece = m_format.bytes_for_ms(100);
        for (std::size_t at = 0; at < replay.size(); at += piece) send_audio_locked(replay.substr(at, piece));
    }

    void ws_tick(int generation) {
        std::lock_guard lock(m_mutex);
        if (generation != m_generation || !m_open || m_closed) return;
        auto now = now_ms();
        if (now - m_last_audio_ms >= m_settings.keepalive_ms) {
            m_ws->send_text(R"({"type":"KeepAlive"})");
            m_last_audio_ms = now;
        }
    }

    void ws_message(int generation, bool binary, const std::string& text) {
        if (binary) return;
        // The message is read field by field without trusting its shape (listen_message.cpp).
        auto m = parse_listen_message(text);
        if (!m) return;
        using Type = ListenMessage::Type;
        std::vector<SttEvent> events;
        {
            std::lock_guard lock(m_mutex);
            if (generation != m_generation || m_closed) return;
            if (m->type == Type::results) {
                results_locked(*m, events);
            } else if (m->type == Type::speech_started) {
                events.push_back({SttEvent::Kind::speech_started, "", false, false, 0, {}});
            } else if (m->type == Type::utterance_end) {
                events.push_back({SttEvent::Kind::utterance_end, m_finals, false, false, 0, {}});
                m_finals.clear();
            } else if (m->type == Type::error) {
                m_last_error = m->description;
            }
        }
        emit(events);
    }

private:
    void results_locked(const ListenMessage& m, std::vector<SttEvent>& events) {
        const std::string& transcript = m.transcript;
        m_attempts = 0;  // the service is answering: a later drop starts a fresh count
        std::string so_far = m_finals;
        if (!transcript.empty()) so_far += (so_far.empty() ? "" : " ") + transcript;
        if (!m.is_final) {
            if (!transcript.empty()) events.push_back({SttEvent::Kind::interim, so_far, false, false, m.confidence, {}});
            return;
        }
        // Audio up to the end of this span is settled: it need not be sent again after a reconnect.
        if (m.end_s) {
            std::size_t first = m_sent_bytes - m_unsettled.size();
            std::size_t settled = settled_bytes(*m.end_s, m_format.bytes_per_ms(), m_sent_bytes);
            if (settled > first) {
                std::size_t drop = std::min(m_unsettled.size(), settled - first);
                drop -= drop % m_format.bytes_per_sample();
                m_unsettled.erase(0, drop);
            }
        }
        m_finals = so_far;
        SttEvent e{SttEvent::Kind::final, transcript, m.speech_final, m.from_finalize, m.confidence, {}};
        events.push_back(std::move(e));
        if (m.speech_final || m.from_finalize) m_finals.clear();
    }

public:
    void ws_closed(int generation, int code, std::string reason, std::optional<Error> error) {
        std::vector<SttEvent> events;
        {
            std::lock_guard lock(m_mutex);
            if (generation != m_generation || m_closed || m_failed) return;
            m_open = false;
            std::string what = error ? error->message : "closed with " + std::to_string(code) + (reason.empty() ? "" : " " + reason);
            if (!m_last_error.empty()) what += " (" + m_last_error + ")";
            bool give_up = (error && permanent(error->code)) || code == 1008 || ++m_attempts > m_settings.max_reconnects;
            if (give_up) {
                m_failed = true;
                ErrorCode ec = error ? error->code : ErrorCode::unavailable;
                events.push_back({SttEvent::Kind::failed, "", false, false, 0, make_error(ec, "deepgram: " + what)});
            } else {
                spdlog::warn("deepgram: {}; reconnecting ({} of {})", what, m_attempts, m_settings.max_reconnects);
                m_pending = m_unsettled + m_pending;
                m_unsettled.clear();
                trim_front(m_pending);
                connect_locked();
            }
        }
        emit(events);
    }

private:
    void emit(const std::vector<SttEvent>& events) {
        if (events.empty()) return;
        std::function<void(SttEvent)> on_event;
        {
            std::lock_guard lock(m_mutex);
            on_event = m_on_event;
        }
        if (on_event)
            for (const auto& e : events) on_event(e);
    }

    Settings m_settings;
    AudioFormat m_format;
    std::mutex m_mutex;
    std::function<void(SttEvent)> m_on_event;
    std::shared_ptr<WsClient> m_ws;
    WsLoop m_loop;  // from open()
    int m_generation = 0;
    bool m_open = false, m_closed = false, m_failed = false;
    int m_attempts = 0;
    std::string m_pending;    // audio waiting for a connection
    std::string m_unsettled;  // audio sent on this connection that no final result has covered yet
    std::size_t m_sent_bytes = 0;
    std::string m_finals;     // this utterance's final spans so far
    std::string m_last_error;
    std::int64_t m_last_audio_ms = 0;
};

class LiveStt final : public StreamingRecognizer {
public:
    explicit LiveStt(Settings settings) : m_settings(std::move(settings)) {}
    ~LiveStt() override { close(); }

    std::string name() const override { return "deepgram"; }

    void start(const AudioFormat& transport, std::function<void(SttEvent)> on_event) override {
        m_stream = std::make_shared<Stream>(m_settings, transport, std::move(on_event));
        m_stream->open();
    }
    void push(const CallerAudio& audio) override {
        if (m_stream) m_stream->push(audio);
    }
    void finalize() override {
        if (m_stream) m_stream->finalize();
    }
    void close() override {
        if (m_stream) m_stream->close();
    }

private:
    Settings m_settings;
    std::shared_ptr<Stream> m_stream;
};

class LiveSttFactory final : public SttFactory {
public:
    explicit LiveSttFactory(Settings defaults) : m_defaults(std::move(defaults)) {}
    Result<std::unique_ptr<SttClient>> create(const json& agent) const override {
        if (m_defaults.api_key.empty())
            return make_error(ErrorCode::unprocessable, "deepgram needs an API key (deepgram.api_key in the configuration)");
        Settings s = m_defaults;
        const json stt = agent.contains("stt") && agent["stt"].is_object() ? agent["stt"] : json::object();
        s.model = stt.value("model", s.model);
        s.language = stt.value("language", agent.value("language", s.language));
        s.endpointing_ms = stt.value("endpointing_ms", s.endpointing_ms);
        return std::unique_ptr<SttClient>(std::make_unique<LiveStt>(std::move(s)));
    }

private:
    Settings m_defaults;
};

}  // namespace

std::unique_ptr<StreamingRecognizer> make_live_stt(Settings settings) { return std::make_unique<LiveStt>(std::move(settings)); }

std::shared_ptr<SttFactory> live_stt_factory(Settings defaults) {
    return std::make_shared<LiveSttFactory>(std::move(defaults));
}

}  // namespace va::deepgram
