#include "providers/fake/elevenlabs_fake.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

#include "core/audio/format.hpp"
#include "core/audio/g711.hpp"
#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/elevenlabs/tts.hpp"
#include "providers/fake/fake_server.hpp"
#include "providers/fake/speech.hpp"
#include "providers/fake/stream_server.hpp"

namespace va::fake {

using nlohmann::json;

struct ElevenLabsFake::Impl {
    Options options;
    mutable std::mutex mutex;
    std::deque<Fault> faults;
    int requests = 0;
    std::vector<std::string> http_texts;
    std::vector<Stream> streams;
    int in_flight = 0, max_in_flight = 0;
    std::size_t audio_bytes = 0;
    int held = 0;
    bool released = false;
    LoopbackServer ws_server;
    StreamServer http;  // last: stopped first, while the state its answers touch is alive

    void request_started() {
        std::lock_guard lock(mutex);
        max_in_flight = std::max(max_in_flight, ++in_flight);
    }
    void request_ended() {
        std::lock_guard lock(mutex);
        --in_flight;
    }
    void sent_audio(std::size_t n) {
        std::lock_guard lock(mutex);
        audio_bytes += n;
    }
    // The pause between two chunks of `chunk_ms` of audio at the real-time factor (0: none).
    std::chrono::nanoseconds chunk_step(int chunk_ms) const {
        if (options.realtime_factor <= 0) return std::chrono::nanoseconds(0);
        return std::chrono::nanoseconds(std::int64_t(double(chunk_ms) * 1e6 / options.realtime_factor));
    }

    // Counts a request and takes its fault, if any.
    std::optional<Fault> next_request() {
        std::lock_guard lock(mutex);
        ++requests;
        if (options.fail_from > 0 && requests >= options.fail_from) return Fault{Fault::status, 500, "internal_error", 0};
        if (faults.empty()) return std::nullopt;
        Fault f = faults.front();
        faults.pop_front();
        return f;
    }
};

namespace {

// espeak-ng's voice for `text` (or its tone, with `tones`), in the raw output format.
Result<std::string> speak(const std::string& text, const AudioFormat& format, const ElevenLabsFake::Options& options) {
    auto pcm = options.tones ? Result<std::vector<std::int16_t>>(tone_speech(text, options.tone_ms_per_char, format.sample_rate))
                             : caller_speech(text, format.sample_rate);
    if (!pcm) return pcm.take_error();
    if (format.encoding == Encoding::pcm16) return pcm16le_bytes(*pcm);
    std::string bytes(pcm->size(), '\0');
    auto out = std::span(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size());
    if (format.encoding == Encoding::mulaw) g711::encode_ulaw(*pcm, out);
    else g711::encode_alaw(*pcm, out);
    return bytes;
}

json detail(const std::string& status, const std::string& message) {
    return {{"detail", {{"status", status}, {"message", message}}}};
}

std::string fault_status_string(const ElevenLabsFake::Fault& f) {
    if (!f.detail_status.empty()) return f.detail_status;
    if (f.http_status == 401) return "invalid_api_key";
    if (f.http_status == 429) return "too_many_concurrent_requests";
    return "internal_error";
}

std::string fault_message(int status) {
    if (status == 429)
        return "Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests.";
    if (status == 401) return "This request exceeds your quota of 10000. You have 0 credits remaining.";
    return "An internal server error occurred.";
}

constexpr int kWsChunkMs = 200;

// An HTTP answer's audio from byte `at` on, `chunk` bytes at a time: the first at `first`, each next `step` later
// (all at once when `step` is 0); `drop` ends the connection halfway, as a failing service would.
void stream_audio(ElevenLabsFake::Impl& fake, std::shared_ptr<StreamReply> res, std::shared_ptr<const std::string> bytes,
                  std::size_t chunk, std::chrono::steady_clock::time_point first, std::chrono::nanoseconds step, bool drop,
                  std::size_t at) {
    res->at(first + step * std::int64_t(at / chunk), [&fake, res, bytes, chunk, first, step, drop, at]() mutable {
        do {
            if (drop && at >= bytes->size() / 2) return res->drop();
            if (at >= bytes->size()) return res->end();
            std::size_t n = std::min(chunk, bytes->size() - at);
            res->write(bytes->substr(at, n));
            fake.sent_audio(n);
            at += n;
        } while (step.count() == 0);
        stream_audio(fake, res, bytes, chunk, first, step, drop, at);
    });
}

const char* kInactivity =
    "Have not received a new text input within the timeout of {} seconds. Streaming input terminated. Please make sure "
    "to either feed the input in the timely manner, or to send the end of input text (empty string \"\") when done.";

class InputSession final : public http::WsHandler {
public:
    InputSession(ElevenLabsFake::Impl& fake, std::size_t index, AudioFormat format, int inactivity_s, bool header_auth)
        : m_fake(fake), m_index(index), m_format(format), m_inactivity_ms(inactivity_s * 1000), m_authed(header_auth) {}

    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        m_conn = connection;
        m_last_input = connection->monotonic_ms();
        watch_idle();
    }

