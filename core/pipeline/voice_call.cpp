#include "core/pipeline/voice_call.hpp"

#include <spdlog/spdlog.h>

namespace va {

using nlohmann::json;

namespace {

VadOptions vad_options(const json& agent) {
    VadOptions o;
    if (agent.contains("stt") && agent["stt"].is_object()) o.end_ms = agent["stt"].value("endpointing_ms", o.end_ms);
    return o;
}

constexpr int kClosingMarkWaitMs = 2000;  // a carrier that never echoes the closing mark
constexpr int kGoodbyeLimitMs = 15000;    // a goodbye that is never confirmed as heard

}  // namespace

VoiceCall::VoiceCall(std::shared_ptr<Executor> executor, CallPort& port, const json& agent, Conversation& conversation,
                     VoiceCallOptions options)
    : m_exec(std::move(executor)),
      m_port(port),
      m_conversation(conversation),
      m_options(options),
      m_policy(agent),
      m_turns(m_exec, turn_events(), options.transport, vad_options(agent), options.max_utterance_ms),
      m_speaker(m_exec, speaker_events(), options.transport, options.chunk_samples) {
    const json silence = agent.value("silence", json::object());
    m_silence.timeout_ms = silence.value("timeout_ms", 8000);
    m_silence.reprompt = silence.value("reprompt", std::string("Are you still there?"));
    m_silence.max_reprompts = silence.value("max_reprompts", 2);
}

void VoiceCall::start() {
    m_started_at = m_exec->now_ms();
    auto tts = std::make_shared<Result<std::unique_ptr<TtsClient>>>(make_error(ErrorCode::internal, ""));
    auto stt = std::make_shared<Result<std::unique_ptr<SttClient>>>(make_error(ErrorCode::internal, ""));
    m_exec->run_blocking(
        [this, tts, stt] {
            *tts = m_port.make_tts(0);
            *stt = m_port.make_stt(0);
        },
        [this, tts, stt] {
            if (m_state == CallState::ended) return;
            if (!*tts || !*stt) {
                const Error& e = !*tts ? tts->error() : stt->error();
                m_port.publish("call:error", {{"message", e.message}});
                m_port.send_control({{"type", "error"}, {"message", e.message}});
                return m_port.end("provider_error", CallClose::failure);
            }
            // Warm start: cloud providers connect now, while the greeting is on its way.
            m_speaker.use(std::move(*tts).value(), m_options.tts_chain.size(),
                          [this](std::size_t choice) { return m_port.make_tts(choice); });
            m_turns.use(std::move(*stt).value(), m_options.stt_chain.size(),
                        [this](std::size_t choice) { return m_port.make_stt(choice); });
            if (m_state != CallState::starting) return;  // a goodbye or a transfer came first
            if (!m_conversation.greeting().empty()) speak(m_conversation.greeting(), "", false);
            else listen();
        });
}

void VoiceCall::hear(const CallerAudio& audio) {
    if (m_state != CallState::ended) m_turns.hear(audio);
}

// A key press is a caller turn of its own ("5", "#"), so agents can offer menus.
void VoiceCall::dtmf(const std::string& digit) {
    m_port.publish("call:dtmf", {{"digit", digit}});
    if (speaking(m_state)) barge_in();
    auto at = m_exec->now_ms();
    user_said({digit, 1.0, "dtmf"}, at, at);
}

bool VoiceCall::mark(const std::string& name) {
    if (m_state != CallState::closing || name != m_reply.closing_mark) return false;
    after_reply();
    return true;
}

void VoiceCall::drain(const std::string& goodbye) {
    if (m_state == CallState::ended || m_state == CallState::goodbye || m_state == CallState::handing_over) return;
    if (speaking(m_state)) barge_in();
    m_port.cancel_answer();
    speak(goodbye, "daemon_shutdown", false, CallState::goodbye);
    m_exec->post_after(kGoodbyeLimitMs, [this] {
        if (m_state != CallState::ended) m_port.end("daemon_shutdown", CallClose::normal);
    });
}

void VoiceCall::transfer(const std::string& number) {
    if (m_state == CallState::ended || m_state == CallState::handing_over) return;
    if (speaking(m_state)) barge_in();
    m_port.cancel_answer();
    m_reply.end_after.clear();
    hand_over("transferred:" + number);
}

void VoiceCall::ended() {
    CallState was = std::exchange(m_state, CallState::ended);
    m_turns.close();
    if (speaking(was)) {
        // The call ended mid-reply (the caller hung up or vanished): keep what they heard of it.
        std::string heard = heard_part();
        m_port.store_turn("agent", heard, m_reply.from, m_exec->now_ms(), true, "llm");
        m_port.publish("call:transcript", {{"role", "agent"}, {"text", heard}, {"final", true}, {"interrupted", true}});
    }
    m_speaker.stop();
}

// transfer_call: the carrier connects the caller to the number (Twilio needs its new instructions before the
// stream closes, or the call would simply end), then the stream closes.
void VoiceCall::hand_over(const std::string& reason) {
    m_state = CallState::handing_over;
    m_port.hand_over(reason, reason.substr(std::string("transferred:").size()));
}

// --- caller side ---------------------------------------------------------------------------------------------

TurnEvents VoiceCall::turn_events() {
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
        if (m_state == CallState::ended) return;
        m_port.publish("call:error", {{"stage", "stt"}, {"message", error.message}});
        m_port.end("provider_error", CallClose::failure);
    };
    return e;
}

