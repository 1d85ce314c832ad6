// The LLM provider interface: a stateless factory per provider kind builds a per-call LlmClient from the agent's
// "llm" settings; each start() streams one reply (tokens, then possibly tool calls, then done) and can be
// cancelled (barge-in). Callbacks may arrive on any thread; callers post them into their own strand.
// Thread-safety: factories are immutable and shared; an LlmClient and its streams belong to one call.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.hpp"

namespace va {

struct ToolCall {
    std::string id;  // the provider's id for it, echoed in the tool's answer
    std::string name;
    nlohmann::json arguments = nlohmann::json::object();
};

struct ChatMessage {
    ChatMessage() = default;
    ChatMessage(std::string r, std::string c) : role(std::move(r)), content(std::move(c)) {}

    std::string role;     // system | user | assistant | tool
    std::string content;
    std::vector<ToolCall> tool_calls;  // assistant: the tools it asked for
    std::string tool_call_id;          // tool: which call this answers
};

struct ToolSpec {
    std::string name;         // end_call, transfer_call, or an HTTP tool's name
    std::string description;
    nlohmann::json parameters = nlohmann::json::object();  // JSON schema of the arguments
};

struct LlmRequest {
    std::vector<ChatMessage> messages;
    std::vector<ToolSpec> tools;
    // "analysis": a post-call analysis (the last user message is the transcript, one "caller: " or "agent: " line
    // per turn; the answer is a JSON object). Empty: a turn of the conversation.
    std::string purpose = {};
};

struct LlmUsage {
    int prompt_tokens = 0;
    int completion_tokens = 0;
};

struct LlmCallbacks {
    std::function<void(const std::string& token)> on_token;
    std::function<void(const ToolCall& call)> on_tool_call;
    std::function<void(Status status)> on_done;  // exactly once, unless cancelled first
    std::function<void(const LlmUsage& usage)> on_usage;  // before on_done, when the provider reports it
};

class LlmStream {
public:
    virtual ~LlmStream() = default;
    // After cancel() returns no further callback of this stream is made.
    virtual void cancel() = 0;
};

class LlmClient {
public:
    virtual ~LlmClient() = default;
    virtual std::unique_ptr<LlmStream> start(LlmRequest request, LlmCallbacks callbacks) = 0;
    // True when start() does the whole answer before it returns (CPU work on the caller's thread, such as matching
    // user-written patterns): callers run it on a worker pool, not on an I/O thread. Network clients return at once.
    virtual bool blocking() const { return false; }
};

class LlmFactory {
public:
    virtual ~LlmFactory() = default;
    // `agent` is the whole agent definition (the factory reads "llm", and e.g. "script" for the scripted LLM);
    // `variables` fill {{placeholders}}.
    virtual Result<std::unique_ptr<LlmClient>> create(const nlohmann::json& agent,
                                                      const nlohmann::json& variables) const = 0;
    // Whether an agent's "llm" object (its own or a fallback's) may be used here, checked when the agent is created
    // or updated: an unprocessable error naming the field (e.g. "llm.base_url") otherwise. create() checks again.
    virtual Status check(const nlohmann::json& llm) const {
        (void)llm;
        return Ok{};
    }
};

// Replaces {{name}} with variables[name] (strings; others dumped); unknown placeholders are left as they are.
// A member writes the text and a caller of the API the variables, so their product is bounded: a substitution
// that would take the result past max(text's size, kMaxFilledBytes) is not made (its placeholder stays), or a
// 100 KiB prompt of `{{x}}` with a 10 KiB `x` would become a gigabyte.
inline constexpr std::size_t kMaxFilledBytes = 256 * 1024;
std::string fill_placeholders(const std::string& text, const nlohmann::json& variables);

}  // namespace va