    void on_text(std::string_view message) override {
        if (m_done) return;
        auto conn = m_conn.lock();
        if (!conn) return;
        m_last_input = conn->monotonic_ms();
        json m = parse_json(message);
        if (!m.is_object() || !m.contains("text") || !m["text"].is_string()) return invalid();
        std::string text = m["text"];
        if (!m_initialised) {
            if (text != " ") {
                violation("the first message's text must be a single space");
                return invalid();
            }
            if (!m_authed) {
                std::string key = m.value("xi_api_key", "");
                std::string bearer = m.value("authorization", "");
                if (key != m_fake.options.api_key && bearer != "Bearer " + m_fake.options.api_key) {
                    send(json{{"message", "Invalid API key"}, {"error", "invalid_api_key"}, {"code", 1008}});
                    return finish(1008, "invalid_api_key");
                }
                m_authed = true;
            }
            if (m.contains("generation_config") && m["generation_config"].contains("chunk_length_schedule")) {
                for (const auto& v : m["generation_config"]["chunk_length_schedule"]) {
                    int n = v.is_number_integer() ? v.get<int>() : 0;
                    if (n < 50 || n > 500) violation("chunk_length_schedule values must be 50..500");
                    m_schedule.push_back(n);
                }
            }
            record([this](ElevenLabsFake::Stream& s) { s.chunk_schedule = m_schedule; });
            if (m_schedule.empty()) m_schedule = {120, 160, 250, 290};
            m_initialised = true;
            return;
        }
        if (m.contains("generation_config")) violation("generation_config belongs only in the first message");
        if (text.empty()) {  // end of input
            record([](ElevenLabsFake::Stream& s) { s.end_of_input = true; });
            generate(true);
            m_final_after_queue = true;
            return pump();
        }
        if (text == " ") {
            record([](ElevenLabsFake::Stream& s) { ++s.keepalives; });
            return;
        }
        bool flush = m.value("flush", false);
        if (text.back() != ' ') violation("text without a trailing space may stall generation: \"" + text + "\"");
        record([&](ElevenLabsFake::Stream& s) {
            s.texts.push_back(text);
            if (flush) ++s.flushes;
        });
        m_buffer += text;
        if (flush) generate(true);
        else generate(false);
    }

    void on_binary(std::string_view) override { invalid(); }
    void on_close() override {
        if (!m_done) record([](ElevenLabsFake::Stream& s) { s.closed_by_client = true; });
        m_done = true;
        unhold();
        sentence_done();
    }

private:
    // Buffered text becomes audio once the schedule's threshold is reached, or at once on flush.
    void generate(bool flush) {
        while (!m_buffer.empty()) {
            std::size_t threshold = std::size_t(m_schedule[std::min(m_chunk, m_schedule.size() - 1)]);
            if (!flush && m_buffer.size() < threshold) return;
            std::string piece = m_buffer;
            m_buffer.clear();
            ++m_chunk;
            if (auto conn = m_conn.lock()) m_jobs.emplace_back(piece, conn->monotonic_ms());
        }
        pump();
    }

