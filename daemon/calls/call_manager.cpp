#include "daemon/calls/call_manager.hpp"

#include <spdlog/spdlog.h>

#include "core/pipeline/conversation.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"

namespace va {

using nlohmann::json;

namespace {

// A chat call: text turns through the same conversation, LLM, tools and storage as a voice call.
// Protocol (JSON text frames): in {"type":"text","text":...} and {"type":"hangup"}; out {"type":"start",...},
// {"type":"agent_delta","text":...} while the reply streams, {"type":"agent","text":...} when it is complete,
// {"type":"user","text":...} echoing what was stored, {"type":"listening"} when the agent waits for the caller,
// {"type":"error","message":...}, {"type":"end","reason":...}.
class ChatSession final : public http::WsHandler {
public:
    ChatSession(CallManager& manager, Call call, json agent, json variables, std::unique_ptr<LlmClient> llm)
        : m_manager(manager),
          m_call(std::move(call)),
          m_agent(std::move(agent)),
          m_conversation(m_agent, variables),
          m_llm(std::move(llm)) {}

    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        m_connection = connection;
        m_started = now_ms();
        m_call.status = "in-progress";
        m_call.started_at = m_call.answered_at = m_started;
        (void)m_manager.store().update_call(m_call);
        m_manager.publish(m_call, "call:started", {{"channel", m_call.channel}, {"agent_id", m_call.agent_id}});
        m_manager.publish(m_call, "call:status", {{"status", m_call.status}});
        send({{"type", "start"}, {"call_id", m_call.id}, {"channel", m_call.channel}, {"agent", m_agent.value("name", "")}});
        if (!m_conversation.greeting().empty()) agent_said(m_conversation.greeting(), m_started, false);
        send({{"type", "listening"}});
    }

    void on_text(std::string_view message) override {
        if (m_ended) return;
        json in = json::parse(message, nullptr, false);
        if (in.is_discarded() || !in.is_object() || !in.contains("type") || !in["type"].is_string())
            return send({{"type", "error"}, {"message", "expected a JSON object with a string \"type\""}});
        std::string type = in["type"];
        if (type == "hangup") return end("caller_hangup", 1000);
        if (type != "text")
            return send({{"type", "error"}, {"message", "unknown message type \"" + type + "\" (expected text or hangup)"}});
        if (!in.contains("text") || !in["text"].is_string() || in["text"].get<std::string>().empty())
            return send({{"type", "error"}, {"message", "text: must be a non-empty string"}});
        user_said(in["text"].get<std::string>());
    }

    void on_binary(std::string_view) override {
        if (m_ended) return;
        send({{"type", "error"}, {"message", "a chat call carries text only; use channel local for audio"}});
    }

    void on_close() override {
        if (!m_ended) end(m_manager.take_hangup(m_call.id) ? "api_hangup" : "caller_disconnected", 0);
        m_manager.forget(m_call.id);
    }

private:
    std::int64_t offset(std::int64_t t) const { return t - m_started; }

    void send(const json& message) {
        if (auto c = m_connection.lock()) c->send_text(message.dump());
    }

    void store_turn(const std::string& role, const std::string& text, std::int64_t from, std::int64_t to,
                    const char* source) {
        auto stored = m_manager.store().append_turn({m_call.id, 0, role, text, offset(from), offset(to), false, source});
        if (!stored) spdlog::error("call {}: cannot store a turn: {}", m_call.id, stored.error().message);
    }

    void user_said(const std::string& text) {
        auto at = now_ms();
        m_conversation.add_user(text);
        store_turn("user", text, at, at, "text");
        m_manager.publish(m_call, "call:transcript", {{"role", "user"}, {"text", text}, {"final", true}});
        send({{"type", "user"}, {"text", text}});

        std::string reply;
        std::optional<ToolCall> tool;
        std::int64_t first_token = 0;
        Status result = Ok{};
        m_stream = m_llm->start(m_conversation.request(),
                                {[&](const std::string& token) {
                                     if (!first_token) first_token = now_ms();
                                     reply += token;
                                     send({{"type", "agent_delta"}, {"text", token}});
                                 },
                                 [&](const ToolCall& call) { tool = call; },
                                 [&](Status s) { result = std::move(s); }});
        if (!result) {
            m_manager.publish(m_call, "call:error", {{"message", result.error().message}});
            return send({{"type", "error"}, {"message", "the agent could not answer: " + result.error().message}});
        }
        m_turn_metrics.push_back({{"llm_first_token_ms", first_token ? first_token - at : 0}});
        agent_said(reply, at, true);
        if (tool && tool->name == "end_call") return end("agent_end_call", 1000);
        if (tool && tool->name == "transfer_call")
            return end("transferred:" + tool->arguments.value("to", std::string("unknown")), 1000);
        if (m_conversation.ends_call(reply)) return end("agent_end_phrase", 1000);
        send({{"type", "listening"}});
    }

