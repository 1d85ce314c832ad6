#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/session_base.hpp"
#include "daemon/media/local_codec.hpp"

#include <spdlog/spdlog.h>

#include "core/pipeline/conversation.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"

namespace va {

using nlohmann::json;

namespace {

// Forwards to the session, registering its connection with the manager when it opens.
class RegisteringHandler final : public http::WsHandler {
public:
    RegisteringHandler(std::unique_ptr<http::WsHandler> session, std::function<void(std::shared_ptr<http::WsConnection>)> on_open)
        : m_session(std::move(session)), m_register(std::move(on_open)) {}
    void on_open(std::shared_ptr<http::WsConnection> c) override {
        m_register(c);
        m_session->on_open(std::move(c));
    }
    void on_text(std::string_view m) override { m_session->on_text(m); }
    void on_binary(std::string_view m) override { m_session->on_binary(m); }
    void on_close() override { m_session->on_close(); }
private:
    std::unique_ptr<http::WsHandler> m_session;
    std::function<void(std::shared_ptr<http::WsConnection>)> m_register;
};

}  // namespace

CallManager::CallManager(Store& store, EventBus& events, MetricsRegistry& metrics)
    : m_store(store), m_events(events), m_metrics(metrics) {
    for (const char* stage : {"stt", "llm_first_token", "tts_first_audio", "voice_to_voice"})
        m_metrics.describe_histogram(std::string("voiceagent_turn_") + stage + "_seconds",
                                     std::string("Per voice turn: end of caller speech to ") + stage + ".",
                                     latency_buckets_s());
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
    m_llms[std::move(name)] = std::move(factory);
}

void CallManager::add_tts(std::string name, std::shared_ptr<TtsFactory> factory) { m_tts[std::move(name)] = std::move(factory); }
void CallManager::add_stt(std::string name, std::shared_ptr<SttFactory> factory) { m_stt[std::move(name)] = std::move(factory); }

Result<std::unique_ptr<TtsClient>> CallManager::make_tts(const json& agent) const {
    std::string provider = "espeak-ng";
    if (agent.contains("tts") && agent["tts"].is_object()) provider = agent["tts"].value("provider", provider);
    auto it = m_tts.find(provider);
    if (it == m_tts.end())
        return make_error(ErrorCode::unprocessable, "TTS provider \"" + provider + "\" is not available in this daemon");
    return it->second->create(agent);
}

Result<std::unique_ptr<SttClient>> CallManager::make_stt(const json& agent, const std::vector<std::string>& lines) const {
    std::string provider = lines.empty() ? "pocketsphinx" : "scripted";
    if (lines.empty() && agent.contains("stt") && agent["stt"].is_object()) provider = agent["stt"].value("provider", provider);
    auto it = m_stt.find(provider);
    if (it == m_stt.end())
        return make_error(ErrorCode::unprocessable, "STT provider \"" + provider + "\" is not available in this daemon");
    return it->second->create(agent, lines);
}

Result<std::unique_ptr<LlmClient>> CallManager::make_llm(const json& agent, const json& variables) const {
    std::string provider = "scripted";
    if (agent.contains("llm") && agent["llm"].is_object()) provider = agent["llm"].value("provider", "scripted");
    auto it = m_llms.find(provider);
    if (it == m_llms.end())
        return make_error(ErrorCode::unprocessable, "LLM provider \"" + provider + "\" is not available in this daemon");
    return it->second->create(agent, variables);
}

Result<Call> CallManager::create_local_call(const Agent& agent, const std::string& channel, const json& variables,
                                            std::vector<std::string> caller_lines) {
    if (channel != "chat" && channel != "local") return invalid_field("channel", "must be chat or local");
    json definition = json::parse(agent.definition, nullptr, false);
    if (auto llm = make_llm(definition, merge_variables(definition, variables)); !llm) return llm.take_error();
    Call call;
    call.id = new_id("call");
    call.workspace_id = agent.workspace_id;
    call.agent_id = agent.id;
    call.direction = "inbound";
    call.channel = channel;
    call.from_number = "local";
    call.to_number = agent.name;
    call.status = "queued";
    call.created_at = now_ms();
    if (auto s = m_store.create_call(call); !s) return s.take_error();
    {
        std::lock_guard lock(m_mutex);
        m_pending_variables[call.id] = variables.is_object() ? variables : json::object();
        if (!caller_lines.empty()) m_caller_lines[call.id] = std::move(caller_lines);
    }
    publish(call, "call:status", {{"status", call.status}});
    return call;
}

Result<std::unique_ptr<http::WsHandler>> CallManager::attach_media(const std::string& workspace_id,
                                                                   const std::string& call_id) {
    auto call = m_store.get_call(workspace_id, call_id);
    if (!call) return call.take_error();
    if (call->channel != "chat" && call->channel != "local") return not_found("local call");
    json variables;
    {
        std::lock_guard lock(m_mutex);
        if (m_live.count(call_id)) return make_error(ErrorCode::conflict, "this call already has its media connection");
        auto pending = m_pending_variables.find(call_id);
        if (pending == m_pending_variables.end() || call->status != "queued")
            return make_error(ErrorCode::conflict, "this call has already ended");
        variables = pending->second;
        m_pending_variables.erase(pending);
        m_live[call_id];  // reserved until the connection registers
    }
    auto agent = m_store.get_agent(workspace_id, call->agent_id);
    if (!agent) {
        forget(call_id);
        return make_error(ErrorCode::conflict, "the call's agent no longer exists");
    }
    json definition = json::parse(agent->definition, nullptr, false);
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
    auto session = call->channel == "chat"
                       ? make_chat_session(*this, *call, definition, merged, std::move(llm).value())
                       : make_voice_session(*this, *call, definition, merged, std::move(llm).value(),
                                            std::move(caller_lines), make_local_codec());
    return std::unique_ptr<http::WsHandler>(std::make_unique<RegisteringHandler>(
        std::move(session), [this, call_id](std::shared_ptr<http::WsConnection> c) {
            std::lock_guard lock(m_mutex);
            m_live[call_id] = c;
        }));
}

Status CallManager::hangup(const std::string& workspace_id, const std::string& call_id) {
    auto call = m_store.get_call(workspace_id, call_id);
    if (!call) return call.take_error();
    std::shared_ptr<http::WsConnection> connection;
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
        if (it != m_live.end()) connection = it->second.lock();
    }
    if (!connection) return make_error(ErrorCode::conflict, "the call is not live");
    {
        std::lock_guard lock(m_mutex);
        m_hangups.insert(call_id);
    }
    connection->send_text(json{{"type", "end"}, {"reason", "api_hangup"}}.dump());
    connection->close(1000, "api_hangup");
    return Ok{};
}

bool CallManager::take_hangup(const std::string& call_id) {
    std::lock_guard lock(m_mutex);
    return m_hangups.erase(call_id) > 0;
}

void CallManager::forget(const std::string& call_id) {
    std::lock_guard lock(m_mutex);
    m_live.erase(call_id);
}

std::size_t CallManager::live_calls() const {
    std::lock_guard lock(m_mutex);
    return m_live.size();
}

void CallManager::publish(const Call& call, const std::string& type, json data) {
    m_events.publish(CallEvent{type, call.id, call.workspace_id, now_ms(), std::move(data)});
}

}  // namespace va
