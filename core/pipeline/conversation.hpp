// A call's conversation as the LLM sees it: the agent's system prompt (placeholders filled), the turns so far, and
// the tools the agent offers. Shared by chat and voice calls, so both behave the same for the same words.
// Thread-safety: one instance per call, used from that call's strand.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/providers/llm.hpp"

namespace va {

class Conversation {
public:
    Conversation(const nlohmann::json& agent, const nlohmann::json& variables);

    const std::string& greeting() const { return m_greeting; }
    void add_user(std::string text);
    void add_agent(std::string text);
    // The agent asked for a tool (after saying `text_so_far`) and it answered `result`: both join the history,
    // so the LLM's next answer can use it.
    void add_tool_exchange(std::string text_so_far, ToolCall call, std::string result);
    // The agent's HTTP tool called `name`, or null.
    const nlohmann::json* http_tool(const std::string& name) const;
    LlmRequest request() const;
    const std::vector<ChatMessage>& history() const { return m_history; }
    // True when `text` (the agent's own words) contains one of the agent's end-call phrases.
    bool ends_call(const std::string& agent_text) const;

private:
    std::string m_system;
    std::string m_greeting;
    std::vector<ChatMessage> m_history;
    std::vector<ToolSpec> m_tools;
    std::vector<std::string> m_end_phrases;
    nlohmann::json m_http_tools = nlohmann::json::array();
};

// The variables for a call: the agent's defaults overridden by the call's own.
nlohmann::json merge_variables(const nlohmann::json& agent, const nlohmann::json& call_variables);

}  // namespace va
