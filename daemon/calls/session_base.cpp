#include "daemon/calls/session_base.hpp"

#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <utility>

#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "daemon/calls/http_tools.hpp"

namespace va {

using nlohmann::json;

SessionBase::SessionBase(CallManager& manager, Call call, json agent, const json& variables,
                         std::unique_ptr<LlmClient> llm)
    : m_manager(manager),
      m_call(std::move(call)),
      m_agent(std::move(agent)),
      m_conversation(m_agent, variables),
      m_llm(std::move(llm)) {}

void SessionBase::begin(std::shared_ptr<http::WsConnection> connection, json start_extra) {
    m_connection = connection;
    m_started = now_ms();
    m_call.status = "in-progress";
    m_call.started_at = m_call.answered_at = m_started;
    save();
    m_manager.publish(m_call, "call:started", {{"channel", m_call.channel}, {"agent_id", m_call.agent_id}});
    m_manager.publish(m_call, "call:status", {{"status", m_call.status}});
    json start{{"type", "start"}, {"call_id", m_call.id}, {"channel", m_call.channel}, {"agent", m_agent.value("name", "")}};
    start.update(start_extra);
    send(start);
}

void SessionBase::save() {
    m_manager.writer().post([call = m_call](Store& store) mutable {
        // The carrier's call id may have been stored after this session took its copy (a dial answered quickly).
        if (call.provider_call_id.empty())
            if (auto stored = store.find_call(call.id)) call.provider_call_id = stored->provider_call_id;
        if (auto s = store.update_call(call); !s) spdlog::error("call {}: cannot store it: {}", call.id, s.error().message);
    });
}

void SessionBase::send(const json& message) {
    if (auto c = m_connection.lock()) c->send_text(message.dump());
}

void SessionBase::store_turn(const std::string& role, const std::string& text, std::int64_t from, std::int64_t to,
                             bool interrupted, const std::string& source) {
    m_manager.writer().post([turn = CallTurn{m_call.id, 0, role, text, offset(from), offset(to), interrupted, source}](Store& store) {
        if (auto stored = store.append_turn(turn); !stored)
            spdlog::error("call {}: cannot store a turn: {}", turn.call_id, stored.error().message);
    });
}

void SessionBase::publish_transcript(const std::string& role, const std::string& text, bool final,
                                     const std::string& source) {
    json data{{"role", role}, {"text", text}, {"final", final}};
    if (!source.empty()) data["source"] = source;
    m_manager.publish(m_call, "call:transcript", data);
}

json SessionBase::parse_control(std::string_view message) {
    json in = parse_json(message);
    if (in.is_discarded() || !in.is_object() || !in.contains("type") || !in["type"].is_string()) {
        send({{"type", "error"}, {"message", "expected a JSON object with a string \"type\""}});
        return nullptr;
    }
    return in;
}

void SessionBase::ask(const std::string& text, std::int64_t from, std::int64_t to, const std::string& source,
                      std::function<void(const std::string&)> on_token, std::function<void(Reply)> on_done) {
    m_conversation.add_user(text);
    store_turn("user", text, from, to, false, source);
    publish_transcript("user", text, true, source);
    send({{"type", "user"}, {"text", text}, {"source", source}});

    cancel_answer();
    auto turn = std::make_shared<Answer>();
    turn->on_token = std::move(on_token);
    turn->on_done = std::move(on_done);
    answer(turn);
}

// One request to the LLM for `turn`: its tokens join the reply; a call for one of the agent's HTTP tools runs the
// tool and asks again with its answer (a few rounds at most); otherwise the reply is done.
void SessionBase::answer(std::shared_ptr<Answer> turn) {
    int generation = ++m_ask_generation;
    struct Progress {
        std::optional<ToolCall> tool;
        std::string said;  // this round's text, which goes with its tool call into the history
        // Tokens that arrived since the strand last took them: a burst (a fast model, the scripted one) becomes
        // one hop onto the strand instead of one per token.
        std::mutex mutex;
        std::string pending;
        bool scheduled = false;
    };
    auto progress = std::make_shared<Progress>();
    std::weak_ptr<http::WsConnection> weak = m_connection;
    // Every callback hops onto the strand, in order; a newer question or a cancel makes older answers stale.
    auto on_strand = [this, weak, generation](std::function<void()> fn) {
        if (auto conn = weak.lock())
            conn->post([this, generation, fn = std::move(fn)] {
                if (generation == m_ask_generation && !m_ended) fn();
            });
    };
    LlmCallbacks callbacks{
        [on_strand, progress, turn](const std::string& token) {
            {
                std::lock_guard lock(progress->mutex);
                progress->pending += token;
                if (progress->scheduled) return;
                progress->scheduled = true;
            }
            on_strand([progress, turn] {
                std::string text;
                {
                    std::lock_guard lock(progress->mutex);
                    text.swap(progress->pending);
                    progress->scheduled = false;
                }
                if (text.empty()) return;
                if (!turn->reply.first_token_at) turn->reply.first_token_at = now_ms();
                turn->reply.text += text;
                progress->said += text;
                if (turn->on_token) turn->on_token(text);
            });
        },
        [on_strand, progress](const ToolCall& call) { on_strand([progress, call] { progress->tool = call; }); },
        [this, on_strand, progress, turn](Status status) {
            on_strand([this, progress, turn, status = std::move(status)]() mutable {
                Reply& reply = turn->reply;
                reply.status = std::move(status);
                const auto& tool = progress->tool;
                if (!reply.status) {
                    m_manager.publish(m_call, "call:error", {{"stage", "llm"}, {"message", reply.status.error().message}});
                } else if (tool && m_conversation.http_tool(tool->name) && turn->rounds < kMaxToolRounds) {
                    return run_tool(turn, *tool, progress->said);
                } else {
                    if (tool && tool->name == "end_call") reply.end_reason = "agent_end_call";
                    if (tool && tool->name == "transfer_call")
                        reply.end_reason = "transferred:" + json_string_or(tool->arguments, "to", "unknown");
                    if (reply.end_reason.empty() && m_conversation.ends_call(reply.text)) reply.end_reason = "agent_end_phrase";
                }
                turn->on_done(std::move(reply));
            });
        },
        [on_strand, turn](const LlmUsage& usage) {
            on_strand([turn, usage] {
                turn->reply.usage.prompt_tokens += usage.prompt_tokens;
                turn->reply.usage.completion_tokens += usage.completion_tokens;
            });
        }};
    auto conn = m_connection.lock();
    if (!m_llm->blocking() || !conn) {
        m_llm_stream = m_llm->start(m_conversation.request(), std::move(callbacks));
        return;
    }
    // A model that answers inside start() (the scripted one: the agent's patterns against the caller's words) is
    // user-driven CPU work: it runs on the worker pool, never on the I/O thread that serves other calls and
    // /healthz. Its callbacks hop back onto the strand as any provider's do; the stream is kept only if this is
    // still the answer wanted.
    auto job = std::make_shared<std::pair<LlmRequest, LlmCallbacks>>(m_conversation.request(), std::move(callbacks));
    auto stream = std::make_shared<std::unique_ptr<LlmStream>>();
    conn->run_blocking([llm = m_llm, job, stream] { *stream = llm->start(std::move(job->first), std::move(job->second)); },
                       [this, generation, stream] {
                           if (!*stream) return;
                           if (generation == m_ask_generation && !m_ended) m_llm_stream = std::move(*stream);
                           else (*stream)->cancel();
                       });
}

void SessionBase::run_tool(std::shared_ptr<Answer> turn, ToolCall call, std::string said) {
    auto conn = m_connection.lock();
    if (!conn) return;
    ++turn->rounds;
    json spec = *m_conversation.http_tool(call.name);
    int generation = m_ask_generation;  // a barge-in or the end of the call makes the tool's answer stale
    auto finished = std::make_shared<bool>(false);
    const ToolSettings& settings = m_manager.tool_settings();
    // A slow tool gets the agent's filler ("One moment.") spoken, so the caller does not sit in silence.
    if (std::string filler = spec.value("filler", ""); !filler.empty())
        conn->post_after(settings.filler_after_ms, [this, generation, finished, turn, filler] {
            if (*finished || generation != m_ask_generation || m_ended) return;
            std::string words = (turn->reply.text.empty() || turn->reply.text.back() == ' ' ? "" : " ") + filler + " ";
            turn->reply.text += words;
            if (turn->on_token) turn->on_token(words);
        });
    auto result = std::make_shared<ToolResult>();
    conn->run_blocking([spec, call, result, &settings, workspace = m_call.workspace_id] {
                           *result = run_http_tool(spec, call, settings, workspace);
                       },
                       [this, generation, finished, turn, call, said, result]() mutable {
                           *finished = true;
                           if (generation != m_ask_generation || m_ended) return;
                           json what{{"name", call.name}, {"ok", result->ok}, {"ms", result->ms}};
                           if (result->status) what["status"] = result->status;
                           if (!result->ok) what["error"] = result->error;
                           m_manager.publish(m_call, "call:tool", what);
                           m_metrics_extra["tools"].push_back(what);
                           if (!result->ok) spdlog::warn("call {}: tool {} failed: {}", m_call.id, call.name, result->error);
                           m_conversation.add_tool_exchange(std::move(said), std::move(call), result->content);
                           answer(turn);
                       });
}

void SessionBase::cancel_answer() {
    ++m_ask_generation;
    if (m_llm_stream) m_llm_stream->cancel();
    m_llm_stream.reset();
}

bool SessionBase::carrier_ended(const std::string& status, double duration_s) {
    if (m_ended) return false;
    m_carrier_duration_s = duration_s;
    if (status != "completed") m_carrier_status = status;
    end("caller_hangup", 1000);
    return true;
}

void SessionBase::finish_transfer(const Status& status) {
    std::string reason = std::exchange(m_transfer, {});
    std::string meanwhile = std::exchange(m_ended_in_transfer, {});
    if (m_ended) return;
    if (status) return end(reason, 1000);
    m_manager.publish(m_call, "call:error", {{"message", "transfer failed: " + status.error().message}});
    if (meanwhile.empty()) return end("transfer_failed", 1000);
    end(meanwhile, m_ended_in_transfer_code);
}

void SessionBase::refuse_message(const std::string& reason) {
    if (m_ended) return;
    send({{"type", "error"}, {"message", reason}});
    end("protocol_error", 1007, reason);
}

void SessionBase::end(const std::string& reason, int close_code, const std::string& close_reason) {
    if (m_ended) return;
    if (!m_transfer.empty()) {
        if (m_ended_in_transfer.empty()) {
            m_ended_in_transfer = reason;
            m_ended_in_transfer_code = close_code;
        }
        return;
    }
    cancel_answer();
    m_ended = true;
    on_ending();
    auto now = now_ms();
    m_call.status = "completed";
    m_call.ended_at = now;
    m_call.end_reason = reason;
    m_call.duration_s = m_started ? double(now - m_started) / 1000.0 : 0.0;  // 0: the stream never started
    if (m_carrier_duration_s >= 0) m_call.duration_s = m_carrier_duration_s;
    if (!m_carrier_status.empty()) m_call.status = m_carrier_status;
    json metrics{{"turns", m_turn_metrics}};
    metrics.update(m_metrics_extra);
    m_call.metrics = metrics.dump();
    save();
    m_manager.publish(m_call, "call:status", {{"status", m_call.status}});
    m_manager.publish(m_call, "call:ended", {{"reason", reason}, {"duration_s", m_call.duration_s}});
    on_ended();
    m_manager.call_ended(m_call);
    // No longer live, though its socket may take a moment to close: a draining daemon need not wait for that.
    m_manager.forget(m_call.id);
    if (close_code) {
        send({{"type", "end"}, {"reason", reason}});
        if (auto c = m_connection.lock()) c->close(close_code, close_reason.empty() ? reason : close_reason);
    }
}

}  // namespace va
