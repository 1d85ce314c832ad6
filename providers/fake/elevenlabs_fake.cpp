#include "providers/fake/elevenlabs_fake.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>

#include "core/audio/format.hpp"
#include "core/audio/g711.hpp"
#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/elevenlabs/tts.hpp"
#include "providers/fake/fake_server.hpp"
#include "providers/fake/speech.hpp"

namespace va::fake {

using nlohmann::json;

struct ElevenLabsFake::Impl {
    Options options;
    mutable std::mutex mutex;
    std::deque<Fault> faults;
    int requests = 0;
    std::vector<std::string> http_texts;
    std::vector<Stream> streams;
    httplib::Server http;
    std::thread http_thread;
    int http_port = 0;
    LoopbackServer ws_server;

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

// espeak-ng's voice for `text`, in the raw output format.
Result<std::string> speak(const std::string& text, const AudioFormat& format) {
    auto pcm = caller_speech(text, format.sample_rate);
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
    void on_close() override { m_done = true; }

private:
    // Buffered text becomes audio once the schedule's threshold is reached, or at once on flush.
    void generate(bool flush) {
        while (!m_buffer.empty()) {
            std::size_t threshold = std::size_t(m_schedule[std::min(m_chunk, m_schedule.size() - 1)]);
            if (!flush && m_buffer.size() < threshold) return;
            std::string piece = m_buffer;
            m_buffer.clear();
            ++m_chunk;
            m_jobs.push_back(piece);
        }
        pump();
    }

    // One synthesis at a time, in order, on the worker pool.
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
        std::string text = m_jobs.front();
        m_jobs.pop_front();
        auto fault = m_fake.next_request();
        if (fault && fault->kind == ElevenLabsFake::Fault::status) {
            send(json{{"message", fault_message(fault->http_status)}, {"error", fault_status_string(*fault)}, {"code", 1011}});
            return finish(1011, fault_status_string(*fault));
        }
        m_busy = true;
        auto audio = std::make_shared<Result<std::string>>(make_error(ErrorCode::internal, ""));
        int delay = fault && fault->kind == ElevenLabsFake::Fault::slow_first_byte ? fault->delay_ms : 0;
        bool drop = fault && fault->kind == ElevenLabsFake::Fault::drop_mid_stream;
        conn->run_blocking(
            [audio, text, format = m_format, delay] {
                if (delay) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
                *audio = speak(text, format);
            },
            [this, audio, text, drop] {
                m_busy = false;
                if (m_done) return;
                if (!*audio) {
                    send(json{{"message", audio->error().message}, {"error", "internal_error"}, {"code", 1011}});
                    return finish(1011, "internal_error");
                }
                send_audio(**audio, text, drop);
                if (!drop) pump();
            });
    }

    // Chunks of about 200 ms, each with the alignment of its share of the characters (times relative to it).
    void send_audio(const std::string& bytes, const std::string& text, bool drop) {
        std::size_t chunk = m_format.bytes_for_ms(200);
        std::size_t chunks = std::max<std::size_t>(1, (bytes.size() + chunk - 1) / chunk);
        std::size_t per = (text.size() + chunks - 1) / chunks;
        for (std::size_t i = 0; i < chunks; ++i) {
            if (drop && i == chunks / 2) return finish(1011, "connection dropped by the fake");
            std::string part = bytes.substr(i * chunk, chunk);
            std::string chars = i * per < text.size() ? text.substr(i * per, per) : "";
            json list = json::array(), starts = json::array(), durations = json::array();
            double step = chars.empty() ? 0 : m_format.duration_ms(part.size()) / double(chars.size());
            for (std::size_t c = 0; c < chars.size(); ++c) {
                list.push_back(std::string(1, chars[c]));
                starts.push_back(int(double(c) * step));
                durations.push_back(int(step));
            }
            json alignment{{"chars", list}, {"charStartTimesMs", starts}, {"charDurationsMs", durations}};
            send(json{{"audio", base64_encode(part)}, {"isFinal", nullptr}, {"normalizedAlignment", alignment},
                      {"alignment", alignment}});
        }
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
    bool m_initialised = false, m_done = false, m_busy = false, m_final_after_queue = false;
    std::vector<int> m_schedule;
    std::size_t m_chunk = 0;
    std::string m_buffer;
    std::deque<std::string> m_jobs;
};

}  // namespace

ElevenLabsFake::ElevenLabsFake(Options options) : m_impl(std::make_unique<Impl>()) {
    m_impl->options = std::move(options);
    Impl& impl = *m_impl;
    impl.http.Post(R"(/v1/text-to-speech/([^/]+)/stream)", [&impl](const httplib::Request& req, httplib::Response& res) {
        if (req.get_header_value("xi-api-key") != impl.options.api_key)
            return answer_json(res, 401, detail("invalid_api_key", "Invalid API key"));
        std::string format_name = req.has_param("output_format") ? req.get_param_value("output_format") : "mp3_44100_128";
        auto format = elevenlabs::parse_output_format(format_name);
        if (!format)
            return answer_json(res, 422, {{"detail", {{{"loc", {"query", "output_format"}}, {"msg", "the fake speaks raw pcm_*, ulaw_8000 or alaw_8000"}, {"type", "value_error"}}}}});
        json body = parse_json(req.body);
        if (!body.is_object() || !body.contains("text") || !body["text"].is_string() || body["text"].get<std::string>().empty())
            return answer_json(res, 422, {{"detail", {{{"loc", {"body", "text"}}, {"msg", "field required"}, {"type", "value_error.missing"}}}}});
        std::string text = body["text"];
        {
            std::lock_guard lock(impl.mutex);
            impl.http_texts.push_back(text);
        }
        auto fault = impl.next_request();
        if (fault && fault->kind == Fault::status) {
            std::string status = fault_status_string(*fault);
            if (fault->http_status == 422)
                return answer_json(res, 422, {{"detail", {{{"loc", {"body", "text"}}, {"msg", "scripted validation error"}, {"type", "value_error"}}}}});
            return answer_json(res, fault->http_status, detail(status, fault_message(fault->http_status)));
        }
        auto audio = speak(text, *format);
        if (!audio) return answer_json(res, 500, detail("internal_error", audio.error().message));
        bool drop = fault && fault->kind == Fault::drop_mid_stream;
        int delay = fault && fault->kind == Fault::slow_first_byte ? fault->delay_ms : 0;
        stream_body(res, format->encoding == Encoding::pcm16 ? "audio/pcm" : "audio/basic", std::move(audio).value(),
                    format->bytes_for_ms(100), drop, delay);
    });
    impl.http_port = impl.options.port ? (impl.http.bind_to_port("127.0.0.1", impl.options.port) ? impl.options.port : -1)
                                       : impl.http.bind_to_any_port("127.0.0.1");
    if (impl.http_port <= 0) throw std::runtime_error("fake ElevenLabs cannot listen");
    serve_in_background(impl.http, impl.http_thread);

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

ElevenLabsFake::~ElevenLabsFake() {
    m_impl->http.stop();
    if (m_impl->http_thread.joinable()) m_impl->http_thread.join();
}

std::string ElevenLabsFake::base_url() const { return "http://127.0.0.1:" + std::to_string(m_impl->http_port); }
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

std::vector<ElevenLabsFake::Stream> ElevenLabsFake::streams() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->streams;
}

}  // namespace va::fake
