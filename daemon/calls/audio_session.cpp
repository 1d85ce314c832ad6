// A local audio call: PCM16 mono 16 kHz binary frames both ways over /media/local/{id}, with JSON control
// messages. Turn taking from the VAD; recognition of each utterance on the worker pool; the reply split into
// sentences, each synthesized on the worker pool and resampled to 16 kHz; output paced in real time in 20 ms
// frames. Barge-in (caller speech for interruption.min_speech_ms while the agent speaks, or recognized words that
// are not backchannels such as "okay") drops queued audio, tells the client to clear, and keeps in the
// conversation only the part of the reply that was played; a backchannel alone does not interrupt.
// Protocol: out {"type":"start","sample_rate":16000,"encoding":"pcm16","channels":1,...}, binary agent audio,
// {"type":"clear"} on barge-in, {"type":"user"|"agent","text":...}, {"type":"listening"} when the agent has
// finished speaking, {"type":"end","reason":...}; in binary caller audio, {"type":"hangup"}, {"type":"mark","name"}
// (echoed back).
#include <spdlog/spdlog.h>

#include <cstring>
#include <deque>

#include "core/audio/resampler.hpp"
#include "core/audio/vad.hpp"
#include "core/pipeline/sentences.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "daemon/calls/session_base.hpp"

namespace va {

using nlohmann::json;

namespace {

constexpr int kRate = 16000;
constexpr std::size_t kFrame = kRate / 50;  // 20 ms
// Audio before the VAD decided speech started, kept for the recognizer: as long as the VAD's noise-floor window,
// because speech at the very start of a stream is only detected once the floor has seen a quieter frame.
constexpr std::size_t kPreroll = kRate * 3 / 2;
// How much new caller audio the recognizer gets at a time during an utterance (each piece may yield interim words).
constexpr std::size_t kInterimChunk = kRate * 3 / 10;

class AudioSession final : public SessionBase {
public:
    AudioSession(CallManager& manager, Call call, json agent, const json& variables, std::unique_ptr<LlmClient> llm,
                 std::vector<std::string> caller_lines)
        : SessionBase(manager, std::move(call), std::move(agent), variables, std::move(llm)),
          m_caller_lines(std::move(caller_lines)),
          m_vad(vad_options(m_agent)) {
        const json interruption = m_agent.value("interruption", json::object());
        m_barge_in = interruption.value("enabled", true);
        m_min_speech_ms = interruption.value("min_speech_ms", 300);
        const json silence = m_agent.value("silence", json::object());
        m_silence_ms = silence.value("timeout_ms", 8000);
        m_reprompt = silence.value("reprompt", std::string("Are you still there?"));
        m_max_reprompts = silence.value("max_reprompts", 2);
        m_max_call_ms = std::int64_t(m_agent.value("max_call_s", 600)) * 1000;
        for (const auto& b : interruption.value("backchannels", json::array({"okay", "ok", "uh-huh", "mm-hmm", "yeah", "right"})))
            if (b.is_string()) m_backchannels.push_back(to_lower(b.get<std::string>()));
    }

    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        m_conn = connection;
        json extra{{"sample_rate", kRate}, {"encoding", "pcm16"}, {"channels", 1}};
        if (!m_caller_lines.empty()) extra["recognition"] = "simulated";
        begin(connection, extra);
        connection->post_after(int(m_max_call_ms), [this] {
            if (!m_ended) end("max_duration", 1000);
        });
        // Model loading takes a moment: build the providers off the strand.
        auto tts = std::make_shared<Result<std::unique_ptr<TtsClient>>>(make_error(ErrorCode::internal, ""));
        auto stt = std::make_shared<Result<std::unique_ptr<SttClient>>>(make_error(ErrorCode::internal, ""));
        connection->run_blocking(
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
                m_tts = std::move(*tts).value();
                m_stt = std::move(*stt).value();
                if (!m_conversation.greeting().empty()) speak(m_conversation.greeting(), "", false);
                else listen();
                process_stt();
            });
    }

    void on_text(std::string_view message) override {
        if (m_ended) return;
        json in = parse_control(message);
        if (in.is_null()) return;
        std::string type = in["type"];
        if (type == "hangup") return end("caller_hangup", 1000);
        if (type == "mark") return send({{"type", "mark"}, {"name", in.value("name", json(nullptr))}});
        send({{"type", "error"}, {"message", "unknown message type \"" + type + "\" (expected hangup or mark)"}});
    }