    // One synthesis at a time, in order: espeak-ng on the worker pool (a tone at once), then its audio, at the
    // configured pace, before the next sentence's.
    void pump() {
        if (m_busy || m_done) return;
        auto conn = m_conn.lock();
        if (!conn) return;
        if (m_jobs.empty()) {
            if (m_final_after_queue) {
                send(json{{"isFinal", true}});
                finish(1000, "");
            }
            return;
        }
        auto [text, arrived] = m_jobs.front();
        m_jobs.pop_front();
        auto fault = m_fake.next_request();
        if (fault && fault->kind == ElevenLabsFake::Fault::status) {
            send(json{{"message", fault_message(fault->http_status)}, {"error", fault_status_string(*fault)}, {"code", 1011}});
            return finish(1011, fault_status_string(*fault));
        }
        if (fault && (fault->kind == ElevenLabsFake::Fault::not_json || fault->kind == ElevenLabsFake::Fault::bad_base64)) {
            conn->send_text(fault->kind == ElevenLabsFake::Fault::not_json ? "<html><body>502 Bad Gateway</body></html>"
                                                                           : R"({"audio":"@@ not base64 @@","isFinal":null})");
            return pump();
        }
        m_busy = true;
        m_fake.request_started();
        int delay = fault && fault->kind == ElevenLabsFake::Fault::slow_first_byte ? fault->delay_ms : 0;
        bool drop = fault && fault->kind == ElevenLabsFake::Fault::drop_mid_stream;
        // The first audio first_audio_ms after the text arrived (or at once, if the previous sentence took longer).
        std::int64_t first = std::max(conn->monotonic_ms(), arrived + m_fake.options.first_audio_ms);
        if (m_fake.options.tones) {
            auto audio = speak(text, m_format, m_fake.options);
            return conn->post_after(delay, [this, audio, text, drop, first] { spoken(audio, text, drop, first); });
        }
        auto audio = std::make_shared<Result<std::string>>(make_error(ErrorCode::internal, ""));
        conn->run_blocking(
            [audio, text, format = m_format, delay, options = m_fake.options] {
                if (delay) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
                *audio = speak(text, format, options);
            },
            [this, audio, text, drop, first] { spoken(*audio, text, drop, first); });
    }

    void spoken(const Result<std::string>& audio, const std::string& text, bool drop, std::int64_t first) {
        if (m_done) return;
        if (!audio) {
            sentence_done();
            send(json{{"message", audio.error().message}, {"error", "internal_error"}, {"code", 1011}});
            return finish(1011, "internal_error");
        }
        auto messages = std::make_shared<std::vector<std::pair<json, std::size_t>>>(audio_messages(*audio, text));
        // Paced from when the audio exists: a long synthesis (minutes of tone under a sanitizer) must not turn the
        // pace into one burst that overflows the connection's send queue.
        if (auto conn = m_conn.lock()) first = std::max(first, conn->monotonic_ms());
        send_chunks(messages, 0, first, drop);
    }

    // Chunk `at` and on: each `chunk_step` after the one before (all at once without a real-time factor).
    void send_chunks(std::shared_ptr<std::vector<std::pair<json, std::size_t>>> messages, std::size_t at, std::int64_t first,
                     bool drop) {
        auto conn = m_conn.lock();
        if (!conn || m_done) return sentence_done();
        std::int64_t step_ms = std::chrono::duration_cast<std::chrono::milliseconds>(m_fake.chunk_step(kWsChunkMs)).count();
        for (; at < messages->size(); ++at) {
            std::int64_t due = first + step_ms * std::int64_t(at);
            if (due > conn->monotonic_ms())
                return conn->post_after(int(due - conn->monotonic_ms()),
                                        [this, messages, at, first, drop] { send_chunks(messages, at, first, drop); });
            if (at > 0 && at == std::size_t(m_fake.options.hold_after_chunks) && !released()) {
                if (!m_holding) {
                    m_holding = true;
                    held_by(1);
                }
                // Held by the test: looked at again shortly, until it opens the gate.
                return conn->post_after(5, [this, messages, at, first, drop] { send_chunks(messages, at, first, drop); });
            }
            unhold();
            if (drop && at == messages->size() / 2) {
                sentence_done();
                return finish(1011, "connection dropped by the fake");
            }
            send((*messages)[at].first);
            m_fake.sent_audio((*messages)[at].second);
        }
        sentence_done();
        pump();
    }

    bool released() const {
        std::lock_guard lock(m_fake.mutex);
        return m_fake.released;
    }
    void held_by(int n) {
        std::lock_guard lock(m_fake.mutex);
        m_fake.held += n;
    }
    void unhold() {
        if (!m_holding) return;
        m_holding = false;
        held_by(-1);
    }

    void sentence_done() {
        if (!m_busy) return;
        m_busy = false;
        m_fake.request_ended();
    }

