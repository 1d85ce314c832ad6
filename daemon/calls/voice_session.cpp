// A voice call over any media transport (local PCM16, Twilio, Exotel): the adapter between the transport, the
// store and events on one side and the call's pipeline (core/pipeline/voice_call) on the other. The MediaCodec
// turns the transport's messages into caller audio and events and encodes what the agent sends; the guard admits
// what the caller's stream may send; the recorder taps both directions; everything else (turns, replies,
// barge-in, reprompts, transfers, the goodbye, provider fallbacks) is the VoiceCall's, reached through its
// CallPort, which this session implements with the call record, events and the LLM of SessionBase.
#include <spdlog/spdlog.h>

#include <memory>

#include "core/audio/call_recorder.hpp"
#include "core/pipeline/caller_media_guard.hpp"
#include "core/pipeline/voice_call.hpp"
#include "core/util/time.hpp"
#include "daemon/calls/session_base.hpp"

namespace va {

using nlohmann::json;

namespace {

class VoiceSession final : public SessionBase, private MediaSink {
public:
    VoiceSession(CallManager& manager, Call call, json agent, const json& variables, std::unique_ptr<LlmClient> llm,
                 bool simulated, std::unique_ptr<MediaCodec> codec)
        : SessionBase(manager, std::move(call), std::move(agent), variables, std::move(llm)),
          m_simulated(simulated),
          m_codec(std::move(codec)),
          m_guard(manager.media_limits()),
          m_port(*this) {
        m_max_call_ms = std::int64_t(m_agent.value("max_call_s", 600)) * 1000;
    }

    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        m_conn = connection;
        attach(connection);
        if (m_codec->starts_on_open()) start_call({});
    }

    void on_text(std::string_view message) override {
        if (!m_ended && admit_message(message)) m_codec->parse(message, false, *this);
    }

    // The media event, when the codec's scanner takes it; a message over media.max_message_bytes is left to
    // on_text, which counts and reports it.
    bool take_checked_text(std::string_view message) override {
        return !m_ended && message.size() <= m_guard.limits().max_message_bytes && m_codec->parse_media(message, *this);
    }

    void on_binary(std::string_view message) override {
        if (!m_ended && admit_message(message)) m_codec->parse(message, true, *this);
    }

    void on_close() override {
        // The caller's side went away without a stop message (a dropped connection).
        if (!m_ended) end("caller_disconnected", 0);
        m_manager.forget(m_call.id);
    }

    // The goodbye: see VoiceCall::drain. Before the stream started nobody listens, so the call just ends.
    void drain(const std::string& goodbye) override {
        if (m_ended) return;
        if (!m_voice) return stop("daemon_shutdown");
        m_voice->drain(goodbye);
    }

    void transfer(const std::string& number) override {
        if (m_ended || !m_transfer.empty()) return;
        if (m_voice) return m_voice->transfer(number);
        m_port.hand_over("transferred:" + number, number);
    }

private:
    // --- the transport ---------------------------------------------------------------------------------------

    void on_media_start(const json& info) override {
        if (m_voice) return on_media_error("a second start message was ignored");
        start_call(info);
    }

    void on_media_audio(std::span<const std::int16_t> samples, std::string_view wire) override {
        if (!m_voice || m_ended) return;
        std::size_t offered = samples.size();
        samples = admit_audio(samples);  // beyond real time and its allowance: dropped here, before anything keeps it
        if (samples.empty()) return;
        if (!wire.empty()) wire = wire.substr(0, wire.size() / offered * samples.size());
        if (m_recorder) record_caller(samples);
        m_voice->hear({samples, wire});
    }

    void on_media_dtmf(const std::string& digit) override {
        if (!CallerMediaGuard::dtmf_valid(digit)) return on_media_error("dtmf needs one digit: 0-9, *, #, A-D");
        if (!m_voice || !m_voice->has_speaker() || !m_guard.admit_dtmf(m_exec->now_ms())) return;
        m_voice->dtmf(digit);
    }

    // Local clients' marks are echoed back; carriers echo ours, and the one after a closing reply ends the call.
    void on_media_mark(const std::string& name) override {
        if (!m_guard.mark_fits(name.size()))
            return on_media_error("a mark name is limited to " + std::to_string(m_guard.limits().max_mark_bytes) + " bytes");
        if (m_voice && m_voice->mark(name)) return;
        send({{"type", "mark"}, {"name", name}});
    }

    void on_media_stop(const std::string& reason) override { end(reason, 1000); }

