// A voice call over any media transport (local PCM16, Twilio, Exotel): the adapter between the transport, the
// store and events on one side and the call's pipeline parts (core/pipeline) on the other. The MediaCodec turns
// the transport's messages into caller audio and events, and encodes what the agent sends; the TurnDetector turns
// caller audio into turns; the LLM answer (SessionBase::ask) streams its text into the Speaker, which sends paced
// frames back. The call's CallState decides what caller speech may do: interrupt the agent (barge-in keeps in the
// conversation only the part of the reply that was played), start a turn, or nothing while the call is on its way
// out. Cloud providers connect when the media does (warm start); a failing provider hands the call to the next
// one the agent lists for that stage (a call:error event and the call's metrics say so). DTMF digits reach the
// conversation as a caller turn.
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "core/audio/call_recorder.hpp"
#include "core/pipeline/barge_in.hpp"
#include "core/pipeline/call_state.hpp"
#include "core/pipeline/caller_media_guard.hpp"
#include "core/pipeline/speaker.hpp"
#include "core/pipeline/turn_detector.hpp"
#include "core/util/time.hpp"
#include "daemon/calls/session_base.hpp"

namespace va {

using nlohmann::json;

namespace {

// The call's strand, timers and worker pool as the pipeline parts' Executor. Provider threads post through it; a
// task posted after the connection is gone is dropped, and while it lives, so does the session (it owns it).
class ConnectionExecutor final : public Executor {
public:
    explicit ConnectionExecutor(std::weak_ptr<http::WsConnection> connection) : m_conn(std::move(connection)) {}
    std::int64_t now_ms() const override {
        if (auto c = m_conn.lock()) return c->monotonic_ms();
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    void post(std::function<void()> task) override {
        if (auto c = m_conn.lock()) c->post(std::move(task));
    }
    void post_after(int ms, std::function<void()> task) override {
        if (auto c = m_conn.lock()) c->post_after(ms, std::move(task));
    }
    void run_blocking(std::function<void()> work, std::function<void()> then) override {
        if (auto c = m_conn.lock()) c->run_blocking(std::move(work), std::move(then));
    }

private:
    const std::weak_ptr<http::WsConnection> m_conn;  // set before any provider runs, never written again
};

class VoiceSession final : public SessionBase, private MediaSink {
public:
    VoiceSession(CallManager& manager, Call call, json agent, const json& variables, std::unique_ptr<LlmClient> llm,
                 std::vector<std::string> caller_lines, std::unique_ptr<MediaCodec> codec)
        : SessionBase(manager, std::move(call), std::move(agent), variables, std::move(llm)),
          m_caller_lines(std::move(caller_lines)),
          m_codec(std::move(codec)),
          m_guard(manager.media_limits()),
          m_policy(m_agent) {
        const json silence = m_agent.value("silence", json::object());
        m_silence.timeout_ms = silence.value("timeout_ms", 8000);
        m_silence.reprompt = silence.value("reprompt", std::string("Are you still there?"));
        m_silence.max_reprompts = silence.value("max_reprompts", 2);
        m_max_call_ms = std::int64_t(m_agent.value("max_call_s", 600)) * 1000;
    }

    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        m_conn = connection;
        m_connection = connection;
        m_exec = std::make_shared<ConnectionExecutor>(m_conn);
        if (m_codec->starts_on_open()) start_call({});
    }

    void on_text(std::string_view message) override {
        if (!m_ended && admit_message(message)) m_codec->parse(message, false, *this);
    }

    void on_binary(std::string_view message) override {
        if (!m_ended && admit_message(message)) m_codec->parse(message, true, *this);
    }

    void on_close() override {
        // The caller's side went away without a stop message (a dropped connection).
        if (!m_ended) end("caller_disconnected", 0);
        m_manager.forget(m_call.id);
    }

private:
    // --- the transport ---------------------------------------------------------------------------------------

    void on_media_start(const json& info) override {
        if (m_state != CallState::connecting) return on_media_error("a second start message was ignored");
        start_call(info);
    }

