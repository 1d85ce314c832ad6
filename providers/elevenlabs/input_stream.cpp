#include "providers/elevenlabs/input_stream.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "core/util/guard.hpp"
#include "core/util/time.hpp"
#include "providers/common/http_speech.hpp"
#include "providers/common/ws_client.hpp"
#include "providers/elevenlabs/stream_message.hpp"

namespace va::elevenlabs {

namespace {

using nlohmann::json;

// A sentence's sink, shared by the connection (which delivers) and the sentence's handle (which cancels). A
// delivery holds `mutex`, so cancel() can wait out one that is running and none starts after it.
class Delivery {
public:
    explicit Delivery(TtsSink sink) : m_sink(std::move(sink)) {}

    void audio(TtsAudio chunk) {
        run([&] {
            if (m_sink.on_audio) m_sink.on_audio(std::move(chunk));
        });
    }
    void done(Status outcome) {
        run([&] {
            if (m_sink.on_done) m_sink.on_done(std::move(outcome));
        });
    }
    void cancel() {
        if (m_cancelled.exchange(true)) return;
        // From inside one of this sentence's own callbacks the lock is ours already.
        if (m_delivering.load() != std::this_thread::get_id()) {
            std::lock_guard wait_out_a_running_callback(m_mutex);
        }
    }

private:
    template <class F>
    void run(F f) {
        std::lock_guard lock(m_mutex);
        if (m_cancelled.load()) return;
        m_delivering = std::this_thread::get_id();
        run_guarded("elevenlabs sentence callback", f);
        m_delivering = std::thread::id{};
    }

    TtsSink m_sink;
    std::mutex m_mutex;
    std::atomic<bool> m_cancelled{false};
    std::atomic<std::thread::id> m_delivering{};
};

// What a handler decided to tell a sentence's sink: told once the connection's lock is released (a sink may cancel,
// which takes that lock), still on the I/O thread, so deliveries keep the order of the messages.
struct Tell {
    std::shared_ptr<Delivery> to;
    std::vector<TtsAudio> chunks;
    std::optional<Status> done;

    void operator()() {
        if (!to) return;
        for (auto& chunk : chunks) to->audio(std::move(chunk));
        if (done) to->done(std::move(*done));
    }
};

// The sentence being spoken: what it has brought so far and its deadline.
struct Sentence {
    std::uint64_t id = 0;
    std::string text;
    std::shared_ptr<Delivery> out;
    std::size_t expected = 0, covered = 0;  // visible characters, and how many the alignment has covered
    std::size_t left = 0;                   // audio bytes it may still bring (the per-sentence bound)
    std::string carry;                      // half a PCM16 sample split across two messages
    bool heard = false;                     // some of its audio has arrived
    int attempt = 0;
    std::int64_t sent_ms = 0, last_audio_ms = 0;
    std::unique_ptr<WsTimer> timer;
};

class InputStream;

// The caller's handle on one sentence; destroying it cancels.
class SentenceHandle final : public TtsStream {
public:
    SentenceHandle(std::weak_ptr<InputStream> stream, std::uint64_t id, std::shared_ptr<Delivery> out, WsLoop loop)
        : m_stream(std::move(stream)), m_id(id), m_out(std::move(out)), m_loop(loop) {}
    ~SentenceHandle() override { cancel(); }
    void cancel() override;
    // An outcome known before anything is sent (a permanent failure), told on the stream's loop like every other.
    void fail_soon(Error error) {
        m_early = ws_after(0, [out = m_out, error] { out->done(error); }, m_loop);
    }

private:
    std::weak_ptr<InputStream> m_stream;
    std::uint64_t m_id;
    std::shared_ptr<Delivery> m_out;
    WsLoop m_loop;
    std::unique_ptr<WsTimer> m_early;
    bool m_cancelled = false;
};

// The call's connection and the sentence on it, shared with the connection's callbacks and timers (which may
// outlive the client by a moment). Everything below is guarded by m_mutex.
class InputStream : public std::enable_shared_from_this<InputStream> {
public:
    InputStream(Settings settings, std::string format_name)
        : m_settings(std::move(settings)), m_format_name(std::move(format_name)), m_format(*parse_output_format(m_format_name)) {}