    // Chunks of about 200 ms, each with the alignment of its share of the characters (times relative to it), and
    // its number of audio bytes.
    std::vector<std::pair<json, std::size_t>> audio_messages(const std::string& bytes, const std::string& text) {
        std::vector<std::pair<json, std::size_t>> out;
        std::size_t chunk = m_format.bytes_for_ms(kWsChunkMs);
        std::size_t chunks = std::max<std::size_t>(1, (bytes.size() + chunk - 1) / chunk);
        for (std::size_t i = 0; i < chunks; ++i) {
            std::string part = bytes.substr(std::min(bytes.size(), i * chunk), chunk);
            // Spread evenly, so the last chunk's alignment carries the end of the text, as the service's does.
            std::size_t from = i * text.size() / chunks, to = (i + 1) * text.size() / chunks;
            std::string chars = text.substr(from, to - from);
            json list = json::array(), starts = json::array(), durations = json::array();
            double step = chars.empty() ? 0 : m_format.duration_ms(part.size()) / double(chars.size());
            for (std::size_t c = 0; c < chars.size(); ++c) {
                list.push_back(std::string(1, chars[c]));
                starts.push_back(int(double(c) * step));
                durations.push_back(int(step));
            }
            json alignment{{"chars", list}, {"charStartTimesMs", starts}, {"charDurationsMs", durations}};
            out.emplace_back(json{{"audio", base64_encode(part)}, {"isFinal", nullptr}, {"normalizedAlignment", alignment},
                                  {"alignment", alignment}},
                             part.size());
        }
        return out;
    }

    void invalid() {
        send(json{{"message", "Could not parse input message, make sure it is a json and follows the schema outlined in protocol."},
                  {"error", "invalid_input_message"}, {"code", 1008}});
        finish(1008, "invalid_input_message");
    }

    void watch_idle() {
        auto conn = m_conn.lock();
        if (!conn || m_done) return;
        if (conn->monotonic_ms() - m_last_input >= m_inactivity_ms && !m_busy) {
            std::string reason = kInactivity;
            reason.replace(reason.find("{}"), 2, std::to_string(m_inactivity_ms / 1000));
            return finish(1008, reason);
        }
        conn->post_after(250, [this] { watch_idle(); });
    }

    void send(const json& message) {
        if (auto conn = m_conn.lock(); conn && !m_done) conn->send_text(message.dump());
    }

    void finish(int code, const std::string& reason) {
        if (m_done) return;
        m_done = true;
        record([&](ElevenLabsFake::Stream& s) { s.closed_with = std::to_string(code) + (reason.empty() ? "" : " " + reason); });
        if (auto conn = m_conn.lock()) conn->close(code, reason);
    }

    template <class F>
    void record(F f) {
        std::lock_guard lock(m_fake.mutex);
        f(m_fake.streams[m_index]);
    }
    void violation(std::string what) {
        record([&](ElevenLabsFake::Stream& s) { s.violations.push_back(what); });
    }

    ElevenLabsFake::Impl& m_fake;
    std::size_t m_index;
    AudioFormat m_format;
    int m_inactivity_ms;
    bool m_authed;
    std::weak_ptr<http::WsConnection> m_conn;
    std::int64_t m_last_input = 0;
    bool m_initialised = false, m_done = false, m_busy = false, m_final_after_queue = false, m_holding = false;
    std::vector<int> m_schedule;
    std::size_t m_chunk = 0;
    std::string m_buffer;
    std::deque<std::pair<std::string, std::int64_t>> m_jobs;  // text and when it arrived
};

}  // namespace