    void on_media_error(const std::string& message) override {
        auto text = m_guard.report_error(message);  // a flood of junk must not flood the log
        if (!text) return;
        spdlog::warn("call {}: media: {}", m_call.id, *text);
        send({{"type", "error"}, {"message", *text}});
    }

    void send(const json& message) override {
        auto conn = m_conn.lock();
        if (!conn) return;
        if (auto text = m_codec->control(message)) conn->send_text(std::move(*text));
    }

    bool admit_message(std::string_view message) {  // media.max_message_bytes: a larger one is not parsed
        if (m_guard.admit_message(message.size())) return true;
        on_media_error("a media message of " + std::to_string(message.size()) + " bytes is over the limit");
        return false;
    }

    // Caller audio is taken at real time plus media.ahead_ms, up to the call's byte cap; the rest is dropped here,
    // before anything records or buffers it.
    std::span<const std::int16_t> admit_audio(std::span<const std::int16_t> samples) {
        std::size_t n = m_guard.admit_audio(samples.size(), m_exec->now_ms());
        if (m_guard.first_drop())
            spdlog::warn("call {}: caller audio runs ahead of real time; beyond {} ms ahead it is dropped", m_call.id,
                         m_guard.limits().ahead_ms);
        if (n < samples.size() && m_guard.audio_exhausted() && !m_ended) {
            spdlog::warn("call {}: the caller sent all the audio a call may carry; ending it", m_call.id);
            end("caller_audio_limit", 1008);
            return {};
        }
        return samples.first(n);
    }

    void record_caller(std::span<const std::int16_t> samples) {
        auto at = now_ms() - m_started;
        m_recorder->caller(samples, at);
        if (at - m_recorder_flushed_ms >= 1000) {
            if (auto s = m_recorder->flush(at); !s) {
                spdlog::error("call {}: {}; recording stopped", m_call.id, s.error().message);
                m_recorder.reset();
            }
            m_recorder_flushed_ms = at;
        }
    }

    // The caller's audio counts go into the call's metrics.
    void on_ending() override { m_metrics_extra["caller_audio"] = m_guard.metrics(); }

    void on_ended() override {
        if (m_voice) m_voice->ended();
        if (!m_recorder) return;
        if (auto s = m_recorder->close(now_ms() - m_started); !s) spdlog::error("call {}: {}", m_call.id, s.error().message);
        m_recorder.reset();
    }

    // The stream is up: the call starts, and its pipeline builds the providers and greets the caller.
    void start_call(const json& info) {
        auto connection = m_conn.lock();
        if (!connection) return;
        int rate = m_codec->sample_rate();
        m_guard.start(rate, m_max_call_ms, m_exec->now_ms());
        m_lateness = m_manager.pacing_histogram(m_call.channel);
        VoiceCallOptions options;
        options.call_id = m_call.id;
        options.transport = AudioFormat{m_codec->encoding(), rate, 1};
        options.chunk_samples = m_codec->chunk_samples();
        options.max_utterance_ms = m_guard.limits().max_utterance_ms;
        options.simulated = m_simulated;
        options.tts_chain = chain_names("tts");
        options.stt_chain = chain_names("stt");
        m_voice = std::make_unique<VoiceCall>(m_exec, m_port, m_agent, m_conversation, std::move(options));
        if (m_manager.recording_enabled()) {
            auto recorder = CallRecorder::open(m_manager.recording_path(m_call.id), rate, m_guard.recording_max_bytes());
            if (recorder) m_recorder = std::move(recorder).value();
            else spdlog::error("call {}: {}", m_call.id, recorder.error().message);
        }
        json extra{{"sample_rate", rate}, {"encoding", "pcm16"}, {"channels", 1}};
        if (m_simulated) extra["recognition"] = "simulated";
        if (info.is_object() && !info.empty()) extra["stream"] = info;
        begin(connection, extra);
        m_exec->post_after(int(m_max_call_ms), [this] {
            if (!m_ended) end("max_duration", 1000);
        });
        m_voice->start();
    }

    std::vector<std::string> chain_names(const std::string& stage) const {
        std::vector<std::string> names;
        for (const auto& entry : CallManager::provider_chain(m_agent, stage)) names.push_back(entry.value("provider", ""));
        return names;
    }

    // A time of the executor's monotonic clock on the wall clock the call record uses.
    std::int64_t wall(std::int64_t monotonic) const { return now_ms() - (m_exec->now_ms() - monotonic); }