    void open() {
        std::lock_guard lock(m_mutex);
        // The loop of the thread that opens the stream (the call's I/O thread in the daemon) carries every connection
        // and timer of it, whoever starts them (the caller's strand, a callback), so they come in one order.
        m_loop = WsLoop::current();
        connect_locked();
    }

    // Hang-up: the sentence in flight (if any) is dropped, and {"text":""} ends the stream.
    void end() {
        std::shared_ptr<Delivery> current;
        {
            std::lock_guard lock(m_mutex);
            m_ended = true;
            if (m_current) current = std::exchange(m_current, std::nullopt)->out;
            if (m_ws && m_open) {
                m_ws->send_text(R"({"text":""})");  // end of input: the service finishes and closes
                m_ws->close(1000, "");
            } else if (m_ws) {
                m_ws->abort();
            }
            ++m_generation;
        }
        if (current) current->cancel();
    }

    std::unique_ptr<TtsStream> speak(const std::string& sentence, TtsSink sink) {
        auto out = std::make_shared<Delivery>(std::move(sink));
        std::lock_guard lock(m_mutex);
        std::uint64_t id = ++m_sentences;
        auto handle = std::make_unique<SentenceHandle>(weak_from_this(), id, out, m_loop);
        if (auto refused = refusal_locked()) {
            handle->fail_soon(*refused);
            return handle;
        }
        if (m_closed) {
            // The service closed the last connection (inactivity, an error): a new one for this sentence.
            m_failure.reset();
            connect_locked();
        }
        Sentence s;
        s.id = id;
        s.text = sentence;
        s.out = std::move(out);
        s.expected = visible_chars(sentence);
        s.left = std::size_t(m_format.sample_rate) * kMaxSentenceAudioSeconds * (m_format.encoding == Encoding::pcm16 ? 2 : 1);
        m_current = std::move(s);
        send_sentence_locked();
        return handle;
    }

    void cancel(std::uint64_t id) {
        std::lock_guard lock(m_mutex);
        if (!m_current || m_current->id != id) return;  // over already: nothing of it is on the wire
        m_current.reset();
        drop_connection_locked();
        if (m_ended) return;
        // Warm again at once: after a barge-in the next reply is a caller's turn away.
        m_failure.reset();
        connect_locked();
    }

public:  // the connection's callbacks (callbacks_for) and the sentence's timer
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
        if (binary) return;  // the protocol speaks in text frames
        // The message is read field by field without trusting its shape (stream_message.cpp).
        auto m = parse_stream_message(text);
        Tell tell;
        {
            std::lock_guard lock(m_mutex);
            if (generation != m_generation) return;
            if (!m || m->bad_audio) {
                // Whatever follows on this connection cannot be trusted either: a fresh one for the next sentence.
                Error e = tagged(make_error(ErrorCode::unavailable, !m ? "the stream sent a message that is not a JSON object"
                                                                       : "the stream sent audio that is not base64"));
                spdlog::warn("{}", e.message);
                drop_connection_locked();
                if (m_current) finish_locked(e, tell);
            } else if (m->error_message) {
                // The service closes after an error; closing first makes sure the next sentence goes to a new one.
                m_failure = tagged(make_error(code_for_status_string(m->error_status, ErrorCode::unavailable), *m->error_message));
                drop_connection_locked();
                if (m_current) finish_locked(*m_failure, tell);
            } else if (m_current) {
                if (m->audio) take_audio_locked(*m->audio, tell);
                if (m_current) {
                    Sentence& s = *m_current;
                    s.covered += m->covered_chars;
                    if (m->is_final || (s.expected > 0 && s.covered >= s.expected && s.heard)) finish_locked(Ok{}, tell);
                }
            }
        }
        tell();
    }

