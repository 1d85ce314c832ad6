#include "providers/fake/deepgram_fake.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>
#include <utility>

#include "core/audio/format.hpp"
#include "core/audio/g711.hpp"
#include "core/util/ids.hpp"
#include "core/util/strings.hpp"
#include "core/util/json.hpp"
#include "providers/fake/fake_server.hpp"

namespace va::fake {

using nlohmann::json;

struct DeepgramFake::Impl {
    Options options;
    mutable std::mutex mutex;
    std::vector<Connection> connections;
    std::size_t next_line = 0;
    int handshakes = 0, open_streams = 0, max_open_streams = 0;
    bool dropped_once = false;
    LoopbackServer server;

    std::string take_line() {
        std::lock_guard lock(mutex);
        if (next_line >= options.lines.size()) return options.phrase;
        return options.lines[next_line++];
    }
};

namespace {

constexpr int kFrameMs = 20;
constexpr double kSpeechDbfs = -40.0;  // energy above this is speech (espeak-ng speech is far louder)
constexpr int kSpeechStartMs = 60;

class ListenSession final : public http::WsHandler {
public:
    ListenSession(DeepgramFake::Impl& fake, std::size_t index, AudioFormat format, int endpointing_ms, int utterance_end_ms,
                  bool interim, bool vad_events)
        : m_fake(fake),
          m_index(index),
          m_format(format),
          m_endpointing_ms(endpointing_ms),
          m_utterance_end_ms(utterance_end_ms),
          m_interim(interim),
          m_vad_events(vad_events) {}

    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        m_conn = connection;
        m_last_input = connection->monotonic_ms();
        {
            std::lock_guard lock(m_fake.mutex);
            m_fake.max_open_streams = std::max(m_fake.max_open_streams, ++m_fake.open_streams);
        }
        m_opened = true;
        watch_idle();
    }

    void on_text(std::string_view message) override {
        if (m_done) return;
        auto conn = m_conn.lock();
        if (!conn) return;
        m_last_input = conn->monotonic_ms();
        json m = parse_json(message);
        std::string type = m.is_object() ? m.value("type", "") : "";
        if (type == "KeepAlive") {
            record([](DeepgramFake::Connection& c) { ++c.keepalives; });
        } else if (type == "Finalize") {
            record([](DeepgramFake::Connection& c) { ++c.finalizes; });
            if (m_final_pending) m_finalize_requested = true;  // the timed final answers it
            else if (m_speech_ms > 0 || m_in_speech) final_result(false, true);
        } else if (type == "CloseStream") {
            record([](DeepgramFake::Connection& c) { c.close_stream = true; });
            if (m_speech_ms > 0 || m_in_speech) final_result(true, false);
            send(json{{"type", "Metadata"}, {"transaction_key", "deprecated"}, {"request_id", m_request_id},
                      {"duration", m_stream_s}, {"channels", 1}});
            finish(1000, "");
        } else {
            violation("unknown control message: " + std::string(message.substr(0, 100)));
            send(json{{"type", "Error"}, {"description", "could not parse the control message"}, {"variant", "invalid"}});
        }
    }

    void on_binary(std::string_view message) override {
        if (m_done) return;
        auto conn = m_conn.lock();
        if (!conn) return;
        m_last_input = conn->monotonic_ms();
        if (message.empty()) {
            violation("zero-length binary frame (ends the session)");
            return finish(1000, "");
        }
        record([n = message.size()](DeepgramFake::Connection& c) { c.audio_bytes += n; });
        std::vector<std::int16_t> pcm;
        if (m_format.encoding == Encoding::mulaw) {
            pcm.resize(message.size());
            g711::decode_ulaw(std::span(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()), pcm);
        } else {
            pcm16le_samples(message, pcm);
        }
        m_frame.insert(m_frame.end(), pcm.begin(), pcm.end());
        std::size_t frame = m_format.samples_for_ms(kFrameMs);
        std::size_t at = 0;
        for (; at + frame <= m_frame.size(); at += frame) analyse(std::span(m_frame).subspan(at, frame));
        m_frame.erase(m_frame.begin(), m_frame.begin() + std::ptrdiff_t(at));
    }