    void on_binary(std::string_view message) override {
        if (m_ended) return;
        if (message.size() % 2 != 0)
            return send({{"type", "error"}, {"message", "audio frames must be whole PCM16 samples (even byte count)"}});
        std::span<const std::int16_t> samples(reinterpret_cast<const std::int16_t*>(message.data()), message.size() / 2);
        auto event = m_vad.process(samples);
        if (m_vad.speaking()) {
            if (!m_in_utterance) {
                m_in_utterance = true;
                m_utterance_first = true;
                ++m_silence_generation;  // the caller is talking: no reprompt
                m_utterance.assign(m_preroll.begin(), m_preroll.end());
                m_preroll.clear();
            }
            m_utterance.insert(m_utterance.end(), samples.begin(), samples.end());
            if (m_reply_active && m_barge_in && m_vad.speech_ms() >= m_min_speech_ms) barge_in();
            // The recognizer hears the utterance as it goes, for interim words (and word barge-in).
            if (m_utterance_first || m_utterance.size() >= kInterimChunk) queue_stt(false);
        } else {
            m_preroll.insert(m_preroll.end(), samples.begin(), samples.end());
            while (m_preroll.size() > kPreroll) m_preroll.pop_front();
        }
        if (event == Vad::Event::speech_end && m_in_utterance) {
            if (m_utterance_first) m_utterance.insert(m_utterance.end(), samples.begin(), samples.end());
            m_in_utterance = false;
            queue_stt(true);
        }
    }

    void on_close() override {
        if (!m_ended) end(disconnect_reason(), 0);
        m_manager.forget(m_call.id);
    }

private:
    static VadOptions vad_options(const json& agent) {
        VadOptions o;
        o.sample_rate = kRate;
        if (agent.contains("stt") && agent["stt"].is_object()) o.end_ms = agent["stt"].value("endpointing_ms", o.end_ms);
        return o;
    }

    // --- caller side -----------------------------------------------------------------------------------------

    bool is_backchannel(const std::string& text) const {
        std::string said = to_lower(text);
        while (!said.empty() && (said.back() == '.' || said.back() == '!' || said.back() == ' ')) said.pop_back();
        return std::find(m_backchannels.begin(), m_backchannels.end(), said) != m_backchannels.end();
    }

    // A piece of the caller's utterance for the recognizer: the first opens the utterance, the last closes it.
    struct SttJob {
        std::vector<std::int16_t> audio;
        bool first = false;
        bool last = false;
        std::int64_t ended_at = 0;
    };
    struct SttOutcome {
        std::string partial;
        Result<Transcript> final = make_error(ErrorCode::internal, "");
    };

    void queue_stt(bool last) {
        m_stt_jobs.push_back({std::move(m_utterance), m_utterance_first, last, last ? now_ms() : 0});
        m_utterance.clear();
        m_utterance_first = false;
        process_stt();
    }

    // One recognizer call at a time, in order, on the worker pool.
    void process_stt() {
        if (m_recognizing || !m_stt || m_stt_jobs.empty() || m_ended) return;
        auto conn = m_conn.lock();
        if (!conn) return;
        m_recognizing = true;
        auto job = std::make_shared<SttJob>(std::move(m_stt_jobs.front()));
        m_stt_jobs.pop_front();
        auto outcome = std::make_shared<SttOutcome>();
        conn->run_blocking(
            [stt = m_stt.get(), job, outcome] {
                if (job->first) stt->reset();
                stt->push(job->audio);
                if (job->last) outcome->final = stt->finish();
                else outcome->partial = stt->partial();
            },
            [this, job, outcome] {
                m_recognizing = false;
                if (m_ended) return;
                if (job->last) {
                    m_last_partial.clear();
                    recognized(outcome->final, job->ended_at);
                } else {
                    heard_partial(outcome->partial);
                }
                process_stt();
            });
    }

    void heard_partial(const std::string& text) {
        if (text.empty() || text == m_last_partial) return;
        m_last_partial = text;
        json interim{{"role", "user"}, {"text", text}, {"final", false}};
        if (!m_caller_lines.empty()) interim["source"] = "simulated";
        m_manager.publish(m_call, "call:transcript", interim);
        send({{"type", "interim"}, {"text", text}});
        // Words beyond backchannels interrupt the agent as soon as they are heard, however short the speech.
        if (m_reply_active && m_barge_in && !is_backchannel(text)) barge_in();
    }

