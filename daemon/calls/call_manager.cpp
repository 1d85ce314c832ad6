#include "daemon/calls/call_manager.hpp"

#include "core/providers/registry.hpp"
#include "daemon/calls/session_base.hpp"
#include "daemon/media/local_codec.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/pipeline/conversation.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"

namespace va {

using nlohmann::json;

namespace {

// A simulate request's caller lines: the call is recognized by the simulated provider (kSimulatedStt) reading
// them as its script, whatever the agent names; the agent's other recognition settings (endpointing) stay.
void simulate_recognition(json& definition, std::vector<std::string> lines) {
    json stt = definition.contains("stt") && definition["stt"].is_object() ? definition["stt"] : json::object();
    stt.erase("fallbacks");
    stt["provider"] = kSimulatedStt;
    stt["script"] = std::move(lines);
    definition["stt"] = std::move(stt);
}

// Forwards to the session, registering with the manager when the connection opens a way to end the call from
// outside (an API hang-up): a function that runs the session's stop() on its strand while the session lives.
class RegisteringHandler final : public http::WsHandler {
public:
    using Register = std::function<void(CallManager::SessionPost)>;
    RegisteringHandler(std::unique_ptr<SessionBase> session, Register on_open)
        : m_session(std::move(session)), m_register(std::move(on_open)) {}
    void on_open(std::shared_ptr<http::WsConnection> c) override {
        std::weak_ptr<http::WsConnection> weak_conn = c;
        std::weak_ptr<bool> alive = m_alive;
        SessionBase* session = m_session.get();
        m_register([weak_conn, alive, session](std::function<void(SessionBase*)> fn) {
            auto conn = weak_conn.lock();
            if (!conn) return fn(nullptr);
            conn->post([alive, session, fn = std::move(fn)] { fn(alive.lock() ? session : nullptr); });
        });
        m_session->on_open(std::move(c));
    }
    void on_text(std::string_view m) override {
        // A carrier's media event read by its strict scanner needs no depth check: the scanner declines anything
        // nested deeper than kMaxJsonScanDepth, far below kMaxJsonDepth, and the check was a second pass over
        // every frame.
        if (m_session->take_checked_text(m)) return;
        // Checked here, once for every kind of session, before any codec parses it.
        if (json_too_deep(m))
            return m_session->refuse_message("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        m_session->on_text(m);
    }
    void on_binary(std::string_view m) override { m_session->on_binary(m); }
    void on_close() override { m_session->on_close(); }
private:
    std::unique_ptr<SessionBase> m_session;
    Register m_register;
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
};

}  // namespace

CallManager::CallManager(Store& store, EventBus& events, MetricsRegistry& metrics)
    : m_store(store), m_events(events), m_metrics(metrics) {
    for (const char* stage : {"stt", "llm_first_token", "tts_first_audio", "voice_to_voice"})
        m_metrics.describe_histogram(std::string("voiceagent_turn_") + stage + "_seconds",
                                     std::string("Per voice turn: end of caller speech to ") + stage + ".",
                                     latency_buckets_s());
    m_metrics.describe_histogram("voiceagent_pacing_lateness_seconds",
                                 "How late each outbound audio frame left against its real-time deadline.",
                                 {0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1});
}

// A call the carrier says is over, applied on the writer's thread after any write a session queued before.
void CallManager::settle(const std::string& call_id, const std::string& status, double duration_s,
                         const std::string& reason) {
    auto call = m_store.find_call(call_id);
    if (!call) return;
    if (duration_s >= 0) call->duration_s = duration_s;
    if (call->ended_at == 0) {
        call->status = status;
        call->ended_at = now_ms();
        if (!reason.empty()) call->end_reason = reason;
        if (call->end_reason.empty()) call->end_reason = status == "completed" ? "completed" : status;
        // Only one settler ends it (two daemons may sweep the same dead one): the others change nothing.
        if (auto s = m_store.end_open_call(call_id, call->status, call->end_reason, call->ended_at, duration_s); !s) {
            if (s.error().code != ErrorCode::conflict)
                spdlog::error("call {}: cannot store its end: {}", call_id, s.error().message);
            return;
        }
        publish(*call, "call:status", {{"status", call->status}});
        publish(*call, "call:ended", {{"reason", call->end_reason}, {"duration_s", call->duration_s}});
        return;
    }
    // Already ended: the carrier's figures correct what the session stored.
    if (call->status == "completed" && status != "completed") call->status = status;
    if (auto s = m_store.update_call(*call); !s)
        spdlog::error("call {}: cannot store the carrier's status: {}", call_id, s.error().message);
}

Histogram* CallManager::pacing_histogram(const std::string& channel) {
    return m_metrics.histogram("voiceagent_pacing_lateness_seconds", {{"channel", channel}});
}

void CallManager::record_turn(const Call& call, const json& turn) {
    publish(call, "call:metrics", turn);
    for (const char* stage : {"stt", "llm_first_token", "tts_first_audio", "voice_to_voice"}) {
        std::string key = std::string(stage) + "_ms";
        if (turn.contains(key) && turn[key].is_number())
            m_metrics.histogram(std::string("voiceagent_turn_") + stage + "_seconds", {{"channel", call.channel}})
                ->observe(turn[key].get<double>() / 1000.0);
    }
}

void CallManager::add_llm(std::string name, std::shared_ptr<LlmFactory> factory) {
    m_factories.llm[std::move(name)] = std::move(factory);
}

Status CallManager::check_agent(const json& definition, const std::string& workspace_id) const {
    if (auto llm = definition.find("llm"); llm != definition.end() && llm->is_object()) {
        auto chain = provider_chain(definition, "llm");
        for (std::size_t i = 0; i < chain.size(); ++i) {
            auto factory = m_factories.llm.find(chain[i].value("provider", registry::default_provider("llm")));
            if (factory == m_factories.llm.end()) continue;  // the schema names the providers; a missing one fails at call time
            auto ok = factory->second->check(chain[i]);
            if (ok || i == 0) {
                if (!ok) return ok;
                continue;
            }
            // A fallback's field: "llm.base_url" -> "llm.fallbacks[0].base_url".
            Error e = ok.take_error();
            std::string prefix = "llm.fallbacks[" + std::to_string(i - 1) + "].";
            for (auto& d : e.details)
                if (d.field.rfind("llm.", 0) == 0) d.field = prefix + d.field.substr(4);
            if (!e.details.empty()) e.message = e.details[0].field + ": " + e.details[0].reason;
            return e;
        }
    }
    return check_tool_secrets(definition, m_tool_settings.secrets, workspace_id);
}

void CallManager::add_tts(std::string name, std::shared_ptr<TtsFactory> factory) { m_factories.tts[std::move(name)] = std::move(factory); }
void CallManager::add_stt(std::string name, std::shared_ptr<SttFactory> factory) { m_factories.stt[std::move(name)] = std::move(factory); }

std::vector<json> CallManager::provider_chain(const json& agent, const std::string& stage) {
    std::vector<json> chain;
    if (!agent.contains(stage) || !agent[stage].is_object()) {
        chain.push_back({{"provider", registry::default_provider(stage)}});
        return chain;
    }
    json own = agent[stage];
    json fallbacks = own.value("fallbacks", json::array());
    own.erase("fallbacks");
    chain.push_back(own);
    for (auto& f : fallbacks)
        if (f.is_object()) {
            f.erase("fallbacks");
            chain.push_back(f);
        }
    return chain;
}

Result<std::unique_ptr<TtsClient>> CallManager::make_tts(const json& agent, std::size_t choice) const {
    auto chain = provider_chain(agent, "tts");
    if (choice >= chain.size()) return make_error(ErrorCode::unavailable, "no further TTS provider to fall back to");
    std::string provider = chain[choice].value("provider", registry::default_provider("tts"));
    if (provider.empty())
        return make_error(ErrorCode::unprocessable, "no default TTS provider is built into this daemon: name one in tts.provider");
    auto it = m_factories.tts.find(provider);
    if (it == m_factories.tts.end())
        return make_error(ErrorCode::unprocessable, "TTS provider \"" + provider + "\" is not available in this daemon");
    json chosen = agent;
    chosen["tts"] = chain[choice];
    return it->second->create(chosen);
}

Result<std::unique_ptr<SttClient>> CallManager::make_stt(const json& agent, std::size_t choice) const {
    auto chain = provider_chain(agent, "stt");
    if (choice >= chain.size()) return make_error(ErrorCode::unavailable, "no further STT provider to fall back to");
    std::string provider = chain[choice].value("provider", registry::default_provider("stt"));
    if (provider.empty())
        return make_error(ErrorCode::unprocessable, "no default STT provider is built into this daemon: name one in stt.provider");
    auto it = m_factories.stt.find(provider);
    if (it == m_factories.stt.end())
        return make_error(ErrorCode::unprocessable, "STT provider \"" + provider + "\" is not available in this daemon");
    json chosen = agent;
    chosen["stt"] = chain[choice];
    return it->second->create(chosen);
}

Result<std::unique_ptr<LlmClient>> CallManager::make_llm(const json& agent, const json& variables) const {
    std::string provider = registry::default_provider("llm");
    if (agent.contains("llm") && agent["llm"].is_object()) provider = agent["llm"].value("provider", provider);
    auto it = m_factories.llm.find(provider);
    if (it == m_factories.llm.end())
        return make_error(ErrorCode::unprocessable, "LLM provider \"" + provider + "\" is not available in this daemon");
    return it->second->create(agent, variables);
}

Result<Call> CallManager::create_local_call(const Agent& agent, const std::string& channel, const json& variables,
                                            std::vector<std::string> caller_lines) {
    if (channel != "chat" && channel != "local") return invalid_field("channel", "must be chat or local");
    CallSpec spec;
    spec.channel = channel;
    spec.from = "local";
    spec.to = agent.name;
    spec.variables = variables;
    spec.caller_lines = std::move(caller_lines);
    return create_call(agent, std::move(spec));
}

Result<Call> CallManager::create_call(const Agent& agent, CallSpec spec) {
    json definition = parse_json(agent.definition);
    json variables = spec.variables.is_object() ? spec.variables : json::object();
    if (auto llm = make_llm(definition, merge_variables(definition, variables)); !llm) return llm.take_error();
    Call call;
    call.id = spec.id.empty() ? new_id("call") : spec.id;
    call.workspace_id = agent.workspace_id;
    call.agent_id = agent.id;
    call.phone_id = spec.phone_id;
    call.campaign_id = spec.campaign_id;
    call.direction = spec.direction;
    call.channel = spec.channel;
    call.from_number = spec.from;
    call.to_number = spec.to;
    call.provider_call_id = spec.provider_call_id;
    call.status = spec.status;
    call.instance_id = m_instance;
    call.created_at = now_ms();
    if (auto s = m_store.create_call(call); !s) return s.take_error();
    bool sweep = m_recordings.claim_sweep(call.created_at);
    {
        std::lock_guard lock(m_mutex);
        m_pending_variables[call.id] = std::move(variables);
        if (!spec.caller_lines.empty()) m_caller_lines[call.id] = std::move(spec.caller_lines);
    }
    publish(call, "call:status", {{"status", call.status}});
    if (sweep) m_recordings.sweep(call.created_at);
    return call;
}

Result<std::unique_ptr<http::WsHandler>> CallManager::attach_media(const std::string& workspace_id,
                                                                   const std::string& call_id) {
    auto call = m_store.get_call(workspace_id, call_id);
    if (!call) return call.take_error();
    if (call->channel != "chat" && call->channel != "local") return not_found("local call");
    auto codec = call->channel == "local" ? make_local_codec() : nullptr;
    return attach(std::move(call).value(), std::move(codec));
}

Result<std::unique_ptr<http::WsHandler>> CallManager::attach_carrier_media(const std::string& call_id,
                                                                           std::unique_ptr<MediaCodec> codec) {
    auto call = m_store.find_call(call_id);
    if (!call) return call.take_error();
    if (call->channel != codec->channel()) return not_found("call");
    return attach(std::move(call).value(), std::move(codec));
}

Result<std::unique_ptr<http::WsHandler>> CallManager::attach(Call call, std::unique_ptr<MediaCodec> codec) {
    const std::string call_id = call.id;
    json variables;
    {
        std::lock_guard lock(m_mutex);
        if (m_live.count(call_id)) return make_error(ErrorCode::conflict, "this call already has its media connection");
        auto pending = m_pending_variables.find(call_id);
        if (pending == m_pending_variables.end() || call.ended_at != 0)
            return make_error(ErrorCode::conflict, "this call has already ended");
        variables = pending->second;
        m_pending_variables.erase(pending);
        m_live[call_id];  // reserved until the connection registers
    }
    auto agent = m_store.get_agent(call.workspace_id, call.agent_id);
    if (!agent) {
        forget(call_id);
        return make_error(ErrorCode::conflict, "the call's agent no longer exists");
    }
    json definition = parse_json(agent->definition);
    json merged = merge_variables(definition, variables);
    auto llm = make_llm(definition, merged);
    if (!llm) {
        forget(call_id);
        return llm.take_error();
    }
    std::vector<std::string> caller_lines;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_caller_lines.find(call_id); it != m_caller_lines.end()) {
            caller_lines = std::move(it->second);
            m_caller_lines.erase(it);
        }
    }
    const bool simulated = !caller_lines.empty();
    if (simulated) simulate_recognition(definition, std::move(caller_lines));
    auto session = codec ? make_voice_session(*this, call, definition, merged, std::move(llm).value(), simulated,
                                              std::move(codec))
                         : make_chat_session(*this, call, definition, merged, std::move(llm).value());
    return std::unique_ptr<http::WsHandler>(std::make_unique<RegisteringHandler>(
        std::move(session), [this, call_id, live = call](SessionPost post) {
            {
                std::lock_guard lock(m_mutex);
                m_live[call_id] = std::move(post);
            }
            if (m_on_live) m_on_live(live);
        }));
}