    void on_close() override {
        m_done = true;
        if (!std::exchange(m_opened, false)) return;
        std::lock_guard lock(m_fake.mutex);
        --m_fake.open_streams;
    }

private:
    void analyse(std::span<const std::int16_t> frame) {
        m_stream_s += kFrameMs / 1000.0;
        double sum = 0;
        for (auto s : frame) sum += double(s) * double(s);
        double rms = std::sqrt(sum / double(frame.size()));
        double dbfs = 20.0 * std::log10(std::max(rms, 1.0) / 32768.0);
        bool loud = dbfs > kSpeechDbfs;
        if (loud) {
            m_loud_ms += kFrameMs;
            m_quiet_ms = 0;
            if (m_final_pending) {  // the caller went on: no final yet
                m_final_pending = false;
                ++m_final_generation;
            }
            if (!m_in_speech && m_loud_ms >= kSpeechStartMs) {
                m_in_speech = true;
                m_speech_start_s = m_stream_s - m_loud_ms / 1000.0;
                if (m_vad_events) send(json{{"type", "SpeechStarted"}, {"channel", {0}}, {"timestamp", m_speech_start_s}});
            }
        } else {
            m_loud_ms = 0;
            m_quiet_ms += kFrameMs;
        }
        if (m_in_speech) {
            m_speech_ms += kFrameMs;
            m_since_interim_ms += kFrameMs;
            if (m_interim && m_since_interim_ms >= m_fake.options.interim_ms) {
                m_since_interim_ms = 0;
                interim();
            }
            if (m_fake.options.drop_after_speech_ms > 0 && m_speech_ms >= m_fake.options.drop_after_speech_ms && drop_now())
                return;
            int final_delay = m_fake.options.final_delay_ms;
            if (final_delay > 0 && m_quiet_ms == kFrameMs) schedule_final(final_delay);
            if (final_delay <= 0 && m_quiet_ms >= m_endpointing_ms) {
                m_in_speech = false;
                final_result(true, false);
            }
        } else if (m_awaiting_utterance_end && m_quiet_ms >= m_utterance_end_ms) {
            m_awaiting_utterance_end = false;
            send(json{{"type", "UtteranceEnd"}, {"channel", {0, 1}}, {"last_word_end", m_last_word_end}});
        }
    }

    // The speech ended (this is its first quiet frame): the final follows `ms` later, unless the caller goes on.
    void schedule_final(int ms) {
        auto conn = m_conn.lock();
        if (!conn) return;
        m_final_pending = true;
        conn->post_after(ms, [this, generation = ++m_final_generation] {
            if (m_done || !m_final_pending || generation != m_final_generation) return;
            m_final_pending = false;
            m_in_speech = false;
            final_result(true, std::exchange(m_finalize_requested, false));
        });
    }

    bool drop_now() {
        {
            std::lock_guard lock(m_fake.mutex);
            if (m_fake.dropped_once) return false;
            m_fake.dropped_once = true;
        }
        if (m_fake.options.error_mid_stream)
            send(json{{"type", "Error"}, {"description", "internal server error"}, {"message", "NET-0000"}, {"variant", "error"}});
        finish(1011, "NET-0000: internal server error");
        return true;
    }

    std::string current_line() {
        if (!m_line_taken) {
            m_line = m_fake.take_line();
            m_line_taken = true;
        }
        return m_line;
    }

    void interim() {
        auto words = split_words(current_line());
        std::size_t n = std::min(words.size(), std::size_t(m_speech_ms / 400 + 1));
        std::string text;
        for (std::size_t i = 0; i < n; ++i) text += (i ? " " : "") + words[i];
        send(results(text, false, false, false));
    }

    void final_result(bool speech_final, bool from_finalize) {
        int length = m_speech_ms - (m_in_speech ? 0 : m_quiet_ms);
        record([length](DeepgramFake::Connection& c) { c.utterance_ms.push_back(std::max(0, length)); });
        std::string text = current_line();
        send(results(text, true, speech_final, from_finalize));
        m_last_word_end = m_stream_s - (m_in_speech ? 0 : m_quiet_ms / 1000.0);
        m_awaiting_utterance_end = true;
        m_in_speech = false;
        m_speech_ms = 0;
        m_since_interim_ms = 0;
        m_line_taken = false;
        m_line.clear();
    }

    json results(const std::string& text, bool is_final, bool speech_final, bool from_finalize) {
        json words = json::array();
        double t = m_speech_start_s;
        for (const auto& w : split_words(text)) {
            if (w.empty()) continue;
            words.push_back({{"word", to_lower(w)}, {"start", t}, {"end", t + 0.3}, {"confidence", 0.98}, {"punctuated_word", w}});
            t += 0.35;
        }
        json r{{"type", "Results"},
               {"channel_index", {0, 1}},
               {"duration", m_stream_s - m_speech_start_s},
               {"start", m_speech_start_s},
               {"is_final", is_final},
               {"speech_final", speech_final},
               {"channel", {{"alternatives", {{{"transcript", text}, {"confidence", text.empty() ? 0.0 : 0.98}, {"words", words}}}}}},
               {"metadata", {{"request_id", m_request_id}, {"model_info", {{"name", "2-general-nova"}, {"version", "fake"}, {"arch", "nova-2"}}}}}};
        if (is_final) r["from_finalize"] = from_finalize;
        return r;
    }

    void watch_idle() {
        auto conn = m_conn.lock();
        if (!conn || m_done) return;
        if (conn->monotonic_ms() - m_last_input >= m_fake.options.idle_limit_ms)
            return finish(1011, "NET-0001: Deepgram did not receive audio data or a text message within the timeout window");
        conn->post_after(250, [this] { watch_idle(); });
    }

    void send(const json& message) {
        if (auto conn = m_conn.lock(); conn && !m_done) conn->send_text(message.dump());
    }

