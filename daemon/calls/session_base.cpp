#include "daemon/calls/session_base.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "daemon/calls/http_tools.hpp"

namespace va {

using nlohmann::json;

namespace {

// The call's strand, timers and worker pool as the pipeline parts' Executor. Provider threads post through it; a
// task posted after the connection is gone is dropped, and while it lives, so does the session (it owns it).
class ConnectionExecutor final : public Executor {
public:
    explicit ConnectionExecutor(std::weak_ptr<http::WsConnection> connection) : m_conn(std::move(connection)) {}
    std::int64_t now_ms() const override {
        if (auto c = m_conn.lock()) return c->monotonic_ms();
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    void post(std::function<void()> task) override {
        if (auto c = m_conn.lock()) c->post(std::move(task));
    }
    void post_after(int ms, std::function<void()> task) override {
        if (auto c = m_conn.lock()) c->post_after(ms, std::move(task));
    }
    void run_blocking(std::function<void()> work, std::function<void()> then) override {
        if (auto c = m_conn.lock()) c->run_blocking(std::move(work), std::move(then));
    }
    std::unique_ptr<Timer> make_timer(std::function<void()> task) override {  // the pacer's: one timer per call
        if (auto c = m_conn.lock())
            if (auto timer = c->make_timer(task)) return timer;
        return Executor::make_timer(std::move(task));
    }

private:
    const std::weak_ptr<http::WsConnection> m_conn;  // set before any provider runs, never written again
};

}  // namespace

SessionBase::SessionBase(CallManager& manager, Call call, json agent, const json& variables,
                         std::unique_ptr<LlmClient> llm)
    : m_manager(manager),
      m_call(std::move(call)),
      m_agent(std::move(agent)),
      m_conversation(m_agent, variables),
      m_llm(std::move(llm)) {}

void SessionBase::begin(std::shared_ptr<http::WsConnection> connection, json start_extra) {
    if (!m_responder) attach(connection);
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

void SessionBase::attach(const std::shared_ptr<http::WsConnection>& connection) {
    m_connection = connection;
    m_exec = std::make_shared<ConnectionExecutor>(connection);
    ResponderOptions options;
    options.filler_after_ms = m_manager.tool_settings().filler_after_ms;
    options.tool_ran = [this](const json& run) {
        m_manager.publish(m_call, "call:tool", run);
        m_metrics_extra["tools"].push_back(run);
        if (!run.value("ok", false))
            spdlog::warn("call {}: tool {} failed: {}", m_call.id, run.value("name", ""), run.value("error", ""));
    };
    // HTTP tools run on the worker pool with the daemon's settings and this workspace's secrets.
    ToolRunner tools = [&settings = m_manager.tool_settings(), workspace = m_call.workspace_id](const json& tool,
                                                                                              const ToolCall& call) {
        return run_http_tool(tool, call, settings, workspace);
    };
    m_responder = std::make_unique<Responder>(m_exec, m_llm, m_conversation, std::move(tools), std::move(options));
}

void SessionBase::ask(const std::string& text, std::int64_t from, std::int64_t to, const std::string& source,
                      ReplySink sink) {
    m_conversation.add_user(text);
    store_turn("user", text, from, to, false, source);
    publish_transcript("user", text, true, source);
    send({{"type", "user"}, {"text", text}, {"source", source}});
    if (!m_responder) return;  // no connection yet: nobody to answer
    m_responder->answer({std::move(sink.text), std::move(sink.sentence),
                         [this, done = std::move(sink.done)](AgentReply reply) {
                             if (!reply.status)
                                 m_manager.publish(m_call, "call:error",
                                                   {{"stage", "llm"}, {"message", reply.status.error().message}});
                             done(std::move(reply));
                         }});
}

void SessionBase::cancel_answer() {
    if (m_responder) m_responder->cancel();
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