bool CallManager::is_live(const std::string& call_id) const {
    std::lock_guard lock(m_mutex);
    auto it = m_live.find(call_id);
    return it != m_live.end() && it->second;
}

void CallManager::set_transfer(std::string channel, TransferFn fn) { m_transfers[std::move(channel)] = std::move(fn); }

void CallManager::set_on_ended(std::string channel, std::function<void(const Call&)> fn) {
    m_on_ended[std::move(channel)] = std::move(fn);
}

void CallManager::call_ended(const Call& call) const {
    if (auto it = m_on_ended.find(call.channel); it != m_on_ended.end()) it->second(call);
}

Status CallManager::transfer(const Call& call, const std::string& number) const {
    auto it = m_transfers.find(call.channel);
    if (it == m_transfers.end()) return Ok{};  // local calls: nobody to hand over to, the call just ends
    return it->second(call, number);
}

Status CallManager::hangup(const std::string& workspace_id, const std::string& call_id) {
    auto call = m_store.get_call(workspace_id, call_id);
    if (!call) return call.take_error();
    SessionPost post;
    {
        std::lock_guard lock(m_mutex);
        auto pending = m_pending_variables.find(call_id);
        if (pending != m_pending_variables.end()) {
            // Never connected: cancel it.
            m_pending_variables.erase(pending);
            call->status = "canceled";
            call->ended_at = now_ms();
            call->end_reason = "api_hangup";
            if (auto s = m_store.update_call(*call); !s) return s;
            publish(*call, "call:status", {{"status", call->status}});
            publish(*call, "call:ended", {{"reason", call->end_reason}, {"duration_s", 0}});
            return Ok{};
        }
        auto it = m_live.find(call_id);
        if (it != m_live.end()) post = it->second;
    }
    if (!post) return make_error(ErrorCode::conflict, "the call is not live");
    post([](SessionBase* session) {
        if (session) session->stop("api_hangup");
    });
    return Ok{};
}