    void recognized(const Result<Transcript>& result, std::int64_t speech_end) {
        auto recognized_at = now_ms();
        if (!result) {
            m_manager.publish(m_call, "call:error", {{"message", result.error().message}});
        } else if (!result->text.empty() && m_reply_active && is_backchannel(result->text)) {
            // "okay", "uh-huh" while the agent talks: the caller is listening, not taking the turn.
            m_manager.publish(m_call, "call:transcript", {{"role", "user"}, {"text", result->text},
                                                          {"final", true}, {"backchannel", true}});
        } else if (!result->text.empty()) {
            if (m_reply_active) barge_in();
            user_said(*result, speech_end, recognized_at);
        } else if (!m_reply_active) {
            listen();  // nothing understood: keep waiting, the silence timer still runs
        }
    }

    void user_said(const Transcript& heard, std::int64_t speech_end, std::int64_t recognized_at) {
        m_reprompts = 0;
        m_metrics = json{{"stt_ms", recognized_at - speech_end}};
        m_turn_started = speech_end;
        auto reply = answer(heard.text, speech_end, recognized_at, heard.source);
        if (!reply.status) return speak("Sorry, I am having trouble answering right now.", "", true);
        m_metrics["llm_first_token_ms"] = reply.first_token_at ? reply.first_token_at - speech_end : 0;
        speak(reply.text, reply.end_reason, true);
    }

    // --- agent side ------------------------------------------------------------------------------------------

    void speak(const std::string& text, std::string end_reason, bool remember) {
        ++m_turn;
        m_reply_active = true;
        m_reply_text = text;
        m_reply_remember = remember;
        m_reply_from = now_ms();
        m_reply_total = m_reply_sent = 0;
        m_end_after_reply = std::move(end_reason);
        m_out.clear();
        m_sentences.clear();
        SentenceSplitter splitter;
        for (auto& s : splitter.push(text)) m_sentences.push_back(std::move(s));
        if (auto rest = splitter.flush(); !rest.empty()) m_sentences.push_back(std::move(rest));
        synthesize_next();
    }

    void synthesize_next() {
        if (m_synthesizing || m_sentences.empty() || m_ended) return;
        m_synthesizing = true;
        std::string sentence = std::move(m_sentences.front());
        m_sentences.pop_front();
        auto audio = std::make_shared<Result<TtsAudio>>(make_error(ErrorCode::internal, ""));
        auto conn = m_conn.lock();
        if (!conn) return;
        int turn = m_turn;
        conn->run_blocking([tts = m_tts.get(), sentence, audio] { *audio = tts->synthesize(sentence); },
                           [this, turn, audio] {
                               m_synthesizing = false;
                               if (m_ended) return;
                               if (turn == m_turn) queue_audio(*audio);  // a stale turn's audio is dropped
                               synthesize_next();
                           });
    }

    void queue_audio(const Result<TtsAudio>& audio) {
        if (!audio) {
            m_manager.publish(m_call, "call:error", {{"message", audio.error().message}});
        } else {
            if (!m_metrics.contains("tts_first_audio_ms") && m_turn_started)
                m_metrics["tts_first_audio_ms"] = now_ms() - m_turn_started;
            std::vector<std::int16_t> pcm;
            Resampler resampler(audio->format.sample_rate, kRate);
            resampler.process(audio->samples, pcm);
            resampler.flush(pcm);
            m_out.insert(m_out.end(), pcm.begin(), pcm.end());
            m_reply_total += pcm.size();
        }
        if (!m_pacing) {
            m_pacing = true;
            if (auto conn = m_conn.lock()) m_next_frame_at = conn->monotonic_ms();
            pace(++m_pacer);
        }
    }

    // Sends one 20 ms frame and schedules the next on an absolute clock, so timer lateness does not accumulate.
    void pace(int pacer) {
        if (pacer != m_pacer || m_ended) return;
        auto conn = m_conn.lock();
        if (!conn) return;
        if (m_out.empty()) {
            if (m_synthesizing || !m_sentences.empty()) {
                m_next_frame_at = conn->monotonic_ms() + 20;
                return conn->post_after(20, [this, pacer] { pace(pacer); });
            }
            m_pacing = false;
            return finish_reply();
        }
        std::size_t n = std::min(kFrame, m_out.size());
        std::string frame(kFrame * 2, '\0');
        for (std::size_t i = 0; i < n; ++i) {
            std::int16_t s = m_out.front();
            m_out.pop_front();
            std::memcpy(frame.data() + 2 * i, &s, 2);
        }
        if (!m_metrics.contains("voice_to_voice_ms") && m_turn_started) {
            m_metrics["voice_to_voice_ms"] = now_ms() - m_turn_started;
        }
        conn->send_binary(std::move(frame));
        m_reply_sent += n;
        m_next_frame_at += 20;
        conn->post_after(int(std::max<std::int64_t>(0, m_next_frame_at - conn->monotonic_ms())), [this, pacer] { pace(pacer); });
    }

