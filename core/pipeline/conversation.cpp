#include "core/pipeline/conversation.hpp"

#include "core/util/strings.hpp"

namespace va {

using nlohmann::json;

json merge_variables(const json& agent, const json& call_variables) {
    json merged = agent.contains("variables") && agent["variables"].is_object() ? agent["variables"] : json::object();
    if (call_variables.is_object())
        for (const auto& [k, v] : call_variables.items()) merged[k] = v;
    return merged;
}

Conversation::Conversation(const json& agent, const json& variables) {
    m_system = fill_placeholders(agent.value("system_prompt", ""), variables);
    m_greeting = fill_placeholders(agent.value("first_message", ""), variables);
    if (agent.contains("end_call_phrases"))
        for (const auto& p : agent["end_call_phrases"])
            if (p.is_string()) m_end_phrases.push_back(to_lower(p.get<std::string>()));
    if (agent.contains("tools")) {
        for (const auto& t : agent["tools"]) {
            std::string type = t.value("type", "");
            if (type == "end_call") {
                m_tools.push_back({"end_call", t.value("description", "End the call."), json::object()});
            } else if (type == "transfer_call") {
                m_tools.push_back({"transfer_call", t.value("description", "Transfer the caller to a person."),
                                   {{"type", "object"}, {"properties", {{"to", {{"type", "string"}}}}}}});
            } else if (type == "http") {
                m_tools.push_back({t.value("name", ""), t.value("description", ""),
                                   t.contains("parameters") ? t["parameters"] : json{{"type", "object"}}});
                m_http_tools.push_back(t);
            }
        }
    }
    if (!m_greeting.empty()) m_history.push_back({"assistant", m_greeting});
}

void Conversation::add_user(std::string text) { m_history.push_back({"user", std::move(text)}); }
void Conversation::add_agent(std::string text) { m_history.push_back({"assistant", std::move(text)}); }

void Conversation::add_tool_exchange(std::string text_so_far, ToolCall call, std::string result) {
    ChatMessage asked("assistant", std::move(text_so_far));
    std::string id = call.id;
    asked.tool_calls.push_back(std::move(call));
    m_history.push_back(std::move(asked));
    ChatMessage answer("tool", std::move(result));
    answer.tool_call_id = std::move(id);
    m_history.push_back(std::move(answer));
}

const json* Conversation::http_tool(const std::string& name) const {
    for (const auto& t : m_http_tools)
        if (t.value("name", "") == name) return &t;
    return nullptr;
}

LlmRequest Conversation::request() const {
    LlmRequest r;
    if (!m_system.empty()) r.messages.push_back({"system", m_system});
    r.messages.insert(r.messages.end(), m_history.begin(), m_history.end());
    r.tools = m_tools;
    return r;
}

bool Conversation::ends_call(const std::string& agent_text) const {
    std::string lower = to_lower(agent_text);
    for (const auto& p : m_end_phrases)
        if (lower.find(p) != std::string::npos) return true;
    return false;
}

}  // namespace va