void VoiceCall::heard_partial(const std::string& text) {
    json interim{{"role", "user"}, {"text", text}, {"final", false}};
    if (m_options.simulated) interim["source"] = "simulated";
    m_port.publish("call:transcript", interim);
    m_port.send_control({{"type", "interim"}, {"text", text}});
    if (speaking(m_state) && m_policy.words_interrupt(text)) barge_in();
}

void VoiceCall::recognized(const Result<Transcript>& result, std::int64_t speech_end, std::int64_t recognized_at) {
    if (!result) {
        spdlog::warn("call {}: recognition failed: {}", m_options.call_id, result.error().message);
        m_port.publish("call:error", {{"message", result.error().message}});
    } else if (!result->text.empty() && speaking(m_state) && m_policy.is_backchannel(result->text)) {
        // "okay", "uh-huh" while the agent talks: the caller is listening, not taking the turn.
        m_port.publish("call:transcript", {{"role", "user"}, {"text", result->text}, {"final", true}, {"backchannel", true}});
    } else if (!result->text.empty()) {
        if (speaking(m_state)) barge_in();
        user_said(*result, speech_end, recognized_at);
    } else if (m_state == CallState::listening) {
        listen();  // nothing understood: keep waiting, the silence timer still runs
    }
}

// The caller's turn: the reply is spoken sentence by sentence as the LLM writes it.
void VoiceCall::user_said(const Transcript& heard, std::int64_t speech_end, std::int64_t recognized_at) {
    if (!takes_turns(m_state)) return;  // a goodbye, the closing words, a transfer: no new turn
    m_silence.reprompts = 0;
    m_metrics = json{{"stt_ms", recognized_at - speech_end}};
    m_turn_started = speech_end;
    begin_reply(true, CallState::replying);
    m_speaker.start_reply();
    int reply = m_reply.number;
    AnswerSink sink;
    sink.text = [this, reply](const std::string& text) {
        if (reply != m_reply.number) return;
        if (!m_metrics.contains("llm_first_token_ms")) m_metrics["llm_first_token_ms"] = m_exec->now_ms() - m_turn_started;
        m_reply.text += text;
    };
    sink.sentence = [this, reply](const std::string& sentence) {
        if (reply == m_reply.number) m_speaker.add_sentence(sentence);
    };
    sink.done = [this, reply](Answer answer) {
        if (reply != m_reply.number) return;
        if (answer.usage.prompt_tokens || answer.usage.completion_tokens) {
            m_metrics["llm_prompt_tokens"] = answer.usage.prompt_tokens;
            m_metrics["llm_completion_tokens"] = answer.usage.completion_tokens;
        }
        if (!answer.status && m_reply.text.empty())
            return speak("Sorry, I am having trouble answering right now.", "", true);
        m_reply.end_after = std::move(answer.end_reason);
        m_speaker.end_text();
    };
    m_port.ask(heard.text, speech_end, recognized_at, heard.source, std::move(sink));
}

// --- agent side ----------------------------------------------------------------------------------------------

SpeakerEvents VoiceCall::speaker_events() {
    SpeakerEvents e;
    e.first_audio = [this] {
        if (!m_metrics.contains("tts_first_audio_ms") && m_turn_started)
            m_metrics["tts_first_audio_ms"] = m_exec->now_ms() - m_turn_started;
    };
    e.frame = [this](std::string_view chunk, std::size_t real, std::int64_t late_ms) {
        if (m_state == CallState::ended) return;
        if (!m_metrics.contains("voice_to_voice_ms") && m_turn_started)
            m_metrics["voice_to_voice_ms"] = m_exec->now_ms() - m_turn_started;
        m_port.send_frame(chunk, real, late_ms);
    };
    e.done = [this] { finish_reply(); };
    e.failed = [this](const Error& error) {
        if (m_state != CallState::ended) m_port.publish("call:error", {{"stage", "tts"}, {"message", error.message}});
    };
    e.fallback = [this](std::size_t next, const Error& error) { fallback("tts", next, error); };
    e.provider = [this](const std::string& name) { note_provider("tts", name); };
    return e;
}

