// What every live call session shares, whatever carries it (chat text, local audio, carrier media): the call
// record's life (queued -> in-progress -> completed), transcript rows, events, the JSON control messages to the
// client, and the adapters of the LLM responder (core/pipeline/responder: the connection as its Executor, HTTP
// tools, call:tool and call:error events). Sessions run on their connection's strand, so none of this locks.
// Thread-safety: used from one strand only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/pipeline/conversation.hpp"
#include "core/pipeline/executor.hpp"
#include "core/pipeline/media_codec.hpp"
#include "core/pipeline/responder.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/server/websocket.hpp"

namespace va {

class SessionBase : public http::WsHandler {
public:
    SessionBase(CallManager& manager, Call call, nlohmann::json agent, const nlohmann::json& variables,
                std::unique_ptr<LlmClient> llm);

    // Ends the call from outside (an API hang-up), on the session's strand.
    virtual void stop(const std::string& reason) { end(reason, 1000); }
    // Hands the call to a person at `number` (an API transfer). A session without a carrier has nobody to hand it
    // to: the call just ends, as it does when the agent transfers a local call.
    virtual void transfer(const std::string& number) { end("transferred:" + number, 1000); }
    // The daemon is shutting down and the call's time is up: the caller hears `goodbye`, then the call ends with
    // daemon_shutdown (at once where nobody listens to speech).
    virtual void drain(const std::string& goodbye) {
        (void)goodbye;
        stop("daemon_shutdown");
    }
    // The carrier says the call is over with `status` after `duration_s` (negative: unknown). False when this
    // session has already ended (the caller then corrects the stored call).
    bool carrier_ended(const std::string& status, double duration_s);
    // A client message the session must not read (JSON nested too deep): the client is told why, and the call
    // ends with protocol_error and a 1007 close naming `reason`.
    void refuse_message(const std::string& reason);
    // A client text message the session can take by a path that validates it whole and bounds its nesting itself
    // (a carrier's media event, fifty a second): true when taken; false, with nothing done, when it goes the usual
    // way (the daemon's depth check, then on_text).
    virtual bool take_checked_text(std::string_view message) {
        (void)message;
        return false;
    }

protected:
    // Marks the call in progress and announces it; sends {"type":"start", ...extra}.
    void begin(std::shared_ptr<http::WsConnection> connection, nlohmann::json start_extra);
    // Completes the call once (status, duration, metrics, events); with a close code, tells the client and closes.
    void end(const std::string& reason, int close_code, const std::string& close_reason = {});
    // A transfer asks the carrier to connect the caller elsewhere, and the carrier may close the stream before it
    // answers (Twilio does, as soon as it has the new instructions). Between the two calls, an end() is held back
    // and the carrier's answer decides: `reason` if the transfer was made, else what ended the call meanwhile (or
    // transfer_failed, announced as call:error).
    void begin_transfer(const std::string& reason) { m_transfer = reason; }
    void finish_transfer(const Status& status);
    void save();  // queues the write of m_call (the store writer applies it in order)
    virtual void on_ending() {}  // in end(), before the call's metrics are taken (to add the session's own)
    virtual void on_ended() {}   // after end() has stored the call, before the socket closes
    // A JSON control message to the client (transports without control messages drop it).
    virtual void send(const nlohmann::json& message);
    std::int64_t offset(std::int64_t t) const { return t - m_started; }
    void store_turn(const std::string& role, const std::string& text, std::int64_t from, std::int64_t to,
                    bool interrupted, const std::string& source);
    void publish_transcript(const std::string& role, const std::string& text, bool final, const std::string& source);
    // Parses a client control message; sends an error and returns null for anything malformed.
    nlohmann::json parse_control(std::string_view message);
    // The caller said `text` (between `from` and `to`): it joins the conversation, is stored and announced, and
    // the LLM is asked. Its text (and sentences, for a sink that takes them) and then the whole reply arrive on the
    // session's strand, whichever thread the provider answers on. A failed answer is announced as call:error.
    void ask(const std::string& text, std::int64_t from, std::int64_t to, const std::string& source, ReplySink sink);
    // Stops the answer in progress (barge-in, the end of the call): nothing more of it arrives.
    void cancel_answer();
    // The connection is open: it becomes the session's Executor (strand, timers, worker pool) and the responder's.
    void attach(const std::shared_ptr<http::WsConnection>& connection);

protected:
    CallManager& m_manager;
    Call m_call;
    nlohmann::json m_agent;
    Conversation m_conversation;
    std::shared_ptr<LlmClient> m_llm;  // shared with a blocking start() running on the worker pool
    std::weak_ptr<http::WsConnection> m_connection;
    std::shared_ptr<Executor> m_exec;        // from attach()
    std::unique_ptr<Responder> m_responder;  // from attach()
    nlohmann::json m_turn_metrics = nlohmann::json::array();
    // More for the call record's metrics beside the turns (the providers used, fallbacks taken).
    nlohmann::json m_metrics_extra = nlohmann::json::object();
    std::int64_t m_started = 0;
    bool m_ended = false;
    std::string m_transfer;           // the end reason of a transfer in flight
    std::string m_ended_in_transfer;  // what ended the call while it was in flight
    int m_ended_in_transfer_code = 0;
    double m_carrier_duration_s = -1;  // the carrier's figure, when it told us before the stream ended
    std::string m_carrier_status;
};

// The chat session (text turns).
std::unique_ptr<SessionBase> make_chat_session(CallManager& manager, Call call, nlohmann::json agent,
                                                   const nlohmann::json& variables, std::unique_ptr<LlmClient> llm);
// A voice call over `codec`'s transport; `simulated` when a simulate request's caller lines are its recognizer.
std::unique_ptr<SessionBase> make_voice_session(CallManager& manager, Call call, nlohmann::json agent,
                                                    const nlohmann::json& variables, std::unique_ptr<LlmClient> llm,
                                                    bool simulated,
                                                    std::unique_ptr<MediaCodec> codec);

}  // namespace va
