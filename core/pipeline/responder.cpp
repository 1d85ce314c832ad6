#include "core/pipeline/responder.hpp"

#include <mutex>
#include <optional>
#include <utility>

#include "core/pipeline/sentences.hpp"
#include "core/util/json.hpp"

namespace va {

using nlohmann::json;

struct Responder::Turn {
    ReplySink sink;
    AgentReply reply;  // across tool rounds: everything the caller was told
    SentenceSplitter sentences;
    int rounds = 0;  // tool calls answered so far
};

Responder::Responder(std::shared_ptr<Executor> executor, std::shared_ptr<LlmClient> llm, Conversation& conversation,
                     ToolRunner tools, ResponderOptions options)
    : m_exec(std::move(executor)),
      m_llm(std::move(llm)),
      m_conversation(conversation),
      m_tools(std::move(tools)),
      m_options(std::move(options)) {}

Responder::~Responder() { cancel(); }

void Responder::answer(ReplySink sink) {
    cancel();
    auto turn = std::make_shared<Turn>();
    turn->sink = std::move(sink);
    ask(turn);
}

void Responder::cancel() {
    ++*m_generation;
    if (m_stream) m_stream->cancel();
    m_stream.reset();
}

void Responder::take_text(Turn& turn, const std::string& text) {
    if (text.empty()) return;
    if (!turn.reply.first_token_at) turn.reply.first_token_at = m_exec->now_ms();
    turn.reply.text += text;
    if (turn.sink.text) turn.sink.text(text);
    if (!turn.sink.sentence) return;
    for (const auto& sentence : turn.sentences.push(text)) turn.sink.sentence(sentence);
}

// One request to the LLM for `turn`.
void Responder::ask(std::shared_ptr<Turn> turn) {
    int generation = ++*m_generation;
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
    // Every callback hops onto the strand, in order, and is dropped there once stale.
    auto on_strand = [exec = m_exec, current = m_generation, generation](std::function<void()> fn) {
        exec->post([current, generation, fn = std::move(fn)] {
            if (*current == generation) fn();
        });
    };
    LlmCallbacks callbacks{
        [this, on_strand, progress, turn](const std::string& token) {
            {
                std::lock_guard lock(progress->mutex);
                progress->pending += token;
                if (progress->scheduled) return;
                progress->scheduled = true;
            }
            on_strand([this, progress, turn] {
                std::string text;
                {
                    std::lock_guard lock(progress->mutex);
                    text.swap(progress->pending);
                    progress->scheduled = false;
                }
                progress->said += text;
                take_text(*turn, text);
            });
        },
        [on_strand, progress](const ToolCall& call) { on_strand([progress, call] { progress->tool = call; }); },
        [this, on_strand, progress, turn](Status status) {
            on_strand([this, progress, turn, status = std::move(status)]() mutable {
                finish(turn, std::move(status), std::move(progress->tool), std::move(progress->said));
            });
        },
        [on_strand, turn](const LlmUsage& usage) {
            on_strand([turn, usage] {
                turn->reply.usage.prompt_tokens += usage.prompt_tokens;
                turn->reply.usage.completion_tokens += usage.completion_tokens;
            });
        }};
    if (!m_llm->blocking()) {
        m_stream = m_llm->start(m_conversation.request(), std::move(callbacks));
        return;
    }
    // A model that answers inside start() (the scripted one: the agent's patterns against the caller's words) is
    // user-driven CPU work: it runs off the strand, never on the I/O thread that serves other calls. Its callbacks
    // hop back onto the strand as any provider's do; the stream is kept only if this is still the answer wanted.
    auto job = std::make_shared<std::pair<LlmRequest, LlmCallbacks>>(m_conversation.request(), std::move(callbacks));
    auto stream = std::make_shared<std::unique_ptr<LlmStream>>();
    m_exec->run_blocking([llm = m_llm, job, stream] { *stream = llm->start(std::move(job->first), std::move(job->second)); },
                         [this, current = m_generation, generation, stream] {
                             if (!*stream) return;
                             if (*current == generation) m_stream = std::move(*stream);
                             else (*stream)->cancel();
                         });
}

// The LLM's request is done: a call for one of the agent's HTTP tools runs it and asks again; otherwise the answer
// is complete.
void Responder::finish(std::shared_ptr<Turn> turn, Status status, std::optional<ToolCall> tool, std::string said) {
    AgentReply& reply = turn->reply;
    reply.status = std::move(status);
    if (reply.status) {
        if (tool && m_conversation.http_tool(tool->name) && turn->rounds < m_options.max_tool_rounds)
            return run_tool(turn, std::move(*tool), std::move(said));
        if (tool && tool->name == "end_call") reply.end_reason = "agent_end_call";
        if (tool && tool->name == "transfer_call")
            reply.end_reason = "transferred:" + json_string_or(tool->arguments, "to", "unknown");
        if (reply.end_reason.empty() && m_conversation.ends_call(reply.text)) reply.end_reason = "agent_end_phrase";
    }
    if (turn->sink.sentence)
        if (auto rest = turn->sentences.flush(); !rest.empty()) turn->sink.sentence(rest);
    if (turn->sink.done) turn->sink.done(std::move(reply));
}

void Responder::run_tool(std::shared_ptr<Turn> turn, ToolCall call, std::string said) {
    ++turn->rounds;
    json spec = *m_conversation.http_tool(call.name);
    int generation = *m_generation;  // a barge-in or the end of the call makes the tool's answer stale
    auto finished = std::make_shared<bool>(false);
    // A slow tool gets the agent's filler ("One moment.") said, so the caller does not sit in silence.
    if (std::string filler = spec.value("filler", ""); !filler.empty())
        m_exec->post_after(m_options.filler_after_ms, [this, current = m_generation, generation, finished, turn, filler] {
            if (*finished || *current != generation) return;
            const std::string& text = turn->reply.text;
            take_text(*turn, (text.empty() || text.back() == ' ' ? "" : " ") + filler + " ");
        });
    auto result = std::make_shared<ToolResult>();
    m_exec->run_blocking([tools = m_tools, spec, call, result] { *result = tools(spec, call); },
                         [this, current = m_generation, generation, finished, turn, call, said, result]() mutable {
                             *finished = true;
                             if (*current != generation) return;
                             json run{{"name", call.name}, {"ok", result->ok}, {"ms", result->ms}};
                             if (result->status) run["status"] = result->status;
                             if (!result->ok) run["error"] = result->error;
                             if (m_options.tool_ran) m_options.tool_ran(run);
                             m_conversation.add_tool_exchange(std::move(said), std::move(call), result->content);
                             ask(turn);
                         });
}

}  // namespace va
