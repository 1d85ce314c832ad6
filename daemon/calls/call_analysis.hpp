// Post-call analysis, run as a job after every call ends: the call's outcome (answered, voicemail, no-answer,
// busy, failed, or completed-goal when the analysis says the agent's goal was reached) and, when the agent asks
// for it ("analysis" in its definition), a summary and extracted fields written by the agent's own LLM (the
// scripted offline one included), validated against the agent's JSON schema and stored on the call. A call:analysis
// event (and so webhook deliveries) follows.
// Thread-safety: the free functions are pure; CallAnalysis subscribes to the event bus in its constructor and its
// run() is called by job queue workers, any number at once.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jobs/job_queue.hpp"
#include "core/providers/llm.hpp"
#include "core/store/store.hpp"
#include "daemon/calls/event_bus.hpp"

namespace va {

class CallManager;

// How an ended call turned out, from its status and what the callee said (a greeting that asks to leave a
// message is a voicemail).
std::string call_outcome(const Call& call, const std::vector<CallTurn>& turns);

// The request that asks an LLM for {"summary", "fields"} about `turns`, following the agent's "analysis".
LlmRequest analysis_request(const nlohmann::json& analysis, const std::vector<CallTurn>& turns);

// The LLM's answer read as {"summary", "fields"}: the JSON object in it (code fences and prose around it are
// tolerated) with fields valid against `fields_schema`; an error saying what is wrong otherwise.
Result<nlohmann::json> parse_analysis(const std::string& reply, const nlohmann::json& fields_schema);

class CallAnalysis {
public:
    static constexpr const char* kJobType = "call.analyze";

    CallAnalysis(Store& store, EventBus& bus, JobQueue& jobs, const CallManager& calls);
    ~CallAnalysis();
    CallAnalysis(const CallAnalysis&) = delete;
    CallAnalysis& operator=(const CallAnalysis&) = delete;

    Status run(JobContext& ctx);

private:
    Store& m_store;
    EventBus& m_bus;
    JobQueue& m_jobs;
    const CallManager& m_calls;
    std::uint64_t m_subscription = 0;
};

}  // namespace va
