// Live calls of this daemon: creates local and chat calls, attaches their media WebSocket, keeps the registry of
// live sessions (for hang-up from the API), and records every call's life in the Store and on the EventBus.
// Thread-safety: all methods are safe from any thread; a session's own work runs on its connection's strand.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/pipeline/caller_media_guard.hpp"
#include "core/pipeline/media_codec.hpp"
#include "core/providers/llm.hpp"
#include "core/providers/speech.hpp"
#include "core/store/store.hpp"
#include "core/util/metrics.hpp"
#include "core/util/time.hpp"
#include "daemon/calls/event_bus.hpp"
#include "daemon/calls/http_tools.hpp"
#include "daemon/calls/recording_files.hpp"
#include "daemon/calls/store_writer.hpp"
#include "daemon/server/websocket.hpp"

namespace va {

class SessionBase;

class CallManager {
public:
    CallManager(Store& store, EventBus& events, MetricsRegistry& metrics);

    // This daemon's server.instance_id: the owner recorded on every call it creates. Set before calls start.
    void set_instance(std::string id) { m_instance = std::move(id); }
    const std::string& instance() const { return m_instance; }

    // Registers an LLM provider kind by the name agents use ("scripted", "openai").
    void add_llm(std::string name, std::shared_ptr<LlmFactory> factory);

    // What an agent definition must satisfy here beyond its schema, checked when it is created or updated: each
    // LLM of its chain accepts its settings (llm.base_url among the allowed ones) and every {{secret:NAME}} of its
    // HTTP tools may go to its tool's host for `workspace_id`. Unprocessable (422) naming the field otherwise.
    Status check_agent(const nlohmann::json& definition, const std::string& workspace_id) const;

    // Creates a call of channel "chat" (text turns) or "local" (audio) for `agent`, status queued until its media
    // WebSocket connects. `variables` fill the agent's placeholders; `caller_lines` (a simulate request) make the
    // call's recognizer the simulated one (kSimulatedStt, core/providers/registry.hpp) reading them as its script:
    // each detected utterance yields the next line, labelled simulated.
    Result<Call> create_local_call(const Agent& agent, const std::string& channel, const nlohmann::json& variables,
                                   std::vector<std::string> caller_lines = {});

    // Any call: a carrier call (its channel is the carrier's name) waits for its media stream as a local call waits for
    // its WebSocket.
    struct CallSpec {
        std::string id;                  // empty = a new id
        std::string channel;             // chat | local | a registered carrier's name
        std::string direction = "inbound";
        std::string from, to;
        std::string phone_id;
        std::string campaign_id;
        std::string provider_call_id;
        std::string status = "queued";
        nlohmann::json variables = nlohmann::json::object();
        std::vector<std::string> caller_lines;
    };
    Result<Call> create_call(const Agent& agent, CallSpec spec);

    // The media stream of a carrier call (by id alone: carriers do not know workspaces), carried by `codec`.
    Result<std::unique_ptr<http::WsHandler>> attach_carrier_media(const std::string& call_id,
                                                                  std::unique_ptr<MediaCodec> codec);

    // A call the agent hands to a person: the carrier's part, run on the worker pool before the media stream
    // closes (a carrier may need new instructions first). Set by daemon/calls/carriers; none for local calls.
    using TransferFn = std::function<Status(const Call& call, const std::string& number)>;
    void set_transfer(std::string channel, TransferFn fn);
    // Runs after a call of `channel` has ended and been stored (on the session's strand: keep it short).
    void set_on_ended(std::string channel, std::function<void(const Call&)> fn);
    void call_ended(const Call& call) const;
    Status transfer(const Call& call, const std::string& number) const;

    // How agents' HTTP tools may reach out (allowlist, size cap, secrets); set before calls start.
    void set_tool_settings(ToolSettings settings) { m_tool_settings = std::move(settings); }
    const ToolSettings& tool_settings() const { return m_tool_settings; }
    // What voice calls accept from the caller's media stream (rate, bytes, message sizes) and the size of their
    // recordings; set before calls start.
    void set_media_limits(const CallerMediaLimits& limits) { m_media_limits = limits; }
    const CallerMediaLimits& media_limits() const { return m_media_limits; }

    // Speech providers by the names agents use.
    void add_tts(std::string name, std::shared_ptr<TtsFactory> factory);
    void add_stt(std::string name, std::shared_ptr<SttFactory> factory);
    // The agent's providers for a stage ("stt", "tts"), in the order it lists them: its own, then its fallbacks.
    // Each entry is a stage object without "fallbacks"; the registry's default for the stage when the agent names
    // none.
    static std::vector<nlohmann::json> provider_chain(const nlohmann::json& agent, const std::string& stage);
    // The `choice`-th provider of the agent's chain (0: its own); an error past the end of the chain.
    Result<std::unique_ptr<TtsClient>> make_tts(const nlohmann::json& agent, std::size_t choice = 0) const;
    Result<std::unique_ptr<SttClient>> make_stt(const nlohmann::json& agent, std::size_t choice = 0) const;