    void on_media_audio(std::span<const std::int16_t> samples, std::string_view wire) override {
        if (m_state == CallState::connecting || m_ended) return;
        std::size_t offered = samples.size();
        samples = admit_audio(samples);  // beyond real time and its allowance: dropped here, before anything keeps it
        if (samples.empty()) return;
        if (!wire.empty()) wire = wire.substr(0, wire.size() / offered * samples.size());
        if (m_recorder) record_caller(samples);
        m_turns->hear({samples, wire});
    }

    // A key press is a caller turn of its own ("5", "#"), so agents can offer menus.
    void on_media_dtmf(const std::string& digit) override {
        if (!CallerMediaGuard::dtmf_valid(digit)) return on_media_error("dtmf needs one digit: 0-9, *, #, A-D");
        if (!m_speaker || !m_speaker->provider() || !m_guard.admit_dtmf(m_exec->now_ms())) return;
        m_manager.publish(m_call, "call:dtmf", {{"digit", digit}});
        if (speaking(m_state)) barge_in();
        auto at = m_exec->now_ms();
        user_said({digit, 1.0, "dtmf"}, at, at);
    }

    // Local clients' marks are echoed back; carriers echo ours, and the one after a closing reply ends the call.
    void on_media_mark(const std::string& name) override {
        if (!m_guard.mark_fits(name.size()))
            return on_media_error("a mark name is limited to " + std::to_string(m_guard.limits().max_mark_bytes) + " bytes");
        if (m_state == CallState::closing && name == m_reply.closing_mark) return after_reply();
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
        CallState was = std::exchange(m_state, CallState::ended);
        if (m_turns) m_turns->close();
        if (speaking(was)) {
            // The call ended mid-reply (the caller hung up or vanished): keep what they heard of it.
            std::string heard = heard_part();
            store_turn("agent", heard, wall(m_reply.from), now_ms(), true, "llm");
            m_manager.publish(m_call, "call:transcript",
                              {{"role", "agent"}, {"text", heard}, {"final", true}, {"interrupted", true}});
        }
        if (m_speaker) m_speaker->stop();
        if (!m_recorder) return;
        if (auto s = m_recorder->close(now_ms() - m_started); !s) spdlog::error("call {}: {}", m_call.id, s.error().message);
        m_recorder.reset();
    }

    // --- the call's life -------------------------------------------------------------------------------------

    // The stream is up: the call starts, the providers are built off the strand (model loading takes a moment),
    // then the agent greets the caller.
    void start_call(const json& info) {
        auto connection = m_conn.lock();
        if (!connection) return;
        m_state = CallState::starting;
        int rate = m_codec->sample_rate();
        AudioFormat transport{m_codec->encoding(), rate, 1};
        m_guard.start(rate, m_max_call_ms, m_exec->now_ms());
        m_lateness = m_manager.pacing_histogram(m_call.channel);
        m_turns = std::make_unique<TurnDetector>(m_exec, turn_events(), transport, vad_options(m_agent),
                                                 m_guard.limits().max_utterance_ms);
        m_speaker = std::make_unique<Speaker>(m_exec, speaker_events(), transport, m_codec->chunk_samples());
        if (m_manager.recording_enabled()) {
            auto recorder = CallRecorder::open(m_manager.recording_path(m_call.id), rate, m_guard.recording_max_bytes());
            if (recorder) m_recorder = std::move(recorder).value();
            else spdlog::error("call {}: {}", m_call.id, recorder.error().message);
        }
        json extra{{"sample_rate", rate}, {"encoding", "pcm16"}, {"channels", 1}};
        if (!m_caller_lines.empty()) extra["recognition"] = "simulated";
        if (info.is_object() && !info.empty()) extra["stream"] = info;
        begin(connection, extra);
        m_exec->post_after(int(m_max_call_ms), [this] {
            if (!m_ended) end("max_duration", 1000);
        });
        auto tts = std::make_shared<Result<std::unique_ptr<TtsClient>>>(make_error(ErrorCode::internal, ""));
        auto stt = std::make_shared<Result<std::unique_ptr<SttClient>>>(make_error(ErrorCode::internal, ""));
        m_exec->run_blocking(
            [this, tts, stt] {
                *tts = m_manager.make_tts(m_agent);
                *stt = m_manager.make_stt(m_agent, m_caller_lines);
            },
            [this, tts, stt] {
                if (m_ended) return;
                if (!*tts || !*stt) {
                    const Error& e = !*tts ? tts->error() : stt->error();
                    m_manager.publish(m_call, "call:error", {{"message", e.message}});
                    send({{"type", "error"}, {"message", e.message}});
                    return end("provider_error", 1011);
                }
                // Warm start: cloud providers connect now, while the greeting is on its way.
                m_speaker->use(std::move(*tts).value(), CallManager::provider_chain(m_agent, "tts").size(),
                               [this](std::size_t choice) { return m_manager.make_tts(m_agent, choice); });
                m_turns->use(std::move(*stt).value(), CallManager::provider_chain(m_agent, "stt").size(),
                             [this](std::size_t choice) { return m_manager.make_stt(m_agent, m_caller_lines, choice); });
                if (m_state != CallState::starting) return;  // a goodbye or a transfer came first
                if (!m_conversation.greeting().empty()) speak(m_conversation.greeting(), "", false);
                else listen();
            });
    }