    void finish_reply() {
        m_reply_active = false;
        if (m_reply_remember) m_conversation.add_agent(m_reply_text);
        store_turn("agent", m_reply_text, m_reply_from, now_ms(), false, "llm");
        publish_transcript("agent", m_reply_text, true, "");
        send({{"type", "agent"}, {"text", m_reply_text}});
        if (m_turn_started) {
            m_turn_metrics.push_back(m_metrics);
            m_manager.record_turn(m_call, m_metrics);
            m_turn_started = 0;
        }
        if (!m_end_after_reply.empty()) return end(m_end_after_reply, 1000);
        listen();
    }

    // The caller talked over the agent: stop, and remember only what was heard.
    void barge_in() {
        ++m_turn;
        ++m_pacer;
        m_pacing = false;
        m_reply_active = false;
        m_out.clear();
        m_sentences.clear();
        m_end_after_reply.clear();
        send({{"type", "clear"}});
        std::string heard = heard_part();
        if (m_reply_remember && !heard.empty()) m_conversation.add_agent(heard);
        store_turn("agent", heard, m_reply_from, now_ms(), true, "llm");
        publish_transcript("agent", heard, true, "");
        m_manager.publish(m_call, "call:transcript", {{"role", "agent"}, {"text", heard}, {"final", true}, {"interrupted", true}});
        m_turn_started = 0;
    }

    // The words of the reply in proportion to the audio played (synthesis is roughly uniform in time per word).
    std::string heard_part() const {
        if (m_reply_total == 0 || m_reply_sent == 0) return "";
        double played = double(m_reply_sent) / double(m_reply_total + (m_sentences.empty() ? 0 : m_reply_total));
        std::size_t cut = std::size_t(double(m_reply_text.size()) * std::min(1.0, played));
        while (cut < m_reply_text.size() && m_reply_text[cut] != ' ') ++cut;
        return m_reply_text.substr(0, cut);
    }

    void listen() {
        send({{"type", "listening"}});
        auto conn = m_conn.lock();
        if (!conn) return;
        int generation = ++m_silence_generation;
        conn->post_after(m_silence_ms, [this, generation] {
            if (generation != m_silence_generation || m_ended || m_reply_active || m_in_utterance || m_recognizing) return;
            if (m_reprompts >= m_max_reprompts) return end("silence_timeout", 1000);
            ++m_reprompts;
            speak(m_reprompt, "", false);
        });
    }

    std::vector<std::string> m_caller_lines;
    std::weak_ptr<http::WsConnection> m_conn;
    std::unique_ptr<TtsClient> m_tts;
    std::unique_ptr<SttClient> m_stt;
    Vad m_vad;
    bool m_barge_in = true;
    int m_min_speech_ms = 300;
    int m_silence_ms = 8000;
    std::string m_reprompt;
    int m_max_reprompts = 2;
    int m_reprompts = 0;
    std::int64_t m_max_call_ms = 600000;
    std::vector<std::string> m_backchannels;

    std::deque<std::int16_t> m_preroll;
    std::vector<std::int16_t> m_utterance;
    bool m_in_utterance = false;
    bool m_utterance_first = false;
    std::deque<SttJob> m_stt_jobs;
    bool m_recognizing = false;
    std::string m_last_partial;

    int m_turn = 0;
    bool m_reply_active = false;
    bool m_reply_remember = false;
    std::string m_reply_text;
    std::int64_t m_reply_from = 0;
    std::size_t m_reply_total = 0;
    std::size_t m_reply_sent = 0;
    std::string m_end_after_reply;
    std::deque<std::string> m_sentences;
    bool m_synthesizing = false;
    std::deque<std::int16_t> m_out;
    bool m_pacing = false;
    int m_pacer = 0;
    std::int64_t m_next_frame_at = 0;
    int m_silence_generation = 0;
    json m_metrics = json::object();
    std::int64_t m_turn_started = 0;
};

}  // namespace

std::unique_ptr<http::WsHandler> make_audio_session(CallManager& manager, Call call, json agent, const json& variables,
                                                    std::unique_ptr<LlmClient> llm, std::vector<std::string> caller_lines) {
    return std::make_unique<AudioSession>(manager, std::move(call), std::move(agent), variables, std::move(llm),
                                          std::move(caller_lines));
}

}  // namespace va