    // The media WebSocket of a local or chat call of `workspace_id`.
    Result<std::unique_ptr<http::WsHandler>> attach_media(const std::string& workspace_id, const std::string& call_id);

    // The carrier reports the call over (a status callback): `status` is completed, busy, no-answer, failed or
    // canceled, `duration_s` its own measure of the conversation (negative when unknown). A live session ends
    // with it; otherwise the stored call is completed or corrected.
    void carrier_ended(const std::string& call_id, const std::string& status, double duration_s);
    // Ends a call that has no session here from the store (it is still open: completed with `status`, `reason`
    // when given, and announced), or corrects its status and duration when it has ended already. Call it from
    // the store writer or before calls start.
    void settle(const std::string& call_id, const std::string& status, double duration_s,
                const std::string& reason = {});

    // Runs a function on a live call's strand with its session (null when the session is already gone).
    using SessionPost = std::function<void(std::function<void(SessionBase*)>)>;

    // Whether the call has a live media stream on this daemon (and has not ended).
    bool is_live(const std::string& call_id) const;

    // Ends a live call (API hang-up); not_found when it is not live here.
    Status hangup(const std::string& workspace_id, const std::string& call_id);
    // Hands a live call to a person at `number` (API transfer), the way the agent's transfer_call does: conflict
    // when its session is not live here. The carrier's answer arrives later (the call ends transferred:<number>,
    // or transfer_failed with a call:error).
    Status transfer_live(const std::string& workspace_id, const std::string& call_id, const std::string& number);

    // Told when a session goes live here and when it ends, for the live-session registry other daemons read; set
    // before calls start. Called on the session's strand, outside the manager's lock: they must not block.
    void set_live_hooks(std::function<void(const Call&)> live, std::function<void(const std::string&)> ended) {
        m_on_live = std::move(live);
        m_on_gone = std::move(ended);
    }

    std::size_t live_calls() const;
    // Shutdown: every live call hears `goodbye` and ends (SessionBase::drain).
    void drain(const std::string& goodbye);

    // Recordings: <dir>/<call id>.wav, kept `retention_days` (0: forever). Old ones are swept at start-up and
    // then at most hourly as calls are created.
    void set_recordings(std::string dir, bool enabled, int retention_days) {
        m_recordings.configure(std::move(dir), enabled, retention_days);
    }
    bool recording_enabled() const { return m_recordings.enabled(); }
    std::string recording_path(const std::string& call_id) const { return m_recordings.path(call_id); }
    std::size_t sweep_recordings() { return m_recordings.sweep(now_ms()); }

    // Used by sessions.
    Store& store() { return m_store; }
    StoreWriter& writer() { return m_writer; }
    EventBus& events() { return m_events; }
    Result<std::unique_ptr<LlmClient>> make_llm(const nlohmann::json& agent, const nlohmann::json& variables) const;
    void publish(const Call& call, const std::string& type, nlohmann::json data);
    // One voice turn's latencies ({"stt_ms", "llm_first_token_ms", "tts_first_audio_ms", "voice_to_voice_ms"}):
    // a call:metrics event and the /metrics histograms.
    void record_turn(const Call& call, const nlohmann::json& turn_metrics);
    void forget(const std::string& call_id);
    // The histogram of how late outbound audio frames leave against their deadlines, for one channel (a session
    // looks it up once and observes every frame).
    Histogram* pacing_histogram(const std::string& channel);

private:
    Result<std::unique_ptr<http::WsHandler>> attach(Call call, std::unique_ptr<MediaCodec> codec);

    Store& m_store;
    std::string m_instance;
    StoreWriter m_writer{m_store};
    EventBus& m_events;
    MetricsRegistry& m_metrics;
    struct Factories {  // the providers agents name, by kind; filled before calls start
        std::map<std::string, std::shared_ptr<LlmFactory>> llm;
        std::map<std::string, std::shared_ptr<TtsFactory>> tts;
        std::map<std::string, std::shared_ptr<SttFactory>> stt;
    } m_factories;
    mutable std::mutex m_mutex;
    std::map<std::string, SessionPost> m_live;  // call id -> runs a function on its session's loop
    std::map<std::string, nlohmann::json> m_pending_variables;             // created, not yet connected
    std::map<std::string, std::vector<std::string>> m_caller_lines;
    std::map<std::string, TransferFn> m_transfers;
    std::map<std::string, std::function<void(const Call&)>> m_on_ended;
    std::function<void(const Call&)> m_on_live;
    std::function<void(const std::string&)> m_on_gone;
    RecordingFiles m_recordings;
    CallerMediaLimits m_media_limits;
    ToolSettings m_tool_settings;
};

}  // namespace va