    static VadOptions vad_options(const json& agent) {
        VadOptions o;
        if (agent.contains("stt") && agent["stt"].is_object()) o.end_ms = agent["stt"].value("endpointing_ms", o.end_ms);
        return o;
    }

    // The goodbye cuts off whatever the agent was saying, cannot be talked over, and ends the call once heard (or
    // after 15 s at the most, should the carrier never confirm it).
    void drain(const std::string& goodbye) override {
        if (m_ended || m_state == CallState::goodbye || m_state == CallState::handing_over) return;
        if (m_state == CallState::connecting) return stop("daemon_shutdown");  // nobody listens yet
        if (speaking(m_state)) barge_in();
        cancel_answer();
        speak(goodbye, "daemon_shutdown", false, CallState::goodbye);
        m_exec->post_after(15000, [this] {
            if (!m_ended) end("daemon_shutdown", 1000);
        });
    }

    // An API transfer cuts off whatever the agent was saying and asks the carrier to connect the caller to `number`
    // at once, as the agent's transfer_call does after its last words. No new turn starts meanwhile.
    void transfer(const std::string& number) override {
        if (m_ended || !m_transfer.empty()) return;
        if (speaking(m_state)) barge_in();
        cancel_answer();
        m_reply.end_after.clear();
        hand_over("transferred:" + number);
    }

    // transfer_call: the carrier connects the caller to the number (Twilio needs its new instructions before the
    // stream closes, or the call would simply end), then the stream closes.
    void hand_over(const std::string& reason) {
        m_state = CallState::handing_over;
        std::string number = reason.substr(std::string("transferred:").size());
        auto status = std::make_shared<Status>(Ok{});
        begin_transfer(reason);
        m_exec->run_blocking([this, number, status] { *status = m_manager.transfer(m_call, number); },
                             [this, status] { finish_transfer(*status); });
    }

    // --- caller side -----------------------------------------------------------------------------------------

    TurnEvents turn_events() {
        TurnEvents e;
        e.speech_started = [this] { ++m_silence.generation; };  // the caller is talking: no reprompt
        e.speaking = [this](int speech_ms, std::int64_t started_at) {
            if (speaking(m_state) && m_policy.speech_interrupts(speech_ms, started_at, m_reply.from)) barge_in();
        };
        e.interim = [this](const std::string& text) { heard_partial(text); };
        e.heard = [this](const Result<Transcript>& heard, std::int64_t speech_end, std::int64_t at) {
            recognized(heard, speech_end, at);
        };
        e.fallback = [this](std::size_t next, const Error& error) { fallback("stt", next, error); };
        e.provider = [this](const std::string& name) { note_provider("stt", name); };
        e.failed = [this](const Error& error) {
            if (m_ended) return;
            m_manager.publish(m_call, "call:error", {{"stage", "stt"}, {"message", error.message}});
            end("provider_error", 1011);
        };
        return e;
    }