ElevenLabsFake::ElevenLabsFake(Options options) : m_impl(std::make_unique<Impl>()) {
    m_impl->options = std::move(options);
    Impl& impl = *m_impl;
    impl.http.route("POST", "/v1/text-to-speech/([^/]+)/stream", [&impl](const StreamRequest& req, std::shared_ptr<StreamReply> res) {
        auto answer = [&res](int status, const json& body) { res->send(status, "application/json", body.dump()); };
        if (req.header("xi-api-key") != impl.options.api_key) return answer(401, detail("invalid_api_key", "Invalid API key"));
        std::string format_name = req.has_param("output_format") ? req.param("output_format") : "mp3_44100_128";
        auto format = elevenlabs::parse_output_format(format_name);
        if (!format)
            return answer(422, {{"detail", {{{"loc", {"query", "output_format"}}, {"msg", "the fake speaks raw pcm_*, ulaw_8000 or alaw_8000"}, {"type", "value_error"}}}}});
        json body = parse_json(req.body);
        if (!body.is_object() || !body.contains("text") || !body["text"].is_string() || body["text"].get<std::string>().empty())
            return answer(422, {{"detail", {{{"loc", {"body", "text"}}, {"msg", "field required"}, {"type", "value_error.missing"}}}}});
        std::string text = body["text"];
        {
            std::lock_guard lock(impl.mutex);
            impl.http_texts.push_back(text);
        }
        auto fault = impl.next_request();
        if (fault && fault->kind == Fault::status) {
            std::string status = fault_status_string(*fault);
            if (fault->http_status == 422)
                return answer(422, {{"detail", {{{"loc", {"body", "text"}}, {"msg", "scripted validation error"}, {"type", "value_error"}}}}});
            return answer(fault->http_status, detail(status, fault_message(fault->http_status)));
        }
        bool drop = fault && fault->kind == Fault::drop_mid_stream;
        int delay = fault && fault->kind == Fault::slow_first_byte ? fault->delay_ms : 0;
        impl.request_started();
        res->on_close([&impl] { impl.request_ended(); });
        // The first audio first_audio_ms after the request, then 100 ms chunks at the real-time factor.
        auto first = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay + impl.options.first_audio_ms);
        auto stream = [&impl, res, format = *format, drop, first](Result<std::string> audio) {
            if (!audio) return res->send(500, "application/json", detail("internal_error", audio.error().message).dump());
            res->begin(200, format.encoding == Encoding::pcm16 ? "audio/pcm" : "audio/basic");
            auto bytes = std::make_shared<const std::string>(std::move(audio).value());
            stream_audio(impl, res, bytes, format.bytes_for_ms(100), first, impl.chunk_step(100), drop, 0);
        };
        if (impl.options.tones) return stream(speak(text, *format, impl.options));
        auto audio = std::make_shared<Result<std::string>>(make_error(ErrorCode::internal, ""));
        res->blocking([audio, text, format = *format, options = impl.options] { *audio = speak(text, format, options); },
                      [audio, stream] { stream(std::move(*audio)); });
    });
    impl.http.start(impl.options.port);

    impl.ws_server.router().add_websocket("/v1/text-to-speech/{voice}/stream-input", [&impl](http::Request& request)
                                  -> Result<std::unique_ptr<http::WsHandler>> {
        auto q = [&](const char* name) -> std::string {
            auto it = request.query.find(name);
            return it == request.query.end() ? "" : it->second;
        };
        bool header_auth = !request.header("xi-api-key").empty();
        if (header_auth && request.header("xi-api-key") != impl.options.api_key)
            return make_error(ErrorCode::unauthenticated, "invalid_api_key");
        std::string format_name = q("output_format").empty() ? "mp3_44100_128" : q("output_format");
        auto format = elevenlabs::parse_output_format(format_name);
        if (!format) return invalid_field("output_format", "the fake speaks raw pcm_*, ulaw_8000 or alaw_8000");
        int inactivity = q("inactivity_timeout").empty() ? 20 : std::atoi(q("inactivity_timeout").c_str());
        if (inactivity < 1 || inactivity > 180) return invalid_field("inactivity_timeout", "must be 1..180 seconds");
        std::size_t index;
        {
            std::lock_guard lock(impl.mutex);
            Stream s;
            s.query = request.target;
            s.output_format = format_name;
            s.auth_in_header = header_auth;
            impl.streams.push_back(std::move(s));
            index = impl.streams.size() - 1;
        }
        return std::unique_ptr<http::WsHandler>(std::make_unique<InputSession>(impl, index, *format, inactivity, header_auth));
    });
    impl.ws_server.start(impl.options.ws_port, 2);
}

ElevenLabsFake::~ElevenLabsFake() = default;

std::string ElevenLabsFake::base_url() const { return "http://127.0.0.1:" + std::to_string(m_impl->http.port()); }
std::string ElevenLabsFake::ws_url() const { return "ws://127.0.0.1:" + std::to_string(m_impl->ws_server.port()); }

void ElevenLabsFake::push_fault(Fault fault) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->faults.push_back(fault);
}

int ElevenLabsFake::requests() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->requests;
}

std::vector<std::string> ElevenLabsFake::http_texts() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->http_texts;
}

int ElevenLabsFake::in_flight() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->in_flight;
}

int ElevenLabsFake::max_in_flight() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->max_in_flight;
}

std::size_t ElevenLabsFake::audio_bytes_sent() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->audio_bytes;
}

int ElevenLabsFake::held() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->held;
}

void ElevenLabsFake::release() {
    std::lock_guard lock(m_impl->mutex);
    m_impl->released = true;
}

std::vector<ElevenLabsFake::Stream> ElevenLabsFake::streams() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->streams;
}

}  // namespace va::fake
