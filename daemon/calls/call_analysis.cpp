#include "daemon/calls/call_analysis.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "config/agent_schema.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/call_stats.hpp"

namespace va {

using nlohmann::json;

namespace {

// Words of an answering machine's greeting.
const char* kVoicemail[] = {"leave a message", "leave your message", "after the tone", "after the beep",
                            "voicemail", "voice mail", "not available to take your call", "record your message"};

constexpr int kAnalysisTimeoutMs = 60000;

}  // namespace

std::string call_outcome(const Call& call, const std::vector<CallTurn>& turns) {
    if (call.status == "busy") return "busy";
    if (call.status == "no-answer") return "no-answer";
    if (call.status == "failed" || call.status == "canceled") return "failed";
    for (const auto& t : turns) {
        if (t.role != "user") continue;
        std::string said = to_lower(t.text);
        for (const char* words : kVoicemail)
            if (said.find(words) != std::string::npos) return "voicemail";
        break;  // only the callee's first words tell a machine
    }
    bool spoke = std::any_of(turns.begin(), turns.end(), [](const CallTurn& t) { return t.role == "user"; });
    if (!spoke && call.direction == "outbound" && call.started_at == 0) return "no-answer";
    return "answered";
}

LlmRequest analysis_request(const json& analysis, const std::vector<CallTurn>& turns) {
    json fields = analysis.value("fields", json{{"type", "object"}});
    std::string system =
        "You analyse a finished phone call between an AI agent and a caller. Answer with one JSON object and nothing "
        "else: {\"summary\": a summary of the call in at most three sentences, \"fields\": an object that is valid "
        "against this JSON schema: " +
        fields.dump() + "}. Use null for what the call did not reveal.";
    if (auto extra = analysis.value("instructions", std::string()); !extra.empty()) system += " " + extra;
    std::string transcript;
    for (const auto& t : turns) {
        if (t.text.empty()) continue;
        transcript += (t.role == "user" ? "caller: " : "agent: ") + t.text + "\n";
    }
    LlmRequest request;
    request.purpose = "analysis";
    request.messages.emplace_back("system", system);
    request.messages.emplace_back("user", transcript.empty() ? "(nothing was said)" : transcript);
    return request;
}

Result<json> parse_analysis(const std::string& reply, const json& fields_schema) {
    auto open = reply.find('{');
    auto close = reply.rfind('}');
    if (open == std::string::npos || close == std::string::npos || close < open)
        return make_error(ErrorCode::unprocessable, "the analysis is not a JSON object");
    json out = parse_json(reply.substr(open, close - open + 1));
    if (!out.is_object()) return make_error(ErrorCode::unprocessable, "the analysis is not a JSON object");
    if (!out.contains("summary") || !out["summary"].is_string())
        return make_error(ErrorCode::unprocessable, "the analysis has no summary");
    if (!out.contains("fields") || !out["fields"].is_object()) out["fields"] = json::object();
    // Fields the call did not reveal may be null even where the schema wants a type: drop them before validating.
    json present = json::object();
    for (auto& [k, v] : out["fields"].items())
        if (!v.is_null()) present[k] = v;
    json schema = fields_schema;
    if (schema.is_object()) schema.erase("required");
    if (auto valid = validate_json_schema(schema, present); !valid) {
        std::string why = "the extracted fields do not match the schema:";
        for (const auto& d : valid.error().details) why += " " + d.field + " " + d.reason + ";";
        return make_error(ErrorCode::unprocessable, why);
    }
    return out;
}

CallAnalysis::CallAnalysis(Store& store, EventBus& bus, JobQueue& jobs, const CallManager& calls)
    : m_store(store), m_bus(bus), m_jobs(jobs), m_calls(calls) {
    // The call is stored by its session's writer after call:ended is published: the job starts a moment later, and
    // waits for the stored end when it is earlier still.
    m_subscription = m_bus.subscribe(EventBus::kAllWorkspaces, "", [this](const CallEvent& event) {
        if (event.type != "call:ended") return;
        EnqueueOptions options;
        options.run_after = now_ms() + 500;
        options.max_attempts = 5;
        options.idempotency_key = "analyze:" + event.call_id;
        if (auto j = m_jobs.enqueue(kJobType, json{{"call_id", event.call_id}}.dump(), options); !j)
            spdlog::error("call {}: cannot queue its analysis: {}", event.call_id, j.error().message);
    }, EventBus::Scope::local);
}

CallAnalysis::~CallAnalysis() { m_bus.unsubscribe(m_subscription); }

Status CallAnalysis::run(JobContext& ctx) {
    json payload = parse_json(ctx.job.payload);
    if (!payload.is_object() || !payload.contains("call_id") || !payload["call_id"].is_string())
        return make_error(ErrorCode::invalid_request, "an analysis job needs a call_id");
    auto call = m_store.find_call(payload["call_id"]);
    if (!call) return call.error().code == ErrorCode::not_found ? Status(Ok{}) : Status(call.take_error());
    if (call->ended_at == 0) return make_error(ErrorCode::unavailable, "the call's end is not stored yet");
    auto turns = m_store.list_turns(call->id);
    if (!turns) return turns.take_error();
    call->outcome = call_outcome(*call, *turns);
    json analysis = json::object();
    json definition = json::object();
    if (!call->agent_id.empty())
        if (auto agent = m_store.get_agent(call->workspace_id, call->agent_id))
            definition = parse_json(agent->definition);
    json spec = definition.is_object() ? definition.value("analysis", json()) : json();
    bool reached = call->outcome == "answered";
    if (spec.is_object() && reached) {
        auto llm = m_calls.make_llm(definition, json::object());
        if (!llm) return make_error(ErrorCode::unprocessable, "analysis: " + llm.error().message);
        struct Wait {
            std::mutex mutex;
            std::condition_variable cv;
            std::string text;
            std::optional<Status> done;
        };
        auto wait = std::make_shared<Wait>();
        LlmCallbacks callbacks;
        callbacks.on_token = [wait](const std::string& t) {
            std::lock_guard lock(wait->mutex);
            wait->text += t;
        };
        callbacks.on_done = [wait](Status s) {
            std::lock_guard lock(wait->mutex);
            wait->done = std::move(s);
            wait->cv.notify_all();
        };
        auto stream = (*llm)->start(analysis_request(spec, *turns), callbacks);
        std::unique_lock lock(wait->mutex);
        if (!wait->cv.wait_for(lock, std::chrono::milliseconds(kAnalysisTimeoutMs), [&] { return wait->done.has_value(); })) {
            lock.unlock();
            stream->cancel();
            return make_error(ErrorCode::timeout, "the LLM did not finish the analysis in time");
        }
        if (!*wait->done) return wait->done->take_error();
        auto parsed = parse_analysis(wait->text, spec.value("fields", json{{"type", "object"}}));
        // A model that answered off-schema may do better on the next attempt; the last one stores what is wrong.
        if (!parsed && ctx.job.attempts < ctx.job.max_attempts) return make_error(ErrorCode::unavailable, parsed.error().message);
        if (!parsed) {
            analysis = {{"error", parsed.error().message}};
        } else {
            call->summary = (*parsed)["summary"];
            analysis = {{"fields", (*parsed)["fields"]}};
            std::string goal = spec.value("goal_field", "");
            if (!goal.empty() && (*parsed)["fields"].value(goal, json()) == json(true)) call->outcome = "completed-goal";
        }
    }
    call->analysis = analysis.dump();
    if (auto s = m_store.set_call_analysis(call->id, call->outcome, call->summary, call->analysis); !s) return s;
    // The agent's day gets this call once, however often the job runs.
    AnalyticsDay day{call->workspace_id, call->agent_id, format_rfc3339(call->created_at).substr(0, 10), "{}"};
    auto counted = m_store.count_call(call->id, day, [&](AnalyticsDay& d) {
        json stats = parse_json(d.stats);
        if (!stats.is_object()) stats = json::object();
        add_call_stats(stats, *call, *turns);
        d.stats = stats.dump();
    });
    if (!counted) return counted.take_error();
    json data{{"outcome", call->outcome}};
    if (!call->summary.empty()) data["summary"] = call->summary;
    if (analysis.contains("fields")) data["fields"] = analysis["fields"];
    if (analysis.contains("error")) data["error"] = analysis["error"];
    m_bus.publish(CallEvent{"call:analysis", call->id, call->workspace_id, now_ms(), data});
    return Ok{};
}

}  // namespace va