    void heard_partial(const std::string& text) {
        json interim{{"role", "user"}, {"text", text}, {"final", false}};
        if (!m_caller_lines.empty()) interim["source"] = "simulated";
        m_manager.publish(m_call, "call:transcript", interim);
        send({{"type", "interim"}, {"text", text}});
        if (speaking(m_state) && m_policy.words_interrupt(text)) barge_in();
    }

    void recognized(const Result<Transcript>& result, std::int64_t speech_end, std::int64_t recognized_at) {
        if (!result) {
            m_manager.publish(m_call, "call:error", {{"message", result.error().message}});
        } else if (!result->text.empty() && speaking(m_state) && m_policy.is_backchannel(result->text)) {
            // "okay", "uh-huh" while the agent talks: the caller is listening, not taking the turn.
            m_manager.publish(m_call, "call:transcript", {{"role", "user"}, {"text", result->text},
                                                          {"final", true}, {"backchannel", true}});
        } else if (!result->text.empty()) {
            if (speaking(m_state)) barge_in();
            user_said(*result, speech_end, recognized_at);
        } else if (m_state == CallState::listening) {
            listen();  // nothing understood: keep waiting, the silence timer still runs
        }
    }

    // The caller's turn: the reply is spoken sentence by sentence as the LLM writes it.
    void user_said(const Transcript& heard, std::int64_t speech_end, std::int64_t recognized_at) {
        if (!takes_turns(m_state)) return;  // a goodbye, a transfer: no new turn
        m_silence.reprompts = 0;
        m_metrics = json{{"stt_ms", recognized_at - speech_end}};
        m_turn_started = speech_end;
        begin_reply(true, CallState::replying);
        int reply = m_reply.number;
        ask(heard.text, wall(speech_end), wall(recognized_at), heard.source,
            [this, reply](const std::string& token) {
                if (reply != m_reply.number) return;
                if (!m_metrics.contains("llm_first_token_ms")) m_metrics["llm_first_token_ms"] = m_exec->now_ms() - m_turn_started;
                m_reply.text += token;
                m_speaker->add_text(token);
            },
            [this, reply](Reply answer) {
                if (reply != m_reply.number) return;
                if (answer.usage.prompt_tokens || answer.usage.completion_tokens) {
                    m_metrics["llm_prompt_tokens"] = answer.usage.prompt_tokens;
                    m_metrics["llm_completion_tokens"] = answer.usage.completion_tokens;
                }
                if (!answer.status && m_reply.text.empty())
                    return speak("Sorry, I am having trouble answering right now.", "", true);
                end_text(answer.end_reason);
            });
    }

    // --- agent side ------------------------------------------------------------------------------------------

    SpeakerEvents speaker_events() {
        SpeakerEvents e;
        e.first_audio = [this] {
            if (!m_metrics.contains("tts_first_audio_ms") && m_turn_started)
                m_metrics["tts_first_audio_ms"] = m_exec->now_ms() - m_turn_started;
        };
        e.frame = [this](std::span<const std::int16_t> chunk, std::size_t real, std::int64_t late_ms) {
            send_frame(chunk, real, late_ms);
        };
        e.done = [this] { finish_reply(); };
        e.failed = [this](const Error& error) {
            if (!m_ended) m_manager.publish(m_call, "call:error", {{"stage", "tts"}, {"message", error.message}});
        };
        e.fallback = [this](std::size_t next, const Error& error) { fallback("tts", next, error); };
        e.provider = [this](const std::string& name) { note_provider("tts", name); };
        return e;
    }

