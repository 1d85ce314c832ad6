// A voice call over any media transport (local PCM16, Twilio, Exotel: the MediaCodec turns its messages into
// caller audio and events, and encodes what the agent sends). Turn taking from the VAD with offline recognizers
// on the worker pool (interim words, then a final result at the end of the utterance), or from a streaming
// recognizer's own events (Deepgram: interim words, speech_final, UtteranceEnd), which hears all the caller's audio
// and gets a Finalize when the VAD hears the caller stop. Cloud providers connect when the media does (warm
// start). A failing provider hands the call to the next one the agent lists for that stage (a call:error event
// and the call's metrics say so), and the sentence it failed on is said by the next. The reply split into
// sentences, each streamed by a network service chunk by chunk (paced as it arrives) or synthesized on the worker
// pool (espeak-ng, tones), and resampled to the transport's rate; output paced in real time
// in the transport's chunks. Barge-in (caller speech for interruption.min_speech_ms while the agent speaks, or
// recognized words that are not backchannels such as "okay") drops queued audio, tells the transport to clear,
// and keeps in the conversation only the part of the reply that was played; a backchannel alone does not
// interrupt. DTMF digits reach the conversation as a caller turn.
#include <spdlog/spdlog.h>

#include <cstring>
#include <deque>
#include <optional>

#include "core/audio/call_recorder.hpp"
#include "core/audio/resampler.hpp"
#include "core/audio/vad.hpp"
#include "core/pipeline/caller_media_guard.hpp"
#include "core/pipeline/sentences.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "daemon/calls/session_base.hpp"

namespace va {

using nlohmann::json;

namespace {

// Audio before the VAD decided speech started, kept for the recognizer, in milliseconds: as long as the VAD's
// noise-floor window, because speech at the very start of a stream is only detected once the floor has seen a
// quieter frame.
constexpr int kPrerollMs = 1500;
// How much new caller audio the recognizer gets at a time during an utterance (each piece may yield interim words).
constexpr int kInterimMs = 300;

class VoiceSession final : public SessionBase, private MediaSink {
public:
    VoiceSession(CallManager& manager, Call call, json agent, const json& variables, std::unique_ptr<LlmClient> llm,
                 bool simulated, std::unique_ptr<MediaCodec> codec)
        : SessionBase(manager, std::move(call), std::move(agent), variables, std::move(llm)),
          m_simulated(simulated),
          m_codec(std::move(codec)),
          m_guard(manager.media_limits()) {
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
        m_connection = connection;
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
        if (m_live) return on_media_error("a second start message was ignored");
        start_call(info);
    }

    void on_media_audio(std::span<const std::int16_t> samples) override {
        if (!m_live) return;
        samples = admit_audio(samples);  // beyond real time and its allowance: dropped here, before anything keeps it
        if (samples.empty()) return;
        if (m_recorder) record_caller(samples);
        // A streaming recognizer hears everything and finds the turns itself; the VAD still drives barge-in, the
        // silence timer, and a Finalize when the caller stops.
        bool streaming = m_stt && m_stt->streaming();
        if (streaming) m_stt->push(samples);
        auto event = m_vad->process(samples);
        if (m_vad->speaking()) {
            if (!m_in_utterance) {
                m_in_utterance = true;
                m_utterance_first = true;
                m_utterance_started_at = now_ms();
                ++m_silence_generation;  // the caller is talking: no reprompt
                if (!streaming) m_utterance.assign(m_preroll.begin(), m_preroll.end());
                m_preroll.clear();
                m_utterance_samples = 0;
            }
            if (!streaming) m_utterance.insert(m_utterance.end(), samples.begin(), samples.end());
            m_utterance_samples += samples.size();
            // Only speech that began after the reply did interrupts it: a streaming recognizer may end the turn
            // (and the reply start) while the VAD still hears the tail of the same utterance.
            if (m_reply_active && m_barge_in && m_vad->speech_ms() >= m_min_speech_ms && m_utterance_started_at >= m_reply_from)
                barge_in();
            // The recognizer hears the utterance as it goes, for interim words (and word barge-in).
            if (!streaming && (m_utterance_first || m_utterance.size() >= samples_of(kInterimMs))) queue_stt(false);
        } else if (!streaming) {
            m_preroll.insert(m_preroll.end(), samples.begin(), samples.end());
            while (m_preroll.size() > samples_of(kPrerollMs)) m_preroll.pop_front();
        }
        // Speech that never pauses (noise, music) is cut into utterances the recognizer can hold.
        bool too_long = !streaming && m_guard.utterance_too_long(m_utterance_samples);
        if ((event == Vad::Event::speech_end || too_long) && m_in_utterance) {
            m_in_utterance = false;
            if (streaming) {
                m_speech_end_at = now_ms();
                m_stt->finalize();
            } else {
                if (m_utterance_first) m_utterance.insert(m_utterance.end(), samples.begin(), samples.end());
                queue_stt(true);
            }
        }
    }

