#include "providers/openai/chat_client.hpp"
#include "core/util/json.hpp"
#include "core/util/guard.hpp"
#include "providers/openai/api_error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cmath>
#include <mutex>
#include <optional>
#include <random>

#include "core/util/url.hpp"
#include "providers/common/http_client.hpp"
#include "providers/common/http_engine.hpp"
#include "providers/openai/sse.hpp"

namespace va::openai {

using nlohmann::json;

json chat_body(const ChatSettings& settings, const LlmRequest& request) {
    json messages = json::array();
    for (const auto& m : request.messages) {
        json message{{"role", m.role}, {"content", m.content}};
        if (!m.tool_calls.empty()) {
            if (m.content.empty()) message["content"] = nullptr;
            json calls = json::array();
            for (const auto& c : m.tool_calls)
                calls.push_back({{"id", c.id}, {"type", "function"},
                                 {"function", {{"name", c.name}, {"arguments", c.arguments.dump()}}}});
            message["tool_calls"] = calls;
        }
        if (!m.tool_call_id.empty()) message["tool_call_id"] = m.tool_call_id;
        messages.push_back(std::move(message));
    }
    json body{{"model", settings.model}, {"messages", messages}, {"stream", true},
              {"stream_options", {{"include_usage", true}}}};
    if (settings.temperature >= 0) body["temperature"] = settings.temperature;
    if (request.purpose == "analysis") body["response_format"] = {{"type", "json_object"}};
    if (!request.tools.empty()) {
        json tools = json::array();
        for (const auto& t : request.tools)
            tools.push_back({{"type", "function"},
                             {"function", {{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}}}});
        body["tools"] = tools;
    }
    return body;
}

namespace {

// A model calls a handful of tools at once; an index beyond this is a malformed chunk, not a reason to grow a map.
constexpr std::int64_t kMaxToolCalls = 128;
// A tool call's name and arguments as the stream assembles them: far beyond any real call, but bounded.
constexpr std::size_t kMaxToolCallBytes = 256 * 1024;

// The number of a retry-after header (digits and one dot), or nullopt for anything else.
std::optional<double> header_number(const std::string& value) {
    if (value.empty() || value.size() > 12 || value.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
    if (std::count(value.begin(), value.end(), '.') > 1 || value == ".") return std::nullopt;
    return std::strtod(value.c_str(), nullptr);
}

// How long to wait before retry `attempt` (1-based): the server's word when it gives one, else backoff with jitter.
int retry_delay_ms(const ChatSettings& s, const HttpResult* head, int attempt) {
    if (head) {
        // Bounded: a server's word is honoured up to a minute, and a malformed one is ignored (std::stod threw).
        if (auto ms = header_number(head->header("retry-after-ms"))) return int(std::min(*ms, 60000.0));
        if (auto secs = header_number(head->header("retry-after"))) return int(std::min(*secs, 60.0) * 1000);
    }
    static thread_local std::mt19937 rng{std::random_device{}()};
    double base = std::min(8000.0, s.initial_backoff_ms * std::pow(2.0, attempt - 1));
    return int(base * (1.0 - 0.25 * std::uniform_real_distribution<double>(0, 1)(rng)));
}

// One streamed answer on the shared HTTP engine: its transfer's pieces are read, and its retries wait, on the
// engine's thread; no thread is kept per answer. The engine's callbacks hold the worker only weakly, so a stream
// dropped by its call frees it at once.
class ChatWorker : public std::enable_shared_from_this<ChatWorker> {
public:
    ChatWorker(ChatSettings settings, LlmRequest request, LlmCallbacks callbacks, HttpEngine& engine)
        : m_settings(std::move(settings)), m_callbacks(std::move(callbacks)), m_engine(engine) {
        m_body = chat_body(m_settings, request).dump();
        m_request.method = "POST";
        m_request.url = m_settings.base_url + "/chat/completions";
        m_request.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
        if (!m_settings.api_key.empty()) m_request.headers.emplace_back("Authorization", "Bearer " + m_settings.api_key);
        for (const auto& [k, v] : m_settings.headers) m_request.headers.emplace_back(k, v);
        m_request.body = m_body;
        m_request.timeout_ms = m_settings.timeout_ms;
    }
    void start() { attempt(); }
    void cancel() {
        m_cancelled = true;
        std::unique_ptr<HttpEngine::Handle> transfer, timer;
        {
            std::lock_guard lock(m_handles_mutex);
            transfer = std::move(m_transfer);
            timer = std::move(m_timer);
        }
        // Each waits out its own running callback (from another thread); none starts after.
        transfer.reset();
        timer.reset();
        // After cancel() returns no callback may run: wait out a delivery in progress. Recursive, because the
        // caller's own callback may cancel this stream.
        std::lock_guard lock(m_callback_mutex);
    }

private:
    struct Pending {
        std::string id, name, arguments;
    };

    bool deliver(const std::function<void()>& fn) {
        std::lock_guard lock(m_callback_mutex);
        if (m_cancelled) return false;
        fn();
        return true;
    }

    // Starts one attempt: the first from the caller's thread, a retry from the engine's timer.
    void attempt() {
        m_done = false;
        m_stream_error = Ok{};
        m_tools.clear();
        std::weak_ptr<ChatWorker> weak = weak_from_this();
        m_parser.emplace([this](const SseEvent& e) { on_event(e); });
        HttpStreamCallbacks callbacks;
        callbacks.on_body = [weak](const HttpResult&, std::string_view piece) {
            auto self = weak.lock();
            return self && self->on_piece(piece);
        };
        callbacks.on_done = [weak](Result<HttpResult> outcome) {
            if (auto self = weak.lock()) self->on_attempt_done(std::move(outcome));
        };
        std::lock_guard lock(m_handles_mutex);
        if (m_cancelled) return;
        m_transfer = m_engine.stream(m_request, std::move(callbacks));
    }

    bool on_piece(std::string_view piece) {
        m_parser->feed(piece);
        if (m_parser->overflowed() && m_stream_error) {
            Error err = make_error(ErrorCode::bad_gateway, "the LLM server sent a stream line longer than " +
                                                            std::to_string(SseParser::kMaxEventBytes) + " bytes");
            err.provider = "openai";
            m_stream_error = err;
        }
        return !m_cancelled.load() && m_stream_error.ok();
    }

    void on_event(const SseEvent& e) {
        if (m_done || !m_stream_error) return;
        if (e.data == "[DONE]") {
            m_done = true;
            return;
        }
        json chunk = parse_json(e.data);
        if (chunk.is_discarded()) return;  // not JSON: skipped, as the SDK does
        if (auto problem = read_chunk(chunk)) {
            // Nothing the server sends may throw: a wrong type is a failed answer, not retried.
            Error err = make_error(ErrorCode::bad_gateway, "the LLM server sent an invalid stream chunk: " + *problem);
            err.provider = "openai";
            m_stream_error = err;
        }
    }

    void on_attempt_done(Result<HttpResult> outcome) {
        if (m_cancelled) return;
        Attempt a = judge(outcome);
        if (!a.status) {
            bool retryable = a.retryable && !m_delivered && m_attempts < m_settings.max_retries;
            if (retryable) {
                ++m_attempts;
                int wait = retry_delay_ms(m_settings, a.head ? &*a.head : nullptr, m_attempts);
                spdlog::warn("LLM request failed ({}); retry {} in {} ms", a.status.error().message, m_attempts, wait);
                std::weak_ptr<ChatWorker> weak = weak_from_this();
                std::lock_guard lock(m_handles_mutex);
                if (m_cancelled) return;
                m_timer = m_engine.after(wait, [weak] {
                    if (auto self = weak.lock()) self->attempt();
                });
                return;
            }
        }
        finish(a.status);
    }

    void finish(Status outcome) {
        if (outcome && (m_usage.prompt_tokens || m_usage.completion_tokens)) {
            if (!deliver([&] {
                    if (m_callbacks.on_usage) m_callbacks.on_usage({m_usage.prompt_tokens, m_usage.completion_tokens});
                }))
                return;
        }
        if (outcome) {
            for (auto& [index, t] : m_tools) {
                ToolCall call;
                call.id = t.id;
                call.name = t.name;
                call.arguments = parse_json(t.arguments.empty() ? "{}" : t.arguments);
                // Readers of the arguments expect an object: anything else is kept raw for the tool to refuse.
                if (!call.arguments.is_object()) call.arguments = json{{"_raw", t.arguments}};
                if (!deliver([&] {
                        if (m_callbacks.on_tool_call) m_callbacks.on_tool_call(call);
                    }))
                    return;
            }
        }
        deliver([&] {
            if (m_callbacks.on_done) m_callbacks.on_done(outcome);
        });
    }

    struct Attempt {
        Status status = Ok{};
        bool retryable = false;
        std::optional<HttpResult> head;
    };

    // Takes in one parsed chunk of the stream: tokens, tool-call fragments, usage, the finish reason, or an error
    // event (which fails the stream). Every field is read with a type check: the reason a field has the wrong
    // type when one does (nothing of the chunk is kept then), else nullopt.
    std::optional<std::string> read_chunk(const json& chunk) {
        if (!chunk.is_object()) return "not an object";
        if (const json* error = json_field(chunk, "error")) {  // an error delivered as a data event mid-stream
            std::string message = error->is_object() ? json_string_or(*error, "message", "error") : error->dump();
            Error err = make_error(ErrorCode::unavailable, "the LLM stream failed: " + message.substr(0, 300));
            err.provider = "openai";
            m_stream_error = err;
            return std::nullopt;
        }
        if (const json* usage = json_object(chunk, "usage")) {
            m_usage.prompt_tokens = int(std::clamp<std::int64_t>(json_int(*usage, "prompt_tokens").value_or(0), 0, INT32_MAX));
            m_usage.completion_tokens =
                int(std::clamp<std::int64_t>(json_int(*usage, "completion_tokens").value_or(0), 0, INT32_MAX));
        }
        const json* choices = json_field(chunk, "choices");
        if (!choices) return std::nullopt;
        if (!choices->is_array()) return "\"choices\" is not an array";
        if (choices->empty()) return std::nullopt;
        const json& choice = (*choices)[0];
        if (!choice.is_object()) return "a choice is not an object";
        if (auto finish = json_string(choice, "finish_reason")) m_finish = *finish;
        const json* delta = json_field(choice, "delta");
        if (!delta) return std::nullopt;
        if (!delta->is_object()) return "\"delta\" is not an object";
        const json* content = json_field(*delta, "content");
        if (content && !content->is_string()) return "\"content\" is not a string";
        const json* tool_calls = json_field(*delta, "tool_calls");
        if (tool_calls && !tool_calls->is_array()) return "\"tool_calls\" is not an array";
        // Checked whole before anything is kept, so a bad fragment leaves no half-assembled call behind.
        if (tool_calls)
            for (const auto& tc : *tool_calls) {
                if (!tc.is_object()) return "a tool call is not an object";
                const json* index = json_field(tc, "index");
                auto i = json_int(tc, "index");
                if (index && (!i || *i < 0 || *i >= kMaxToolCalls)) return "a tool call's \"index\" is not a small integer";
                const json* id = json_field(tc, "id");
                if (id && !id->is_string()) return "a tool call's \"id\" is not a string";
                const json* f = json_field(tc, "function");
                if (!f) continue;
                if (!f->is_object()) return "a tool call's \"function\" is not an object";
                std::size_t added = 0;
                for (const char* key : {"name", "arguments"}) {
                    const json* v = json_field(*f, key);
                    if (v && !v->is_string()) return std::string("a tool call's \"") + key + "\" is not a string";
                    if (v) added += v->get_ref<const std::string&>().size();
                }
                if (auto it = m_tools.find(int(i.value_or(0))); it != m_tools.end())
                    added += it->second.name.size() + it->second.arguments.size();
                if (added > kMaxToolCallBytes)
                    return "a tool call is longer than " + std::to_string(kMaxToolCallBytes) + " bytes";
            }
        if (content) {
            std::string token = content->get<std::string>();
            if (!token.empty()) {
                m_delivered = true;
                deliver([&] {
                    if (m_callbacks.on_token) m_callbacks.on_token(token);
                });
            }
        }
        if (tool_calls)
            for (const auto& tc : *tool_calls) {
                Pending& p = m_tools[int(json_int(tc, "index").value_or(0))];
                if (auto id = json_string(tc, "id")) p.id = *id;
                if (const json* f = json_object(tc, "function")) {
                    p.name += json_string_or(*f, "name");
                    p.arguments += json_string_or(*f, "arguments");
                }
            }
        return std::nullopt;
    }

    // What one attempt's end means: success, a failure to retry, or a failure to report.
    Attempt judge(const Result<HttpResult>& r) {
        Attempt a;
        if (!m_stream_error) {  // a malformed or oversized answer, which ended the read: failed, not asked again
            a.status = m_stream_error;
            return a;
        }
        if (!r) {  // connection refused, reset, timed out: retryable unless tokens went out
            a.status = r.error();
            a.retryable = true;
            return a;
        }
        m_parser->finish();
        a.head = *r;
        if (r->status < 200 || r->status >= 300) {
            Error e = api_error("the LLM server", *r);
            std::string should = r->header("x-should-retry");
            a.retryable = should == "true" || (should != "false" && e.code != ErrorCode::quota &&
                                               (r->status == 408 || r->status == 409 || r->status == 429 || r->status >= 500));
            a.status = e;
            return a;
        }
        if (!m_stream_error) {
            a.status = m_stream_error;
            return a;
        }
        if (!m_done) {
            a.status = make_error(ErrorCode::unavailable, "the LLM stream ended without [DONE]");
            a.retryable = true;
        }
        return a;
    }

    ChatSettings m_settings;
    LlmCallbacks m_callbacks;
    HttpEngine& m_engine;
    std::string m_body;
    HttpRequest m_request;
    std::atomic<bool> m_cancelled{false};
    std::recursive_mutex m_callback_mutex;
    std::mutex m_handles_mutex;  // the transfer or retry timer in progress, set by the engine's thread
    std::unique_ptr<HttpEngine::Handle> m_transfer, m_timer;
    // The attempt in progress, on the engine's thread.
    std::optional<SseParser> m_parser;
    bool m_done = false;
    int m_attempts = 0;  // retries made
    bool m_delivered = false;
    std::map<int, Pending> m_tools;
    Status m_stream_error = Ok{};  // of the attempt in progress
    std::string m_finish;
    LlmUsage m_usage;
};

class ChatStream final : public LlmStream {
public:
    explicit ChatStream(std::shared_ptr<ChatWorker> worker) : m_worker(std::move(worker)) { m_worker->start(); }
    ~ChatStream() override { m_worker->cancel(); }
    void cancel() override { m_worker->cancel(); }

private:
    std::shared_ptr<ChatWorker> m_worker;
};

class ChatClient final : public LlmClient {
public:
    explicit ChatClient(ChatSettings s) : m_settings(std::move(s)) {}
    std::unique_ptr<LlmStream> start(LlmRequest request, LlmCallbacks callbacks) override {
        return std::make_unique<ChatStream>(
            std::make_shared<ChatWorker>(m_settings, std::move(request), std::move(callbacks), HttpEngine::shared()));
    }

private:
    ChatSettings m_settings;
};

class ChatFactory final : public LlmFactory {
public:
    explicit ChatFactory(ChatSettings defaults) : m_defaults(std::move(defaults)) {}
    Result<std::unique_ptr<LlmClient>> create(const json& agent, const json&) const override {
        // Checked again here: an agent stored before the allow-list existed may still name any URL.
        auto s = agent_settings(m_defaults, agent.contains("llm") ? agent["llm"] : json::object());
        if (!s) return s.take_error();
        return std::unique_ptr<LlmClient>(std::make_unique<ChatClient>(std::move(s).value()));
    }
    Status check(const json& llm) const override {
        auto s = agent_settings(m_defaults, llm);
        if (!s) return s.take_error();
        return Ok{};
    }

private:
    ChatSettings m_defaults;
};

}  // namespace

Result<ChatSettings> agent_settings(const ChatSettings& defaults, const json& llm) {
    ChatSettings s = defaults;
    if (llm.is_object()) {
        s.model = llm.value("model", s.model);
        if (llm.contains("temperature") && llm["temperature"].is_number()) s.temperature = llm["temperature"];
        if (auto it = llm.find("base_url"); it != llm.end() && !it->is_null()) {
            auto refuse = [](std::string why) {
                Error e = invalid_field("llm.base_url", std::move(why));
                e.code = ErrorCode::unprocessable;
                return e;
            };
            if (!it->is_string()) return refuse("must be a string");
            auto wanted = normalize_base_url(it->get<std::string>());
            if (!wanted) return refuse(wanted.error().message);
            auto configured = normalize_base_url(defaults.base_url);
            if (configured && *configured == *wanted) {
                s.base_url = defaults.base_url;  // and the configured key
            } else if (auto allowed = defaults.allowed_base_urls.find(*wanted); allowed != defaults.allowed_base_urls.end()) {
                s.base_url = allowed->first;
                s.api_key = allowed->second;  // the allowed URL's own key, never openai.api_key
            } else {
                return refuse("\"" + *wanted + "\" is not openai.base_url nor one of openai.allowed_base_urls");
            }
        }
    }
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    return s;
}

std::unique_ptr<LlmClient> make_chat_client(ChatSettings settings) {
    return std::make_unique<ChatClient>(std::move(settings));
}

std::shared_ptr<LlmFactory> chat_factory(ChatSettings defaults) { return std::make_shared<ChatFactory>(std::move(defaults)); }

}  // namespace va::openai
