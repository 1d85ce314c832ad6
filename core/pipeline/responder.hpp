// The responder: the conversation in, the agent's answer out. It asks the LLM, hands its tokens to the call's strand
// as they stream (a burst becomes one hop) together with the sentences they complete, and carries out the agent's
// HTTP tools: the tool runs off the strand through a ToolRunner, its answer joins the conversation, and the LLM is
// asked again (a few rounds at most), with the tool's filler said meanwhile if it runs long. end_call,
// transfer_call and an end-call phrase become the answer's end reason. cancel() (barge-in, the end of the call)
// silences the answer in flight: nothing of it arrives afterwards. Vendor-free: the LLM is an LlmClient, the tools
// a function, the strand and the clock an Executor, so it runs on a virtual clock in tests.
// Thread-safety: used from the call's strand only; the LLM's callbacks may come from any thread and reach the
// responder only through the Executor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/pipeline/conversation.hpp"
#include "core/pipeline/executor.hpp"
#include "core/providers/llm.hpp"

namespace va {

// What running one of the agent's tools came to.
struct ToolResult {
    bool ok = false;
    std::string content;  // what the LLM is told: the answer's body, or {"error": ...}
    std::string error;    // why it failed, for events and logs (never a secret)
    int status = 0;       // the tool's HTTP status, when it answered
    std::int64_t ms = 0;
};

// Runs the agent's tool `tool` (its entry in the agent's "tools") as the LLM called it. Blocking: it is run off the
// strand (Executor::run_blocking).
using ToolRunner = std::function<ToolResult(const nlohmann::json& tool, const ToolCall& call)>;

// The agent's answer to one caller turn, over all of its tool rounds.
struct AgentReply {
    std::string text;        // everything the caller was told (fillers included)
    std::string end_reason;  // set when the answer ends the call: agent_end_call, transferred:<to>, agent_end_phrase
    std::int64_t first_token_at = 0;  // the Executor's clock; 0: no token came
    Status status = Ok{};
    LlmUsage usage;  // summed over the turn's requests
};

// Where one answer goes, on the strand.
struct ReplySink {
    std::function<void(const std::string& text)> text;          // streamed text, as it comes
    std::function<void(const std::string& sentence)> sentence;  // optional: each sentence as it completes
    std::function<void(AgentReply reply)> done;                 // once, unless cancelled first
};

struct ResponderOptions {
    int filler_after_ms = 700;  // a tool still running then gets its filler said
    int max_tool_rounds = 3;
    // Each tool run: {"name", "ok", "ms", "status"?, "error"?} (for events and the call's metrics).
    std::function<void(const nlohmann::json& run)> tool_ran;
};

class Responder {
public:
    Responder(std::shared_ptr<Executor> executor, std::shared_ptr<LlmClient> llm, Conversation& conversation,
              ToolRunner tools, ResponderOptions options = {});
    ~Responder();
    Responder(const Responder&) = delete;
    Responder& operator=(const Responder&) = delete;

    // Answers the conversation as it stands (the caller's words already in it); an answer in flight is cancelled.
    void answer(ReplySink sink);
    // Nothing more of the answer in flight arrives (its LLM request is cancelled, a running tool's result dropped).
    void cancel();

private:
    struct Turn;
    void ask(std::shared_ptr<Turn> turn);
    void take_text(Turn& turn, const std::string& text);
    void finish(std::shared_ptr<Turn> turn, Status status, std::optional<ToolCall> tool, std::string said);
    void run_tool(std::shared_ptr<Turn> turn, ToolCall call, std::string said);

    std::shared_ptr<Executor> m_exec;
    std::shared_ptr<LlmClient> m_llm;  // shared with a blocking start() running off the strand
    Conversation& m_conversation;
    ToolRunner m_tools;
    ResponderOptions m_options;
    std::unique_ptr<LlmStream> m_stream;
    // A newer answer or a cancel makes older callbacks stale. Shared with them, so a callback that arrives after
    // the responder is gone finds it changed instead of touching freed memory.
    std::shared_ptr<int> m_generation = std::make_shared<int>(0);
};

}  // namespace va
