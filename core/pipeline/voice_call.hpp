// One voice call's conversation logic, outside the daemon and the WebSocket: the TurnDetector's turns go to the
// LLM, its answer's sentences stream into the Speaker as the responder completes them, and the CallState decides
// what caller speech may do (interrupt the agent, keeping in the conversation only the part of the reply that was
// played; start a turn; nothing while the call is on its way out). Also the silence timer and its reprompts, DTMF
// turns, end_call and end-call phrases (the last words are heard before the call ends: the carrier's mark echo, or
// 2 s), transfers, the daemon's goodbye, and provider fallbacks. Everything it needs from outside goes through a
// CallPort, and all timing through the Executor, so a whole call runs on a virtual clock in tests.
// Thread-safety: used from the call's strand only; the port is called from it too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/pipeline/barge_in.hpp"
#include "core/pipeline/call_state.hpp"
#include "core/pipeline/conversation.hpp"
#include "core/pipeline/speaker.hpp"
#include "core/pipeline/turn_detector.hpp"
#include "core/providers/llm.hpp"

namespace va {

// The LLM's answer to a caller turn, as the call needs it.
struct Answer {
    Status status = Ok{};
    std::string end_reason;  // set when the answer ends the call (end_call, transfer_call, an end-call phrase)
    LlmUsage usage;
};

// Where the LLM's answer to a caller turn goes, on the strand. The text is split into sentences once, by the
// port's responder: `sentence` is what is said, `text` what is recorded (and what a barge-in cuts).
struct AnswerSink {
    std::function<void(const std::string& text)> text;          // streamed text, as it comes
    std::function<void(const std::string& sentence)> sentence;  // each sentence once, as it completes
    std::function<void(Answer answer)> done;                    // once, unless cancelled first
};

// How the transport closes when the call ends: the kind, not the code, so the pipeline names no transport's codes
// (a WebSocket transport maps `normal` to 1000 and `failure` to 1011, "internal error").
enum class CallClose {
    normal,   // the conversation ended as calls do (hang-up, end_call, silence, the daemon's goodbye)
    failure,  // the call cannot go on because something on our side failed (no provider left)
};

// What a voice call needs from the daemon. Times are the Executor's (monotonic) milliseconds.
class CallPort {
public:
    virtual ~CallPort() = default;
    // The transport.
    // One chunk of agent audio in the transport's encoding (options.transport): `real` samples of speech (the rest
    // silence), `late_ms` behind its deadline.
    virtual void send_frame(std::string_view wire, std::size_t real, std::int64_t late_ms) = 0;
    virtual void send_clear() = 0;
    virtual bool send_mark(const std::string& name) = 0;  // false: the transport carries no marks
    virtual void send_control(const nlohmann::json& message) = 0;
    // The record and events.
    virtual void publish(const std::string& event, const nlohmann::json& data) = 0;
    virtual void store_turn(const std::string& role, const std::string& text, std::int64_t from, std::int64_t to,
                            bool interrupted, const std::string& source) = 0;
    virtual void record_turn(const nlohmann::json& metrics) = 0;
    virtual nlohmann::json& call_metrics() = 0;  // the call record's metrics beside the turns
    // The LLM: `text` joins the conversation (the port stores and announces the caller's turn) and is answered;
    // its text and sentences, then the answer, arrive on the strand. A newer ask() or cancel_answer() makes older
    // ones silent.
    virtual void ask(const std::string& text, std::int64_t from, std::int64_t to, const std::string& source,
                     AnswerSink sink) = 0;
    virtual void cancel_answer() = 0;
    // The call's end: `reason` is stored, `close` says how the transport closes; a hand-over asks the carrier to
    // connect the caller to `number` first.
    virtual void end(const std::string& reason, CallClose close) = 0;
    virtual void hand_over(const std::string& reason, const std::string& number) = 0;
    // The agent's providers, entry `choice` of each chain (blocking: run off the strand).
    virtual Result<std::unique_ptr<TtsClient>> make_tts(std::size_t choice) = 0;
    virtual Result<std::unique_ptr<SttClient>> make_stt(std::size_t choice) = 0;
};

struct VoiceCallOptions {
    std::string call_id;  // for the log
    AudioFormat transport;
    std::size_t chunk_samples = 160;
    int max_utterance_ms = 30000;
    bool simulated = false;  // scripted caller lines: interim transcripts say so
    // The providers the agent lists for each stage, in the order they are tried (at least one each).
    std::vector<std::string> tts_chain{""}, stt_chain{""};
};

class VoiceCall {
public:
    VoiceCall(std::shared_ptr<Executor> executor, CallPort& port, const nlohmann::json& agent,
              Conversation& conversation, VoiceCallOptions options);

    // The stream is up: providers are built off the strand, then the agent greets the caller (or listens).
    void start();
    void hear(const CallerAudio& audio);
    void dtmf(const std::string& digit);
    // A mark came back from the carrier: true when it was the closing one (the call then ends or is handed over).
    bool mark(const std::string& name);
    // The daemon is shutting down: the goodbye cuts off the agent, cannot be talked over, and ends the call once
    // heard (15 s at most).
    void drain(const std::string& goodbye);
    // An API transfer: the agent stops and the carrier connects the caller to `number` at once.
    void transfer(const std::string& number);
    // The call is over (whatever ended it): a reply in progress is stored as far as it was heard.
    void ended();

    CallState state() const { return m_state; }
    bool has_speaker() const { return m_speaker.provider() != nullptr; }

private:
    TurnEvents turn_events();
    SpeakerEvents speaker_events();
    void heard_partial(const std::string& text);
    void recognized(const Result<Transcript>& result, std::int64_t speech_end, std::int64_t recognized_at);
    void user_said(const Transcript& heard, std::int64_t speech_end, std::int64_t recognized_at);
    void speak(const std::string& text, std::string end_reason, bool remember, CallState as = CallState::replying);
    void begin_reply(bool remember, CallState as);
    void finish_reply();
    void after_reply();
    void hand_over(const std::string& reason);
    void barge_in();
    std::string heard_part() const;
    void listen();
    void note_provider(const std::string& stage, const std::string& name);
    void fallback(const std::string& stage, std::size_t next, const Error& error);

    std::shared_ptr<Executor> m_exec;
    CallPort& m_port;
    Conversation& m_conversation;
    VoiceCallOptions m_options;
    BargeInPolicy m_policy;
    CallState m_state = CallState::starting;
    TurnDetector m_turns;
    Speaker m_speaker;
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
        std::int64_t from = 0;     // when it began
        std::string end_after;     // what happens once it has been heard: an end reason or "transferred:<number>"
        std::string closing_mark;  // the mark whose echo says the last words were heard
    } m_reply;
    std::int64_t m_started_at = 0;
    nlohmann::json m_metrics = nlohmann::json::object();  // this turn's latencies
    std::int64_t m_turn_started = 0;  // when the caller's turn ended (0: no caller turn in progress)
};

}  // namespace va