Status CallManager::transfer_live(const std::string& workspace_id, const std::string& call_id,
                                  const std::string& number) {
    auto call = m_store.get_call(workspace_id, call_id);
    if (!call) return call.take_error();
    SessionPost post;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_live.find(call_id); it != m_live.end()) post = it->second;
    }
    if (!post)
        return make_error(ErrorCode::conflict, call->ended_at != 0 ? "the call has already ended"
                                                                   : "the call is not live (its media stream has not started)");
    post([number](SessionBase* session) {
        if (session) session->transfer(number);
    });
    return Ok{};
}

void CallManager::carrier_ended(const std::string& call_id, const std::string& status, double duration_s) {
    SessionPost post;
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_live.find(call_id); it != m_live.end()) post = it->second;
        m_pending_variables.erase(call_id);  // a call that never streamed cannot start any more
    }
    // Runs after the session's own last write (queued from its strand), or at once when it is gone, so the
    // carrier's figures are never overwritten by the session's.
    auto record = [this, call_id, status, duration_s](SessionBase* session) {
        if (session && session->carrier_ended(status, duration_s)) return;
        m_writer.post([this, call_id, status, duration_s](Store&) { settle(call_id, status, duration_s); });
    };
    if (post) post(std::move(record));
    else record(nullptr);
}

void CallManager::forget(const std::string& call_id) {
    bool was_live = false;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_live.find(call_id);
        if (it == m_live.end()) return;
        was_live = bool(it->second);  // a reservation that never connected was never announced
        m_live.erase(it);
    }
    if (was_live && m_on_gone) m_on_gone(call_id);
}

void CallManager::drain(const std::string& goodbye) {
    std::vector<SessionPost> live;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, post] : m_live) live.push_back(post);
    }
    for (const auto& post : live)
        post([goodbye](SessionBase* session) {
            if (session) session->drain(goodbye);
        });
}

std::size_t CallManager::live_calls() const {
    std::lock_guard lock(m_mutex);
    return m_live.size();
}

void CallManager::publish(const Call& call, const std::string& type, json data) {
    m_events.publish(CallEvent{type, call.id, call.workspace_id, now_ms(), std::move(data)});
}

}  // namespace va