    // The VoiceCall's view of this session.
    class Port final : public CallPort {
    public:
        explicit Port(VoiceSession& session) : s(session) {}

        void send_frame(std::string_view wire, std::size_t real, std::int64_t late_ms) override {
            auto conn = s.m_conn.lock();
            if (!conn || s.m_ended) return;
            if (s.m_recorder) {  // the only consumer of the agent's samples here: decoded just for it
                AudioFormat format{s.m_codec->encoding(), s.m_codec->sample_rate(), 1};
                s.m_agent_pcm.clear();  // decode_audio appends
                decode_audio(format.encoding, wire.substr(0, real * format.bytes_per_sample()), s.m_agent_pcm);
                s.m_recorder->agent(s.m_agent_pcm, now_ms() - s.m_started);
            }
            s.m_lateness->observe(double(late_ms) / 1000.0);
            auto message = s.m_codec->audio(wire);
            if (message.binary) conn->send_binary(std::move(message.data));
            else conn->send_text(std::move(message.data));
        }
        void send_clear() override {
            if (auto conn = s.m_conn.lock())
                if (auto clear = s.m_codec->clear()) conn->send_text(std::move(*clear));
        }
        bool send_mark(const std::string& name) override {
            auto conn = s.m_conn.lock();
            auto mark = s.m_codec->mark(name);
            if (!conn || !mark) return false;
            conn->send_text(std::move(*mark));
            return true;
        }
        void send_control(const json& message) override { s.send(message); }
        void publish(const std::string& event, const json& data) override { s.m_manager.publish(s.m_call, event, data); }
        void store_turn(const std::string& role, const std::string& text, std::int64_t from, std::int64_t to,
                        bool interrupted, const std::string& source) override {
            s.store_turn(role, text, s.wall(from), s.wall(to), interrupted, source);
        }
        void record_turn(const json& metrics) override {
            s.m_turn_metrics.push_back(metrics);
            s.m_manager.record_turn(s.m_call, metrics);
        }
        json& call_metrics() override { return s.m_metrics_extra; }
        // The responder's sentences go to the call as they complete: the reply is split once, there.
        void ask(const std::string& text, std::int64_t from, std::int64_t to, const std::string& source,
                 AnswerSink sink) override {
            s.ask(text, s.wall(from), s.wall(to), source,
                  {std::move(sink.text), std::move(sink.sentence), [done = std::move(sink.done)](AgentReply r) {
                       done(va::Answer{std::move(r.status), std::move(r.end_reason), r.usage});
                   }});
        }
        void cancel_answer() override { s.cancel_answer(); }
        void end(const std::string& reason, CallClose close) override {
            s.end(reason, close == CallClose::failure ? 1011 : 1000);
        }
        void hand_over(const std::string& reason, const std::string& number) override {
            auto status = std::make_shared<Status>(Ok{});
            s.begin_transfer(reason);
            s.m_exec->run_blocking([this, number, status] { *status = s.m_manager.transfer(s.m_call, number); },
                                   [this, status] { s.finish_transfer(*status); });
        }
        Result<std::unique_ptr<TtsClient>> make_tts(std::size_t choice) override {
            return s.m_manager.make_tts(s.m_agent, choice);
        }
        Result<std::unique_ptr<SttClient>> make_stt(std::size_t choice) override {
            return s.m_manager.make_stt(s.m_agent, choice);
        }

    private:
        VoiceSession& s;
    };

    bool m_simulated;  // the caller's words are scripted (a simulate request)
    std::unique_ptr<MediaCodec> m_codec;
    CallerMediaGuard m_guard;  // what the caller's stream may send
    Port m_port;
    std::weak_ptr<http::WsConnection> m_conn;
    std::unique_ptr<VoiceCall> m_voice;  // from the stream's start
    std::unique_ptr<CallRecorder> m_recorder;
    std::vector<std::int16_t> m_agent_pcm;  // the frame being sent, decoded for the recorder (capacity reused)
    std::int64_t m_recorder_flushed_ms = 0;
    Histogram* m_lateness = nullptr;
    std::int64_t m_max_call_ms = 600000;
};

}  // namespace

std::unique_ptr<SessionBase> make_voice_session(CallManager& manager, Call call, json agent, const json& variables,
                                                    std::unique_ptr<LlmClient> llm, bool simulated,
                                                    std::unique_ptr<MediaCodec> codec) {
    return std::make_unique<VoiceSession>(manager, std::move(call), std::move(agent), variables, std::move(llm),
                                          simulated, std::move(codec));
}

}  // namespace va