    // A key press is a caller turn of its own ("5", "#"), so agents can offer menus.
    void on_media_dtmf(const std::string& digit) override {
        if (!CallerMediaGuard::dtmf_valid(digit)) return on_media_error("dtmf needs one digit: 0-9, *, #, A-D");
        if (!m_live || !m_tts || !m_guard.admit_dtmf(monotonic_ms())) return;
        m_manager.publish(m_call, "call:dtmf", {{"digit", digit}});
        if (m_reply_active) barge_in();
        auto at = now_ms();
        user_said({digit, 1.0, "dtmf"}, at, at);
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

    void on_ended() override {
        if (m_stt && m_stt->streaming()) m_stt->close();
        drop_speech();
        if (m_reply_active) {
            // The call ended mid-reply (the caller hung up or vanished): keep what they heard of it.
            std::string heard = heard_part();
            store_turn("agent", heard, m_reply_from, now_ms(), true, "llm");
            m_manager.publish(m_call, "call:transcript",
                              {{"role", "agent"}, {"text", heard}, {"final", true}, {"interrupted", true}});
            m_reply_active = false;
        }
        if (!m_recorder) return;
        if (auto s = m_recorder->close(now_ms() - m_started); !s) spdlog::error("call {}: {}", m_call.id, s.error().message);
        m_recorder.reset();
    }

    // Local clients' marks are echoed back; carriers echo ours, and the one after a closing reply ends the call.
    void on_media_mark(const std::string& name) override {
        if (!m_guard.mark_fits(name.size()))
            return on_media_error("a mark name is limited to " + std::to_string(m_guard.limits().max_mark_bytes) + " bytes");
        if (!m_closing_mark.empty() && name == m_closing_mark) return after_reply();
        send({{"type", "mark"}, {"name", name}});
    }

    void on_media_stop(const std::string& reason) override { end(reason, 1000); }

    // The goodbye cuts off whatever the agent was saying, cannot be talked over, and ends the call once heard (or
    // after 15 s at the most, should the carrier never confirm it).
    void drain(const std::string& goodbye) override {
        if (m_ended || m_draining) return;
        if (m_reply_active) barge_in();
        cancel_answer();
        m_draining = true;
        speak(goodbye, "daemon_shutdown", false);
        if (auto conn = m_conn.lock())
            conn->post_after(15000, [this] {
                if (!m_ended) end("daemon_shutdown", 1000);
            });
    }

    // An API transfer cuts off whatever the agent was saying and asks the carrier to connect the caller to `number`
    // at once, as the agent's transfer_call does after its last words. No new turn starts meanwhile.
    void transfer(const std::string& number) override {
        if (m_ended || !m_transfer.empty()) return;
        if (m_reply_active) barge_in();
        cancel_answer();
        m_end_after_reply.clear();
        m_closing_mark.clear();
        m_draining = true;  // as for the shutdown goodbye: the caller's words no longer start turns
        hand_over("transferred:" + number);
    }

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

    // Provider work: on the worker pool, or for cheap providers on the strand (posted, to keep the order of events).
    static void run_work(http::WsConnection& conn, bool cheap, std::function<void()> work, std::function<void()> then) {
        if (!cheap) return conn.run_blocking(std::move(work), std::move(then));
        conn.post([work = std::move(work), then = std::move(then)] {
            work();
            then();
        });
    }

    std::size_t samples_of(int ms) const { return std::size_t(m_rate) * std::size_t(ms) / 1000; }
    std::int64_t monotonic_ms() const {
        auto conn = m_conn.lock();
        return conn ? conn->monotonic_ms() : 0;
    }

    bool admit_message(std::string_view message) {  // media.max_message_bytes: a larger one is not parsed
        if (m_guard.admit_message(message.size())) return true;
        on_media_error("a media message of " + std::to_string(message.size()) + " bytes is over the limit");
        return false;
    }

    // Caller audio is taken at real time plus media.ahead_ms, up to the call's byte cap; the rest is dropped here,
    // before anything records or buffers it.
    std::span<const std::int16_t> admit_audio(std::span<const std::int16_t> samples) {
        std::size_t n = m_guard.admit_audio(samples.size(), monotonic_ms());
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

    // The caller's audio counts go into the call's metrics.
    void on_ending() override { m_metrics_extra["caller_audio"] = m_guard.metrics(); }

    // The stream is up: the call starts, the providers are built off the strand (model loading takes a moment),
    // then the agent greets the caller.
    void start_call(const json& info) {
        auto connection = m_conn.lock();
        if (!connection) return;
        m_live = true;
        m_rate = m_codec->sample_rate();
        m_chunk = m_codec->chunk_samples();
        m_transport = AudioFormat{m_codec->encoding(), m_rate, 1};
        m_vad.emplace(vad_options(m_agent, m_rate));
        m_guard.start(m_rate, m_max_call_ms, monotonic_ms());
        m_lateness = m_manager.pacing_histogram(m_call.channel);
        if (m_manager.recording_enabled()) {
            auto recorder = CallRecorder::open(m_manager.recording_path(m_call.id), m_rate, m_guard.recording_max_bytes());
            if (recorder) m_recorder = std::move(recorder).value();
            else spdlog::error("call {}: {}", m_call.id, recorder.error().message);
        }
        json extra{{"sample_rate", m_rate}, {"encoding", "pcm16"}, {"channels", 1}};
        if (m_simulated) extra["recognition"] = "simulated";
        if (info.is_object() && !info.empty()) extra["stream"] = info;
        begin(connection, extra);
        connection->post_after(int(m_max_call_ms), [this] {
            if (!m_ended) end("max_duration", 1000);
        });
        auto tts = std::make_shared<Result<std::unique_ptr<TtsClient>>>(make_error(ErrorCode::internal, ""));
        auto stt = std::make_shared<Result<std::unique_ptr<SttClient>>>(make_error(ErrorCode::internal, ""));
        connection->run_blocking(
            [this, tts, stt] {
                *tts = m_manager.make_tts(m_agent);
                *stt = m_manager.make_stt(m_agent);
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
                // Warm start: cloud providers connect now, while the greeting is on its way.
                m_tts->set_output(m_transport);
                start_stt();
                note_provider("tts", m_tts->name());
                note_provider("stt", m_stt->name());
                if (!m_conversation.greeting().empty()) speak(m_conversation.greeting(), "", false);
                else listen();
                process_stt();
            });
    }

    static VadOptions vad_options(const json& agent, int rate) {
        VadOptions o;
        o.sample_rate = rate;
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
        if (m_stt->streaming()) return m_stt_jobs.clear();  // audio from before it started: it hears the rest
        auto conn = m_conn.lock();
        if (!conn) return;
        m_recognizing = true;
        auto job = std::make_shared<SttJob>(std::move(m_stt_jobs.front()));
        m_stt_jobs.pop_front();
        auto outcome = std::make_shared<SttOutcome>();
        run_work(
            *conn, m_stt->cheap(),
            [stt = m_stt.get(), resampler = &*m_stt_resampler, job, outcome] {
                if (job->first) {
                    stt->reset();
                    resampler->reset();
                }
                if (resampler->passthrough()) {
                    stt->push(job->audio);
                } else {
                    std::vector<std::int16_t> audio;
                    resampler->process(job->audio, audio);
                    if (job->last) resampler->flush(audio);
                    stt->push(audio);
                }
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
        if (m_simulated) interim["source"] = "simulated";
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

    // The caller's turn: the reply is spoken sentence by sentence as the LLM writes it.
    void user_said(const Transcript& heard, std::int64_t speech_end, std::int64_t recognized_at) {
        if (m_draining) return;  // the goodbye is being said: no new turn
        m_reprompts = 0;
        m_metrics = json{{"stt_ms", recognized_at - speech_end}};
        m_turn_started = speech_end;
        begin_reply(true);
        m_writing = true;
        int turn = m_turn;
        ask(heard.text, speech_end, recognized_at, heard.source,
            [this, turn](const std::string& token) {
                if (turn != m_turn) return;
                if (!m_metrics.contains("llm_first_token_ms")) m_metrics["llm_first_token_ms"] = now_ms() - m_turn_started;
                add_text(token);
            },
            [this, turn](Reply reply) {
                if (turn != m_turn) return;
                if (reply.usage.prompt_tokens || reply.usage.completion_tokens) {
                    m_metrics["llm_prompt_tokens"] = reply.usage.prompt_tokens;
                    m_metrics["llm_completion_tokens"] = reply.usage.completion_tokens;
                }
                if (!reply.status && m_reply_text.empty()) {
                    m_writing = false;
                    return speak("Sorry, I am having trouble answering right now.", "", true);
                }
                end_text(reply.end_reason);
            });
    }

    // --- agent side ------------------------------------------------------------------------------------------

    void speak(const std::string& text, std::string end_reason, bool remember) {
        begin_reply(remember);
        add_text(text);
        end_text(std::move(end_reason));
    }

    void begin_reply(bool remember) {
        drop_speech();
        ++m_turn;
        m_reply_active = true;
        m_reply_text.clear();
        m_reply_remember = remember;
        m_reply_from = now_ms();
        m_reply_total = m_reply_sent = 0;
        m_end_after_reply.clear();
        m_out.clear();
        m_sentences.clear();
        m_splitter = SentenceSplitter{};
        m_writing = false;
    }

    // More of the reply's text: each sentence it completes is synthesized while the rest is still being written.
    void add_text(const std::string& text) {
        m_reply_text += text;
        for (auto& sentence : m_splitter.push(text)) m_sentences.push_back(std::move(sentence));
        synthesize_next();
    }

    void end_text(std::string end_reason) {
        m_writing = false;
        m_end_after_reply = std::move(end_reason);
        if (auto rest = m_splitter.flush(); !rest.empty()) m_sentences.push_back(std::move(rest));
        if (m_sentences.empty() && !m_synthesizing && !m_pacing) return finish_reply();  // nothing (more) to say
        synthesize_next();
    }

    // Audio of this reply is still to come: a sentence being synthesized or waiting, or the LLM still writing.
    bool more_to_come() const { return m_synthesizing || !m_sentences.empty() || m_writing; }

    void synthesize_next() {
        if (m_synthesizing || m_sentences.empty() || m_ended) return;
        m_synthesizing = true;
        std::string sentence = std::move(m_sentences.front());
        m_sentences.pop_front();
        if (m_tts->streams()) return speak(std::move(sentence));
        auto audio = std::make_shared<Result<TtsAudio>>(make_error(ErrorCode::internal, ""));
        auto conn = m_conn.lock();
        if (!conn) return;
        int turn = m_turn;
        run_work(*conn, m_tts->cheap(), [tts = m_tts.get(), sentence, audio] { *audio = tts->synthesize(sentence); },
                           [this, turn, audio, sentence] {
                               m_synthesizing = false;
                               if (m_ended) return;
                               if (!*audio && turn == m_turn && tts_failed(audio->error(), sentence)) return;
                               if (*audio) m_tts_failures = 0;
                               if (turn == m_turn) queue_audio(*audio);  // a stale turn's audio is dropped
                               synthesize_next();
                           });
    }

    // A streaming service's sentence: each chunk joins the output as it arrives (the first starts the pacer), so
    // the caller hears the sentence's beginning while the service is still sending the rest.
    void speak(std::string sentence) {
        auto conn = m_conn.lock();
        if (!conn) return;
        int turn = m_turn;
        m_sentence_audio = false;
        m_tts_resampler.reset();
        std::weak_ptr<http::WsConnection> weak = m_conn;
        TtsSink sink;
        sink.on_audio = [this, weak, turn](TtsAudio chunk) {
            if (auto c = weak.lock())
                c->post([this, turn, chunk = std::move(chunk)] {
                    if (turn == m_turn && !m_ended) queue_chunk(chunk);
                });
        };
        sink.on_done = [this, weak, turn, sentence](Status outcome) {
            if (auto c = weak.lock())
                c->post([this, turn, sentence, outcome = std::move(outcome)] {
                    if (turn != m_turn || m_ended) return;  // dropped with its turn (drop_speech)
                    m_tts_stream.reset();
                    m_synthesizing = false;
                    if (!outcome && !m_sentence_audio && tts_failed(outcome.error(), sentence)) return;
                    if (!outcome) m_manager.publish(m_call, "call:error", {{"stage", "tts"}, {"message", outcome.error().message}});
                    else m_tts_failures = 0;
                    flush_chunks();
                    synthesize_next();
                });
        };
        m_tts_stream = m_tts->speak(sentence, std::move(sink));
    }

    // The turn's speech is no longer wanted (barge-in, a new reply, the end): the request in flight is dropped.
    void drop_speech() {
        if (!m_tts_stream) return;
        m_tts_stream->cancel();
        m_tts_stream.reset();
        m_synthesizing = false;
    }

    // --- provider failures --------------------------------------------------------------------------------

    void note_provider(const std::string& stage, const std::string& name) {
        if (!name.empty()) m_metrics_extra["providers"][stage] = name;
    }

    // A sentence failed to synthesize. A transient error is retried once with the same provider; a permanent
    // one, or a second in a row, moves the call to the agent's next TTS provider, which says the same sentence.
    // False when there is nothing left to try (the sentence is skipped).
    bool tts_failed(const Error& error, const std::string& sentence) {
        ++m_tts_failures;
        if (error.transient() && m_tts_failures < 2) {
            m_sentences.push_front(sentence);
            synthesize_next();
            return true;
        }
        auto chain = CallManager::provider_chain(m_agent, "tts");
        if (m_tts_choice + 1 >= chain.size()) return false;
        auto conn = m_conn.lock();
        if (!conn) return false;
        std::size_t choice = ++m_tts_choice;
        m_tts_failures = 0;
        fallback("tts", m_tts->name(), chain[choice].value("provider", ""), error);
        m_sentences.push_front(sentence);
        m_synthesizing = true;  // holds the queue (and keeps the pacer waiting) while the next provider is built
        auto next = std::make_shared<Result<std::unique_ptr<TtsClient>>>(make_error(ErrorCode::internal, ""));
        conn->run_blocking([this, next, choice] { *next = m_manager.make_tts(m_agent, choice); },
                           [this, next] {
                               m_synthesizing = false;
                               if (m_ended) return;
                               if (!*next) {
                                   m_manager.publish(m_call, "call:error", {{"stage", "tts"}, {"message", next->error().message}});
                                   m_sentences.clear();  // nothing can speak them
                                   if (!more_to_come() && !m_pacing && m_reply_active) finish_reply();
                                   return;
                               }
                               m_tts = std::move(*next).value();
                               m_tts->set_output(m_transport);
                               note_provider("tts", m_tts->name());
                               synthesize_next();
                           });
        return true;
    }

    // The streaming recognizer is gone for good: the next one the agent lists takes over (audio from now on).
    void stt_failed(const Error& error) {
        auto chain = CallManager::provider_chain(m_agent, "stt");
        auto conn = m_conn.lock();
        if (m_stt_choice + 1 >= chain.size() || !conn) {
            m_manager.publish(m_call, "call:error", {{"stage", "stt"}, {"message", error.message}});
            return end("provider_error", 1011);
        }
        std::size_t choice = ++m_stt_choice;
        fallback("stt", m_stt->name(), chain[choice].value("provider", ""), error);
        m_stt->close();
        auto next = std::make_shared<Result<std::unique_ptr<SttClient>>>(make_error(ErrorCode::internal, ""));
        conn->run_blocking([this, next, choice] { *next = m_manager.make_stt(m_agent, choice); },
                           [this, next] {
                               if (m_ended) return;
                               if (!*next) {
                                   m_manager.publish(m_call, "call:error", {{"stage", "stt"}, {"message", next->error().message}});
                                   return end("provider_error", 1011);
                               }
                               m_stt = std::move(*next).value();
                               start_stt();
                               note_provider("stt", m_stt->name());
                           });
    }

    void fallback(const std::string& stage, const std::string& from, const std::string& to, const Error& error) {
        spdlog::warn("call {}: {} provider {} failed ({}); switching to {}", m_call.id, stage, from, error.message, to);
        json what{{"stage", stage}, {"provider", from}, {"fallback", to}, {"message", error.message},
                  {"at_ms", offset(now_ms())}};
        m_manager.publish(m_call, "call:error", what);
        m_metrics_extra["fallbacks"].push_back(what);
    }

    // --- streaming recognition ----------------------------------------------------------------------------

    void start_stt() {
        if (!m_stt->streaming()) {
            int stt_rate = m_stt->sample_rate();
            m_stt_resampler.emplace(m_rate, stt_rate > 0 ? stt_rate : m_rate);
            return;
        }
        int generation = ++m_stt_generation;
        std::weak_ptr<http::WsConnection> weak = m_conn;
        m_stt->start(m_transport, [this, weak, generation](SttEvent event) {
            auto conn = weak.lock();
            if (!conn) return;
            conn->post([this, generation, event = std::move(event)] {
                if (generation == m_stt_generation && !m_ended) on_stt_event(event);
            });
        });
    }

    void on_stt_event(const SttEvent& e) {
        switch (e.kind) {
            case SttEvent::Kind::speech_started:
                ++m_silence_generation;  // the caller is talking: no reprompt
                break;
            case SttEvent::Kind::interim:
                heard_partial(e.text);
                break;
            case SttEvent::Kind::final:
                if (!e.text.empty()) {
                    m_stream_text += (m_stream_text.empty() ? "" : " ") + e.text;
                    m_stream_confidence = e.confidence;
                }
                if (e.speech_final || e.from_finalize) stream_turn_end();
                break;
            case SttEvent::Kind::utterance_end:
                stream_turn_end();
                break;
            case SttEvent::Kind::failed:
                stt_failed(e.error);
                break;
        }
    }

    // The service says the caller's turn is over: what it settled is the caller's words.
    void stream_turn_end() {
        if (m_stream_text.empty()) return;
        Transcript heard{std::move(m_stream_text), m_stream_confidence, m_stt->name()};
        m_stream_text.clear();
        m_last_partial.clear();
        auto speech_end = m_speech_end_at ? m_speech_end_at : now_ms();
        m_speech_end_at = 0;
        recognized(heard, speech_end);
    }

    void queue_chunk(const TtsAudio& chunk) {
        if (!m_metrics.contains("tts_first_audio_ms") && m_turn_started)
            m_metrics["tts_first_audio_ms"] = now_ms() - m_turn_started;
        m_sentence_audio = true;
        if (!m_tts_resampler || m_tts_resampler->in_rate() != chunk.format.sample_rate)
            m_tts_resampler.emplace(chunk.format.sample_rate, m_rate);
        std::vector<std::int16_t> pcm;
        m_tts_resampler->process(chunk.samples, pcm);
        m_out.insert(m_out.end(), pcm.begin(), pcm.end());
        m_reply_total += pcm.size();
        start_pacing();
    }

    // The sentence is complete: what the resampler still holds joins the output.
    void flush_chunks() {
        if (m_tts_resampler) {
            std::vector<std::int16_t> pcm;
            m_tts_resampler->flush(pcm);
            m_out.insert(m_out.end(), pcm.begin(), pcm.end());
            m_reply_total += pcm.size();
        }
        start_pacing();
    }

    void start_pacing() {
        if (m_pacing) return;
        m_pacing = true;
        if (auto conn = m_conn.lock()) m_next_frame_at = conn->monotonic_ms();
        pace(++m_pacer);
    }

    void queue_audio(const Result<TtsAudio>& audio) {
        if (!audio) {
            m_manager.publish(m_call, "call:error", {{"stage", "tts"}, {"message", audio.error().message}});
        } else {
            if (!m_metrics.contains("tts_first_audio_ms") && m_turn_started)
                m_metrics["tts_first_audio_ms"] = now_ms() - m_turn_started;
            // One resampler per call, reset per sentence: building speexdsp's filter for every sentence of every
            // call costs more than the resampling itself.
            if (!m_tts_resampler || m_tts_resampler->in_rate() != audio->format.sample_rate)
                m_tts_resampler.emplace(audio->format.sample_rate, m_rate);
            else
                m_tts_resampler->reset();
            std::vector<std::int16_t> pcm;
            m_tts_resampler->process(audio->samples, pcm);
            m_tts_resampler->flush(pcm);
            m_out.insert(m_out.end(), pcm.begin(), pcm.end());
            m_reply_total += pcm.size();
        }
        start_pacing();
    }

    // Sends one 20 ms frame and schedules the next on an absolute clock, so timer lateness does not accumulate.
    void pace(int pacer) {
        if (pacer != m_pacer || m_ended) return;
        auto conn = m_conn.lock();
        if (!conn) return;
        if (m_out.empty()) {
            if (more_to_come()) {
                m_next_frame_at = conn->monotonic_ms() + 20;
                return conn->post_after(20, [this, pacer] { pace(pacer); });
            }
            m_pacing = false;
            return finish_reply();
        }
        // A chunk goes out whole; only the reply's last one is padded with silence.
        if (m_out.size() < m_chunk && more_to_come()) {
            m_next_frame_at = conn->monotonic_ms() + 20;
            return conn->post_after(20, [this, pacer] { pace(pacer); });
        }
        std::size_t n = std::min(m_chunk, m_out.size());
        std::vector<std::int16_t> chunk(m_chunk, 0);
        std::copy_n(m_out.begin(), n, chunk.begin());
        m_out.erase(m_out.begin(), m_out.begin() + std::ptrdiff_t(n));
        if (!m_metrics.contains("voice_to_voice_ms") && m_turn_started) {
            m_metrics["voice_to_voice_ms"] = now_ms() - m_turn_started;
        }
        if (m_recorder) m_recorder->agent(std::span(chunk).first(n), now_ms() - m_started);
        m_lateness->observe(double(std::max<std::int64_t>(0, conn->monotonic_ms() - m_next_frame_at)) / 1000.0);
        auto message = m_codec->audio(chunk);
        if (message.binary) conn->send_binary(std::move(message.data));
        else conn->send_text(std::move(message.data));
        m_reply_sent += n;
        m_next_frame_at += std::int64_t(m_chunk) * 1000 / m_rate;
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
        // Carriers buffer what we send: a mark after the reply comes back when the caller has heard all of it.
        auto conn = m_conn.lock();
        std::string name = "reply-" + std::to_string(m_turn);
        auto mark = m_codec->mark(name);
        if (conn && mark) conn->send_text(std::move(*mark));
        if (!m_end_after_reply.empty()) {
            if (!conn || !mark) return after_reply();
            // A goodbye must be heard before the stream closes: wait for the echo (or at most 2 s).
            m_closing_mark = name;
            return conn->post_after(2000, [this, name] {
                if (!m_ended && m_closing_mark == name) after_reply();
            });
        }
        listen();
    }

    // What the reply asked for once it has been played: hand the call over, or end it.
    void after_reply() {
        m_closing_mark.clear();
        if (m_end_after_reply.rfind("transferred:", 0) == 0) return hand_over(m_end_after_reply);
        end(m_end_after_reply, 1000);
    }

    // transfer_call: the carrier connects the caller to the number (Twilio needs its new instructions before the
    // stream closes, or the call would simply end), then the stream closes.
    void hand_over(const std::string& reason) {
        auto conn = m_conn.lock();
        if (!conn) return;
        std::string number = reason.substr(std::string("transferred:").size());
        auto status = std::make_shared<Status>(Ok{});
        begin_transfer(reason);
        conn->run_blocking([this, number, status] { *status = m_manager.transfer(m_call, number); },
                           [this, status] { finish_transfer(*status); });
    }

    // The caller talked over the agent: stop, and remember only what was heard.
    void barge_in() {
        if (m_draining) return;
        ++m_turn;
        ++m_pacer;
        m_pacing = false;
        m_reply_active = false;
        m_out.clear();
        m_sentences.clear();
        m_end_after_reply.clear();
        m_writing = false;
        drop_speech();
        cancel_answer();  // the LLM stops writing a reply nobody will hear
        if (auto conn = m_conn.lock())
            if (auto clear = m_codec->clear()) conn->send_text(std::move(*clear));
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

    bool m_simulated;  // a simulate request's call: recognition reads its caller lines
    std::unique_ptr<MediaCodec> m_codec;
    CallerMediaGuard m_guard;  // what the caller's stream may send
    std::weak_ptr<http::WsConnection> m_conn;
    bool m_live = false;  // the stream has started
    int m_rate = 16000;
    std::size_t m_chunk = 320;
    AudioFormat m_transport;
    std::unique_ptr<TtsClient> m_tts;
    std::unique_ptr<TtsStream> m_tts_stream;  // the sentence a streaming service is sending
    bool m_sentence_audio = false;            // some of that sentence has arrived (a failure then is not retried)
    std::unique_ptr<SttClient> m_stt;
    std::size_t m_tts_choice = 0, m_stt_choice = 0;  // where in the agent's provider chains the call is
    int m_tts_failures = 0;                          // sentences failed in a row with the current provider
    int m_stt_generation = 0;                        // events of a replaced recognizer are ignored
    std::string m_stream_text;                       // a streaming recognizer's settled words this turn
    double m_stream_confidence = 0;
    std::int64_t m_speech_end_at = 0;                // when the VAD heard the caller stop (for stt_ms)
    std::optional<Resampler> m_stt_resampler;
    std::optional<Resampler> m_tts_resampler;  // synthesis rate -> transport rate  // transport rate -> recognizer rate (a copy when they match)
    std::optional<Vad> m_vad;
    std::unique_ptr<CallRecorder> m_recorder;
    std::string m_closing_mark;  // the mark whose echo ends the call (after a goodbye or before a transfer)
    Histogram* m_lateness = nullptr;
    std::int64_t m_recorder_flushed_ms = 0;
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
    std::size_t m_utterance_samples = 0;  // of the utterance in progress (cut at media.max_utterance_ms)
    std::int64_t m_utterance_started_at = 0;
    bool m_utterance_first = false;
    std::deque<SttJob> m_stt_jobs;
    bool m_recognizing = false;
    std::string m_last_partial;

    int m_turn = 0;
    bool m_reply_active = false;
    bool m_draining = false;  // saying the shutdown goodbye
    bool m_reply_remember = false;
    std::string m_reply_text;
    std::int64_t m_reply_from = 0;
    std::size_t m_reply_total = 0;
    std::size_t m_reply_sent = 0;
    std::string m_end_after_reply;
    std::deque<std::string> m_sentences;
    SentenceSplitter m_splitter;
    bool m_writing = false;  // the LLM is still writing the reply
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

std::unique_ptr<SessionBase> make_voice_session(CallManager& manager, Call call, json agent, const json& variables,
                                                    std::unique_ptr<LlmClient> llm, bool simulated,
                                                    std::unique_ptr<MediaCodec> codec) {
    return std::make_unique<VoiceSession>(manager, std::move(call), std::move(agent), variables, std::move(llm),
                                          simulated, std::move(codec));
}

}  // namespace va