    void send_frame(std::span<const std::int16_t> chunk, std::size_t real, std::int64_t late_ms) {
        auto conn = m_conn.lock();
        if (!conn || m_ended) return;
        if (!m_metrics.contains("voice_to_voice_ms") && m_turn_started)
            m_metrics["voice_to_voice_ms"] = m_exec->now_ms() - m_turn_started;
        if (m_recorder) m_recorder->agent(chunk.first(real), now_ms() - m_started);
        m_lateness->observe(double(late_ms) / 1000.0);
        auto message = m_codec->audio(chunk);
        if (message.binary) conn->send_binary(std::move(message.data));
        else conn->send_text(std::move(message.data));
    }

    // A whole reply at once: the greeting, a reprompt, an apology, the goodbye.
    void speak(const std::string& text, std::string end_reason, bool remember, CallState as = CallState::replying) {
        begin_reply(remember, as);
        m_reply.text = text;
        m_speaker->add_text(text);
        end_text(std::move(end_reason));
    }

    void begin_reply(bool remember, CallState as) {
        m_state = as;
        ++m_reply.number;
        m_reply.text.clear();
        m_reply.remember = remember;
        m_reply.from = m_exec->now_ms();
        m_reply.end_after.clear();
        m_speaker->start_reply();
    }

    void end_text(std::string end_reason) {
        m_reply.end_after = std::move(end_reason);
        m_speaker->end_text();
    }

    void finish_reply() {
        if (m_reply.remember) m_conversation.add_agent(m_reply.text);
        store_turn("agent", m_reply.text, wall(m_reply.from), now_ms(), false, "llm");
        publish_transcript("agent", m_reply.text, true, "");
        send({{"type", "agent"}, {"text", m_reply.text}});
        if (m_turn_started) {
            m_turn_metrics.push_back(m_metrics);
            m_manager.record_turn(m_call, m_metrics);
            m_turn_started = 0;
        }
        if (m_state == CallState::handing_over || m_ended) return;  // an API transfer cut in during a goodbye
        // Carriers buffer what we send: a mark after the reply comes back when the caller has heard all of it.
        auto conn = m_conn.lock();
        std::string name = "reply-" + std::to_string(m_reply.number);
        auto mark = m_codec->mark(name);
        if (conn && mark) conn->send_text(std::move(*mark));
        if (!m_reply.end_after.empty()) {
            m_state = CallState::closing;
            if (!conn || !mark) return after_reply();
            // The last words must be heard before the stream closes: wait for the echo (or at most 2 s).
            m_reply.closing_mark = name;
            return m_exec->post_after(2000, [this, name] {
                if (m_state == CallState::closing && m_reply.closing_mark == name) after_reply();
            });
        }
        listen();
    }

    // What the reply asked for once it has been played: hand the call over, or end it.
    void after_reply() {
        m_reply.closing_mark.clear();
        if (m_reply.end_after.rfind("transferred:", 0) == 0) return hand_over(m_reply.end_after);
        end(m_reply.end_after, 1000);
    }

    // The caller talked over the agent: stop, and remember only what was heard.
    void barge_in() {
        if (m_state == CallState::goodbye) return;
        ++m_reply.number;
        m_state = CallState::listening;
        m_reply.end_after.clear();
        m_speaker->stop();
        std::string heard = heard_part();  // of the audio known so far: the sentences not yet synthesized are gone
        cancel_answer();  // the LLM stops writing a reply nobody will hear
        if (auto conn = m_conn.lock())
            if (auto clear = m_codec->clear()) conn->send_text(std::move(*clear));
        if (m_reply.remember && !heard.empty()) m_conversation.add_agent(heard);
        store_turn("agent", heard, wall(m_reply.from), now_ms(), true, "llm");
        publish_transcript("agent", heard, true, "");
        m_manager.publish(m_call, "call:transcript", {{"role", "agent"}, {"text", heard}, {"final", true}, {"interrupted", true}});
        m_turn_started = 0;
    }