    void finish(int code, const std::string& reason) {
        if (m_done) return;
        m_done = true;
        record([reason](DeepgramFake::Connection& c) { c.closed_with = reason.empty() ? "normal" : reason; });
        if (auto conn = m_conn.lock()) conn->close(code, reason);
    }

    template <class F>
    void record(F f) {
        std::lock_guard lock(m_fake.mutex);
        f(m_fake.connections[m_index]);
    }
    void violation(std::string what) {
        record([&](DeepgramFake::Connection& c) { c.violations.push_back(what); });
    }

    DeepgramFake::Impl& m_fake;
    std::size_t m_index;
    AudioFormat m_format;
    int m_endpointing_ms, m_utterance_end_ms;
    bool m_interim, m_vad_events;
    std::weak_ptr<http::WsConnection> m_conn;
    std::string m_request_id = new_id("req");
    std::vector<std::int16_t> m_frame;
    std::int64_t m_last_input = 0;
    bool m_done = false;
    double m_stream_s = 0;
    int m_loud_ms = 0, m_quiet_ms = 0, m_speech_ms = 0, m_since_interim_ms = 0;
    bool m_in_speech = false;
    double m_speech_start_s = 0;
    bool m_awaiting_utterance_end = false;
    double m_last_word_end = 0;
    bool m_line_taken = false;
    std::string m_line;
    bool m_final_pending = false, m_finalize_requested = false, m_opened = false;
    std::uint64_t m_final_generation = 0;
};

Result<std::unique_ptr<http::WsHandler>> accept_listen(DeepgramFake::Impl& fake, http::Request& request) {
    {
        std::lock_guard lock(fake.mutex);
        ++fake.handshakes;
        if (fake.options.refuse_status && fake.options.refuse_count != 0) {
            if (fake.options.refuse_count > 0) --fake.options.refuse_count;
            int status = fake.options.refuse_status;
            ErrorCode code = status == 401 ? ErrorCode::unauthenticated
                             : status == 429 ? ErrorCode::rate_limited
                             : status == 503 ? ErrorCode::unavailable
                                             : ErrorCode::internal;
            return make_error(code, "fake refusal with " + std::to_string(status));
        }
    }
    if (request.header("authorization") != "Token " + fake.options.api_key)
        return make_error(ErrorCode::unauthenticated, "INVALID_AUTH: invalid credentials");
    auto q = [&](const char* name) -> std::string {
        auto it = request.query.find(name);
        return it == request.query.end() ? "" : it->second;
    };
    std::string encoding = q("encoding"), rate = q("sample_rate");
    if (encoding.empty() != rate.empty())
        return invalid_field("encoding", "encoding and sample_rate go together for raw audio");
    static const std::set<std::string> kEncodings{"linear16", "mulaw", "alaw"};
    if (encoding.empty() || !kEncodings.count(encoding))
        return invalid_field("encoding", "the fake takes raw linear16, mulaw or alaw audio");
    int sample_rate = std::atoi(rate.c_str());
    if (sample_rate < 8000 || sample_rate > 48000) return invalid_field("sample_rate", "must be 8000..48000");
    if (q("utterance_end_ms").size() && q("interim_results") != "true")
        return invalid_field("utterance_end_ms", "needs interim_results=true");
    int endpointing = q("endpointing").empty() ? 10 : q("endpointing") == "false" ? 1 << 30 : std::atoi(q("endpointing").c_str());
    int utterance_end = q("utterance_end_ms").empty() ? 1 << 30 : std::atoi(q("utterance_end_ms").c_str());
    AudioFormat format{encoding == "mulaw" ? Encoding::mulaw : Encoding::pcm16, sample_rate, 1};
    std::size_t index;
    {
        std::lock_guard lock(fake.mutex);
        DeepgramFake::Connection c;
        c.query = request.target;
        c.encoding = encoding;
        c.sample_rate = sample_rate;
        fake.connections.push_back(std::move(c));
        index = fake.connections.size() - 1;
    }
    return std::unique_ptr<http::WsHandler>(std::make_unique<ListenSession>(
        fake, index, format, std::max(20, endpointing), std::max(20, utterance_end), q("interim_results") == "true",
        q("vad_events") == "true"));
}

}  // namespace

DeepgramFake::DeepgramFake(Options options) : m_impl(std::make_unique<Impl>()) {
    m_impl->options = std::move(options);
    Impl& impl = *m_impl;
    impl.server.router().add_websocket("/v1/listen", [&impl](http::Request& request) { return accept_listen(impl, request); });
    impl.server.start(impl.options.port, 1);
}

DeepgramFake::~DeepgramFake() = default;

int DeepgramFake::port() const { return m_impl->server.port(); }

std::vector<DeepgramFake::Connection> DeepgramFake::connections() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->connections;
}

int DeepgramFake::open_streams() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->open_streams;
}

int DeepgramFake::max_open_streams() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->max_open_streams;
}

int DeepgramFake::handshakes() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->handshakes;
}

}  // namespace va::fake