    void agent_said(const std::string& text, std::int64_t from, bool add_to_history) {
        auto now = now_ms();
        if (add_to_history) m_conversation.add_agent(text);
        store_turn("agent", text, from, now, "llm");
        m_manager.publish(m_call, "call:transcript", {{"role", "agent"}, {"text", text}, {"final", true}});
        send({{"type", "agent"}, {"text", text}});
    }

    void end(const std::string& reason, int close_code) {
        if (m_ended) return;
        m_ended = true;
        auto now = now_ms();
        m_call.status = "completed";
        m_call.ended_at = now;
        m_call.end_reason = reason;
        m_call.duration_s = double(now - m_started) / 1000.0;
        m_call.metrics = json{{"turns", m_turn_metrics}}.dump();
        if (auto s = m_manager.store().update_call(m_call); !s)
            spdlog::error("call {}: cannot store its end: {}", m_call.id, s.error().message);
        m_manager.publish(m_call, "call:status", {{"status", m_call.status}});
        m_manager.publish(m_call, "call:ended", {{"reason", reason}, {"duration_s", m_call.duration_s}});
        if (close_code) {
            send({{"type", "end"}, {"reason", reason}});
            if (auto c = m_connection.lock()) c->close(close_code, reason);
        }
    }

    CallManager& m_manager;
    Call m_call;
    json m_agent;
    Conversation m_conversation;
    std::unique_ptr<LlmClient> m_llm;
    std::unique_ptr<LlmStream> m_stream;
    std::weak_ptr<http::WsConnection> m_connection;
    json m_turn_metrics = json::array();
    std::int64_t m_started = 0;
    bool m_ended = false;

};

// Forwards to the session, registering its connection with the manager when it opens.
class RegisteringHandler final : public http::WsHandler {
public:
    RegisteringHandler(std::unique_ptr<ChatSession> session, std::function<void(std::shared_ptr<http::WsConnection>)> on_open)
        : m_session(std::move(session)), m_register(std::move(on_open)) {}
    void on_open(std::shared_ptr<http::WsConnection> c) override {
        m_register(c);
        m_session->on_open(std::move(c));
    }
    void on_text(std::string_view m) override { m_session->on_text(m); }
    void on_binary(std::string_view m) override { m_session->on_binary(m); }
    void on_close() override { m_session->on_close(); }
    ChatSession* session() { return m_session.get(); }

private:
    std::unique_ptr<ChatSession> m_session;
    std::function<void(std::shared_ptr<http::WsConnection>)> m_register;
};

}  // namespace

CallManager::CallManager(Store& store, EventBus& events) : m_store(store), m_events(events) {}

void CallManager::add_llm(std::string name, std::shared_ptr<LlmFactory> factory) {
    m_llms[std::move(name)] = std::move(factory);
}

Result<std::unique_ptr<LlmClient>> CallManager::make_llm(const json& agent, const json& variables) const {
    std::string provider = "scripted";
    if (agent.contains("llm") && agent["llm"].is_object()) provider = agent["llm"].value("provider", "scripted");
    auto it = m_llms.find(provider);
    if (it == m_llms.end())
        return make_error(ErrorCode::unprocessable, "LLM provider \"" + provider + "\" is not available in this daemon");
    return it->second->create(agent, variables);
}

Result<Call> CallManager::create_local_call(const Agent& agent, const std::string& channel, const json& variables) {
    if (channel != "chat" && channel != "local") return invalid_field("channel", "must be chat or local");
    if (channel == "local")
        return make_error(ErrorCode::unprocessable,
                          "audio local calls need the real-time voice pipeline, which this build does not have yet; "
                          "use channel chat");
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
    auto session = std::make_unique<ChatSession>(*this, *call, definition, merged, std::move(llm).value());
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
