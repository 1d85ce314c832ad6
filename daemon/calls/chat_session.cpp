// A chat call: text turns through the same conversation, LLM, tools and storage as a voice call.
// Protocol (JSON text frames): in {"type":"text","text":...} and {"type":"hangup"}; out {"type":"start",...},
// {"type":"agent_delta","text":...} while the reply streams, {"type":"agent","text":...} when it is complete,
// {"type":"user","text":...} echoing what was stored, {"type":"listening"} when the agent waits for the caller,
// {"type":"error","message":...}, {"type":"end","reason":...}.
#include "core/util/time.hpp"
#include "daemon/calls/session_base.hpp"

namespace va {

using nlohmann::json;

namespace {

class ChatSession final : public SessionBase {
public:
    using SessionBase::SessionBase;

    void on_open(std::shared_ptr<http::WsConnection> connection) override {
        begin(std::move(connection), json::object());
        if (!m_conversation.greeting().empty()) agent_said(m_conversation.greeting(), m_started, false);
        send({{"type", "listening"}});
    }

    void on_text(std::string_view message) override {
        if (m_ended) return;
        json in = parse_control(message);
        if (in.is_null()) return;
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
        if (!m_ended) end("caller_disconnected", 0);
        m_manager.forget(m_call.id);
    }

    void drain(const std::string& goodbye) override {
        if (m_ended) return;
        cancel_answer();
        agent_said(goodbye, now_ms(), false);
        end("daemon_shutdown", 1000);
    }

private:
    void user_said(const std::string& text) {
        auto at = now_ms();
        auto asked_at = m_exec->now_ms();  // the responder's clock, which times the first token
        ask(text, at, at, "text",
            {[this](const std::string& token) { send({{"type", "agent_delta"}, {"text", token}}); }, {},
             [this, at, asked_at](AgentReply reply) {
                if (!reply.status) {
                    send({{"type", "error"}, {"message", "the agent could not answer: " + reply.status.error().message}});
                    return send({{"type", "listening"}});
                }
                m_turn_metrics.push_back({{"llm_first_token_ms", reply.first_token_at ? reply.first_token_at - asked_at : 0}});
                agent_said(reply.text, at, true);
                if (!reply.end_reason.empty()) return end(reply.end_reason, 1000);
                send({{"type", "listening"}});
            }});
    }

    void agent_said(const std::string& text, std::int64_t from, bool add_to_history) {
        if (add_to_history) m_conversation.add_agent(text);
        store_turn("agent", text, from, now_ms(), false, "llm");
        publish_transcript("agent", text, true, "");
        send({{"type", "agent"}, {"text", text}});
    }
};

}  // namespace

std::unique_ptr<SessionBase> make_chat_session(CallManager& manager, Call call, json agent, const json& variables,
                                                   std::unique_ptr<LlmClient> llm) {
    return std::make_unique<ChatSession>(manager, std::move(call), std::move(agent), variables, std::move(llm));
}

}  // namespace va