    // The words of the reply in proportion to the audio played (synthesis is roughly uniform in time per word).
    std::string heard_part() const {
        const std::string& text = m_reply.text;
        std::size_t cut = std::size_t(double(text.size()) * m_speaker->played_fraction());
        if (cut == 0) return "";
        while (cut < text.size() && text[cut] != ' ') ++cut;
        return text.substr(0, cut);
    }

    // Waits for the caller; after the agent's silence timeout the reprompt, and after the last one the call ends.
    void listen() {
        m_state = CallState::listening;
        send({{"type", "listening"}});
        int generation = ++m_silence.generation;
        m_exec->post_after(m_silence.timeout_ms, [this, generation] {
            if (generation != m_silence.generation || m_state != CallState::listening || m_turns->busy()) return;
            if (m_silence.reprompts >= m_silence.max_reprompts) return end("silence_timeout", 1000);
            ++m_silence.reprompts;
            speak(m_silence.reprompt, "", false);
        });
    }

    // --- provider failures --------------------------------------------------------------------------------

    void note_provider(const std::string& stage, const std::string& name) {
        if (!name.empty()) m_metrics_extra["providers"][stage] = name;
    }

    void fallback(const std::string& stage, std::size_t next, const Error& error) {
        std::string from = m_metrics_extra.contains("providers") ? m_metrics_extra["providers"].value(stage, "") : "";
        auto chain = CallManager::provider_chain(m_agent, stage);
        std::string to = next < chain.size() ? chain[next].value("provider", "") : "";
        spdlog::warn("call {}: {} provider {} failed ({}); switching to {}", m_call.id, stage, from, error.message, to);
        json what{{"stage", stage}, {"provider", from}, {"fallback", to}, {"message", error.message},
                  {"at_ms", offset(now_ms())}};
        m_manager.publish(m_call, "call:error", what);
        m_metrics_extra["fallbacks"].push_back(what);
    }

    // A time of the executor's monotonic clock on the wall clock the call record uses.
    std::int64_t wall(std::int64_t monotonic) const { return now_ms() - (m_exec->now_ms() - monotonic); }

    std::vector<std::string> m_caller_lines;
    std::unique_ptr<MediaCodec> m_codec;
    CallerMediaGuard m_guard;  // what the caller's stream may send
    BargeInPolicy m_policy;
    std::weak_ptr<http::WsConnection> m_conn;
    std::shared_ptr<ConnectionExecutor> m_exec;
    CallState m_state = CallState::connecting;
    std::unique_ptr<TurnDetector> m_turns;
    std::unique_ptr<Speaker> m_speaker;
    std::unique_ptr<CallRecorder> m_recorder;
    std::int64_t m_recorder_flushed_ms = 0;
    Histogram* m_lateness = nullptr;
    std::int64_t m_max_call_ms = 600000;
    struct Silence {
        int timeout_ms = 8000;
        std::string reprompt;
        int max_reprompts = 2;
        int reprompts = 0;
        int generation = 0;  // a newer listen() or caller speech makes an older timer stale
    } m_silence;
    struct ReplyInfo {
        int number = 0;  // a barge-in or a newer reply makes older LLM callbacks stale
        std::string text;
        bool remember = false;     // the LLM's replies join the conversation; greetings and reprompts do not
        std::int64_t from = 0;     // when it began (monotonic)
        std::string end_after;     // what happens once it has been heard: an end reason or "transferred:<number>"
        std::string closing_mark;  // the mark whose echo says the last words were heard
    } m_reply;
    json m_metrics = json::object();  // this turn's latencies
    std::int64_t m_turn_started = 0;  // when the caller's turn ended (monotonic; 0: no caller turn in progress)
};

}  // namespace

std::unique_ptr<SessionBase> make_voice_session(CallManager& manager, Call call, json agent, const json& variables,
                                                    std::unique_ptr<LlmClient> llm, std::vector<std::string> caller_lines,
                                                    std::unique_ptr<MediaCodec> codec) {
    return std::make_unique<VoiceSession>(manager, std::move(call), std::move(agent), variables, std::move(llm),
                                          std::move(caller_lines), std::move(codec));
}

}  // namespace va
