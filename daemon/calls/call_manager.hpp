// Live calls of this daemon: creates local and chat calls, attaches their media WebSocket, keeps the registry of
// live sessions (for hang-up from the API), and records every call's life in the Store and on the EventBus.
// Thread-safety: all methods are safe from any thread; a session's own work runs on its connection's strand.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/providers/llm.hpp"
#include "core/providers/speech.hpp"
#include "core/store/store.hpp"
#include "core/util/metrics.hpp"
#include "daemon/calls/event_bus.hpp"
#include "daemon/server/websocket.hpp"

namespace va {


class CallManager {
public:
    CallManager(Store& store, EventBus& events, MetricsRegistry& metrics);

    // Registers an LLM provider kind by the name agents use ("scripted", "openai").
    void add_llm(std::string name, std::shared_ptr<LlmFactory> factory);

    // Creates a call of channel "chat" (text turns) or "local" (audio) for `agent`, status queued until its media
    // WebSocket connects. `variables` fill the agent's placeholders; `caller_lines` make recognition scripted
    // (each detected utterance yields the next line, labelled simulated).
    Result<Call> create_local_call(const Agent& agent, const std::string& channel, const nlohmann::json& variables,
                                   std::vector<std::string> caller_lines = {});

    // Speech providers by the names agents use.
    void add_tts(std::string name, std::shared_ptr<TtsFactory> factory);
    void add_stt(std::string name, std::shared_ptr<SttFactory> factory);
    Result<std::unique_ptr<TtsClient>> make_tts(const nlohmann::json& agent) const;
    Result<std::unique_ptr<SttClient>> make_stt(const nlohmann::json& agent, const std::vector<std::string>& lines) const;

    // The media WebSocket of a local or chat call of `workspace_id`.
    Result<std::unique_ptr<http::WsHandler>> attach_media(const std::string& workspace_id, const std::string& call_id);

    // Ends a live call (API hang-up); not_found when it is not live here.
    Status hangup(const std::string& workspace_id, const std::string& call_id);

    std::size_t live_calls() const;

    // Used by sessions.
    Store& store() { return m_store; }
    EventBus& events() { return m_events; }
    Result<std::unique_ptr<LlmClient>> make_llm(const nlohmann::json& agent, const nlohmann::json& variables) const;
    void publish(const Call& call, const std::string& type, nlohmann::json data);
    // One voice turn's latencies ({"stt_ms", "llm_first_token_ms", "tts_first_audio_ms", "voice_to_voice_ms"}):
    // a call:metrics event and the /metrics histograms.
    void record_turn(const Call& call, const nlohmann::json& turn_metrics);
    void forget(const std::string& call_id);
    bool take_hangup(const std::string& call_id);  // true once if the API asked this call to end

private:
    Store& m_store;
    EventBus& m_events;
    MetricsRegistry& m_metrics;
    std::map<std::string, std::shared_ptr<LlmFactory>> m_llms;
    mutable std::mutex m_mutex;
    std::map<std::string, std::weak_ptr<http::WsConnection>> m_live;       // call id -> its media connection
    std::map<std::string, nlohmann::json> m_pending_variables;             // created, not yet connected
    std::set<std::string> m_hangups;
    std::map<std::string, std::vector<std::string>> m_caller_lines;
    std::map<std::string, std::shared_ptr<TtsFactory>> m_tts;
    std::map<std::string, std::shared_ptr<SttFactory>> m_stt;                                        // API hang-ups not yet seen by the session
};

}  // namespace va