    void ws_closed(int generation, int code, std::string reason, std::optional<Error> error) {
        Tell tell;
        {
            std::lock_guard lock(m_mutex);
            if (generation != m_generation) return;
            m_open = false;
            m_closed = true;
            m_close_text = error ? error->message : "closed with " + std::to_string(code) + (reason.empty() ? "" : ": " + reason);
            if (error) m_failure = tagged(*error);
            if (!m_ended && code != 1000) spdlog::info("elevenlabs: stream {}", m_close_text);
            if (m_current) closed_under_sentence_locked(tell);
        }
        tell();
    }

    void sentence_timer(std::uint64_t id) {
        Tell tell;
        {
            std::lock_guard lock(m_mutex);
            if (!m_current || m_current->id != id) return;
            Sentence& s = *m_current;
            std::int64_t now = now_ms();
            if (s.heard && now - s.last_audio_ms >= m_settings.quiet_ms) {
                finish_locked(Ok{}, tell);
            } else if (now - s.sent_ms >= m_settings.timeout_ms) {
                // The stream is in an unknown state: start afresh next time.
                if (m_ws) m_ws->abort();
                ++m_generation;
                m_open = false;
                m_closed = true;
                std::string what = s.heard ? "the sentence's audio did not end" : "no audio";
                finish_locked(tagged(make_error(ErrorCode::timeout, what + " within " + std::to_string(m_settings.timeout_ms) + " ms")), tell);
            } else {
                arm_locked();
            }
        }
        tell();
    }

private:
    std::optional<Error> refusal_locked() const {
        if (m_current) return tagged(make_error(ErrorCode::internal, "a sentence is still being spoken on this stream"));
        if (m_ended) return tagged(make_error(ErrorCode::unavailable, "the stream has ended"));
        if (m_failure && !m_failure->transient()) return *m_failure;  // a bad key or no quota: no use reconnecting
        return std::nullopt;
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
        m_ws = WsClient::connect(std::move(options), std::move(cb), m_loop);
        // The first message: a single space, with the voice and the chunk schedule (queued until the upgrade).
        json first{{"text", " "}, {"voice_settings", voice_settings(m_settings)},
                   {"generation_config", {{"chunk_length_schedule", m_settings.chunk_schedule}}}};
        m_ws->send_text(first.dump());
        m_last_send_ms = now_ms();
    }

    // Stops this connection's traffic reaching us (a new generation) and closes it, so the service stops too.
    void drop_connection_locked() {
        if (m_ws && m_open) m_ws->close(1000, "");
        else if (m_ws) m_ws->abort();
        ++m_generation;
        m_open = false;
        m_closed = true;
    }

    void send_sentence_locked() {
        Sentence& s = *m_current;
        m_ws->send_text(json{{"text", s.text + " "}, {"try_trigger_generation", false}, {"flush", true}}.dump());
        s.sent_ms = m_last_send_ms = now_ms();
        arm_locked();
    }

    // The sentence's next deadline: its quiet time once audio has come, its timeout in any case.
    void arm_locked() {
        Sentence& s = *m_current;
        std::int64_t due = s.sent_ms + m_settings.timeout_ms;
        if (s.heard) due = std::min(due, s.last_audio_ms + m_settings.quiet_ms);
        s.timer = ws_after(
            int(std::max<std::int64_t>(0, due - now_ms())),
            [weak = weak_from_this(), id = s.id] {
                if (auto self = weak.lock()) self->sentence_timer(id);
            },
            m_loop);
    }

