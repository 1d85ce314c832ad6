#include "providers/openai/chat_client.hpp"
#include "providers/openai/api_error.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "core/util/url.hpp"
#include "providers/common/http_client.hpp"
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

// How long to wait before retry `attempt` (1-based): the server's word when it gives one, else backoff with jitter.
int retry_delay_ms(const ChatSettings& s, const HttpResult* head, int attempt) {
    if (head) {
        if (auto ms = head->header("retry-after-ms"); !ms.empty() && ms.find_first_not_of("0123456789.") == std::string::npos)
            return int(std::stod(ms));
        if (auto secs = head->header("retry-after"); !secs.empty() && secs.find_first_not_of("0123456789.") == std::string::npos)
            return int(std::stod(secs) * 1000);
    }
    static thread_local std::mt19937 rng{std::random_device{}()};
    double base = std::min(8000.0, s.initial_backoff_ms * std::pow(2.0, attempt - 1));
    return int(base * (1.0 - 0.25 * std::uniform_real_distribution<double>(0, 1)(rng)));
}

// One streamed answer, on a thread of its own that keeps this state alive: a cancelled stream's thread finishes
// (curl notices within its progress interval) without anyone waiting for it.
class ChatWorker : public std::enable_shared_from_this<ChatWorker> {
public:
    ChatWorker(ChatSettings settings, LlmRequest request, LlmCallbacks callbacks)
        : m_settings(std::move(settings)), m_callbacks(std::move(callbacks)) {
        m_body = chat_body(m_settings, request).dump();
    }
    void start() {
        std::thread([self = shared_from_this()] { self->run(); }).detach();
    }
    void cancel() {
        m_cancelled = true;
        // After cancel() returns no callback may run: wait out one that is running.
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

    void run() {
        HttpRequest request;
        request.method = "POST";
        request.url = m_settings.base_url + "/chat/completions";
        request.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
        if (!m_settings.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + m_settings.api_key);
        for (const auto& [k, v] : m_settings.headers) request.headers.emplace_back(k, v);
        request.body = m_body;
        request.timeout_ms = m_settings.timeout_ms;
        Status outcome = Ok{};
        for (int attempt = 0;; ++attempt) {
            auto result = attempt_once(request);
            if (m_cancelled) return;
            if (result.status) {
                outcome = Ok{};
                break;
            }
            outcome = result.status;
            bool retryable = result.retryable && !m_delivered && attempt < m_settings.max_retries;
            if (!retryable) break;
            int wait = retry_delay_ms(m_settings, result.head ? &*result.head : nullptr, attempt + 1);
            spdlog::warn("LLM request failed ({}); retry {} in {} ms", outcome.error().message, attempt + 1, wait);
            for (int waited = 0; waited < wait && !m_cancelled; waited += 20)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (m_cancelled) return;
        }
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
                call.arguments = json::parse(t.arguments.empty() ? "{}" : t.arguments, nullptr, false);
                if (call.arguments.is_discarded()) call.arguments = json{{"_raw", t.arguments}};
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

    Attempt attempt_once(const HttpRequest& request) {
        Attempt a;
        bool done = false;
        Status stream_error = Ok{};
        SseParser parser([&](const SseEvent& e) {
            if (done || !stream_error) return;
            if (e.data == "[DONE]") {
                done = true;
                return;
            }
            json chunk = json::parse(e.data, nullptr, false);
            if (chunk.is_discarded()) return;  // not JSON: skipped, as the SDK does
            if (chunk.contains("error")) {  // an error delivered as a data event mid-stream
                std::string message = chunk["error"].is_object() ? chunk["error"].value("message", "error") : chunk["error"].dump();
                Error err = make_error(ErrorCode::unavailable, "the LLM stream failed: " + message);
                err.provider = "openai";
                stream_error = err;
                return;
            }
            if (chunk.contains("usage") && chunk["usage"].is_object()) {
                m_usage.prompt_tokens = chunk["usage"].value("prompt_tokens", 0);
                m_usage.completion_tokens = chunk["usage"].value("completion_tokens", 0);
            }
            if (!chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty()) return;
            const json& choice = chunk["choices"][0];
            if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) m_finish = choice["finish_reason"];
            if (!choice.contains("delta") || !choice["delta"].is_object()) return;
            const json& delta = choice["delta"];
            if (delta.contains("content") && delta["content"].is_string()) {
                std::string token = delta["content"];
                if (!token.empty()) {
                    m_delivered = true;
                    deliver([&] {
                        if (m_callbacks.on_token) m_callbacks.on_token(token);
                    });
                }
            }
            if (delta.contains("tool_calls") && delta["tool_calls"].is_array()) {
                for (const auto& tc : delta["tool_calls"]) {
                    int index = tc.value("index", 0);
                    Pending& p = m_tools[index];
                    if (tc.contains("id") && tc["id"].is_string()) p.id = tc["id"];
                    if (tc.contains("function") && tc["function"].is_object()) {
                        const json& f = tc["function"];
                        if (f.contains("name") && f["name"].is_string()) p.name += f["name"].get<std::string>();
                        if (f.contains("arguments") && f["arguments"].is_string()) p.arguments += f["arguments"].get<std::string>();
                    }
                }
            }
        });
        HttpStream stream;
        stream.cancelled = &m_cancelled;
        stream.on_body = [&](const HttpResult& head, std::string_view piece) {
            parser.feed(piece);
            (void)head;
            return !m_cancelled.load();
        };
        m_tools.clear();
        auto r = http_stream(request, stream);
        if (!r) {  // connection refused, reset, timed out: retryable unless tokens went out
            a.status = r.error();
            a.retryable = true;
            return a;
        }
        parser.finish();
        a.head = *r;
        if (r->status < 200 || r->status >= 300) {
            Error e = api_error("the LLM server", *r);
            std::string should = r->header("x-should-retry");
            a.retryable = should == "true" || (should != "false" && e.code != ErrorCode::quota &&
                                               (r->status == 408 || r->status == 409 || r->status == 429 || r->status >= 500));
            a.status = e;
            return a;
        }
        if (!stream_error) {
            a.status = stream_error;
            return a;
        }
        if (!done && !m_cancelled) {
            a.status = make_error(ErrorCode::unavailable, "the LLM stream ended without [DONE]");
            a.retryable = true;
        }
        return a;
    }

    ChatSettings m_settings;
    LlmCallbacks m_callbacks;
    std::string m_body;
    std::atomic<bool> m_cancelled{false};
    std::mutex m_callback_mutex;
    bool m_delivered = false;
    std::map<int, Pending> m_tools;
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
        return std::make_unique<ChatStream>(std::make_shared<ChatWorker>(m_settings, std::move(request), std::move(callbacks)));
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