// A whole reply at once: the greeting, a reprompt, an apology, the goodbye.
void VoiceCall::speak(const std::string& text, std::string end_reason, bool remember, CallState as) {
    begin_reply(remember, as);
    m_reply.text = text;
    m_reply.end_after = std::move(end_reason);  // before say(): a reply with nothing to say is done at once
    m_speaker.say(text);
}

void VoiceCall::begin_reply(bool remember, CallState as) {
    m_state = as;
    ++m_reply.number;
    m_reply.text.clear();
    m_reply.remember = remember;
    m_reply.from = m_exec->now_ms();
    m_reply.end_after.clear();
}

void VoiceCall::finish_reply() {
    if (m_reply.remember) m_conversation.add_agent(m_reply.text);
    m_port.store_turn("agent", m_reply.text, m_reply.from, m_exec->now_ms(), false, "llm");
    m_port.publish("call:transcript", {{"role", "agent"}, {"text", m_reply.text}, {"final", true}});
    m_port.send_control({{"type", "agent"}, {"text", m_reply.text}});
    if (m_turn_started) {
        m_port.record_turn(m_metrics);
        m_turn_started = 0;
    }
    if (m_state == CallState::handing_over || m_state == CallState::ended) return;  // a transfer cut in
    // Carriers buffer what we send: a mark after the reply comes back when the caller has heard all of it.
    std::string name = "reply-" + std::to_string(m_reply.number);
    bool marked = m_port.send_mark(name);
    if (m_reply.end_after.empty()) return listen();
    m_state = CallState::closing;
    if (!marked) return after_reply();
    // The last words must be heard before the stream closes: wait for the echo (or a while at most).
    m_reply.closing_mark = name;
    m_exec->post_after(kClosingMarkWaitMs, [this, name] {
        if (m_state == CallState::closing && m_reply.closing_mark == name) after_reply();
    });
}

// What the reply asked for once it has been played: hand the call over, or end it.
void VoiceCall::after_reply() {
    m_reply.closing_mark.clear();
    if (m_reply.end_after.rfind("transferred:", 0) == 0) return hand_over(m_reply.end_after);
    m_port.end(m_reply.end_after, CallClose::normal);
}

// The caller talked over the agent: stop, and remember only what was heard.
void VoiceCall::barge_in() {
    if (m_state == CallState::goodbye) return;
    ++m_reply.number;
    m_state = CallState::listening;
    m_reply.end_after.clear();
    m_speaker.stop();
    std::string heard = heard_part();  // of the audio known so far: the sentences not yet synthesized are gone
    m_port.cancel_answer();            // the LLM stops writing a reply nobody will hear
    m_port.send_clear();
    if (m_reply.remember && !heard.empty()) m_conversation.add_agent(heard);
    m_port.store_turn("agent", heard, m_reply.from, m_exec->now_ms(), true, "llm");
    m_port.publish("call:transcript", {{"role", "agent"}, {"text", heard}, {"final", true}, {"interrupted", true}});
    m_turn_started = 0;
}

// The words of the reply in proportion to the audio played (synthesis is roughly uniform in time per word).
std::string VoiceCall::heard_part() const {
    const std::string& text = m_reply.text;
    std::size_t cut = std::size_t(double(text.size()) * m_speaker.played_fraction());
    if (cut == 0) return "";
    while (cut < text.size() && text[cut] != ' ') ++cut;
    return text.substr(0, cut);
}

// Waits for the caller; after the agent's silence timeout the reprompt, and after the last one the call ends.
void VoiceCall::listen() {
    m_state = CallState::listening;
    m_port.send_control({{"type", "listening"}});
    int generation = ++m_silence.generation;
    m_exec->post_after(m_silence.timeout_ms, [this, generation] {
        if (generation != m_silence.generation || m_state != CallState::listening || m_turns.busy()) return;
        if (m_silence.reprompts >= m_silence.max_reprompts) return m_port.end("silence_timeout", CallClose::normal);
        ++m_silence.reprompts;
        speak(m_silence.reprompt, "", false);
    });
}

// --- provider failures -----------------------------------------------------------------------------------------

void VoiceCall::note_provider(const std::string& stage, const std::string& name) {
    if (!name.empty()) m_port.call_metrics()["providers"][stage] = name;
}

void VoiceCall::fallback(const std::string& stage, std::size_t next, const Error& error) {
    json& metrics = m_port.call_metrics();
    std::string from = metrics.contains("providers") ? metrics["providers"].value(stage, "") : "";
    const auto& chain = stage == "tts" ? m_options.tts_chain : m_options.stt_chain;
    std::string to = next < chain.size() ? chain[next] : "";
    spdlog::warn("call {}: {} provider {} failed ({}); switching to {}", m_options.call_id, stage, from, error.message, to);
    json what{{"stage", stage}, {"provider", from}, {"fallback", to}, {"message", error.message},
              {"at_ms", m_exec->now_ms() - m_started_at}};
    m_port.publish("call:error", what);
    metrics["fallbacks"].push_back(what);
}

}  // namespace va