    // A message's audio for the sentence (PCM16 as samples, G.711 as it came), up to the sentence's bound.
    void take_audio_locked(const std::string& bytes, Tell& tell) {
        Sentence& s = *m_current;
        bool over = bytes.size() > s.left;
        std::string_view piece = std::string_view(bytes).substr(0, s.left);
        s.left -= piece.size();
        s.carry.append(piece);
        std::size_t whole = m_format.encoding == Encoding::pcm16 ? s.carry.size() & ~std::size_t(1) : s.carry.size();
        TtsAudio chunk = speech_chunk(m_format, std::string_view(s.carry).substr(0, whole));
        s.carry.erase(0, whole);
        tell.to = s.out;
        if (chunk.size() > 0) tell.chunks.push_back(std::move(chunk));
        if (!piece.empty()) {
            bool first = !s.heard;
            s.heard = true;
            s.last_audio_ms = now_ms();
            if (first) arm_locked();  // the quiet time now comes before the timeout; later audio only moves it on
        }
        if (over) {
            // The service would go on sending this sentence: stop it on the wire.
            drop_connection_locked();
            finish_locked(tagged(make_error(ErrorCode::too_large, "the speech service sent more than " +
                                                                      std::to_string(kMaxSentenceAudioSeconds) +
                                                                      " s of audio for one sentence")),
                          tell);
        }
    }

    // The connection closed while a sentence was out.
    void closed_under_sentence_locked(Tell& tell) {
        Sentence& s = *m_current;
        if (s.heard) return finish_locked(Ok{}, tell);  // what came before the close was played: the sentence ends there
        if (!m_failure && s.attempt == 0 && !m_ended) {
            // A bare close just as the sentence went out (the inactivity timeout ran out meanwhile): once more on a
            // fresh connection.
            ++s.attempt;
            connect_locked();
            return send_sentence_locked();
        }
        finish_locked(m_failure ? *m_failure
                                : tagged(make_error(ErrorCode::unavailable, "the stream closed before any audio: " + m_close_text)),
                      tell);
    }

    void finish_locked(Status outcome, Tell& tell) {
        tell.to = m_current->out;
        tell.done = std::move(outcome);
        m_current.reset();
    }

    Settings m_settings;
    std::string m_format_name;
    AudioFormat m_format;
    std::mutex m_mutex;
    std::shared_ptr<WsClient> m_ws;
    WsLoop m_loop;  // from open()
    int m_generation = 0;
    bool m_open = false, m_closed = false, m_ended = false;
    std::optional<Error> m_failure;
    std::string m_close_text;
    std::optional<Sentence> m_current;
    std::uint64_t m_sentences = 0;
    std::int64_t m_last_send_ms = 0;
};

void SentenceHandle::cancel() {
    if (m_cancelled) return;
    m_cancelled = true;
    m_out->cancel();
    m_early.reset();
    if (auto stream = m_stream.lock()) stream->cancel(m_id);
}

class WsTts final : public TtsClient {
public:
    explicit WsTts(Settings settings) : m_settings(std::move(settings)) {}
    ~WsTts() override {
        if (m_stream) m_stream->end();
    }
    std::string name() const override { return "elevenlabs"; }
    bool streams() const override { return true; }

    // Warm start: the connection opens as soon as the call's media is up, before anything is said.
    void set_output(const AudioFormat& transport) override {
        if (m_stream) return;
        m_stream = std::make_shared<InputStream>(m_settings, output_format(transport));
        m_stream->open();
    }

    std::unique_ptr<TtsStream> speak(const std::string& sentence, TtsSink sink) override {
        if (!m_stream) set_output(kLocalFormat);
        return m_stream->speak(sentence, std::move(sink));
    }

    Result<TtsAudio> synthesize(const std::string& sentence) override { return synthesize_streamed(*this, sentence); }

private:
    Settings m_settings;
    std::shared_ptr<InputStream> m_stream;
};

}  // namespace

std::unique_ptr<TtsClient> websocket_tts(Settings settings) { return std::make_unique<WsTts>(std::move(settings)); }

}  // namespace va::elevenlabs
