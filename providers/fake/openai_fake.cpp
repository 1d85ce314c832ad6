#include "providers/fake/openai_fake.hpp"

#include <httplib.h>

#include <chrono>
#include <set>

#include "core/audio/format.hpp"
#include "core/util/json.hpp"
#include "providers/fake/fake_server.hpp"
#include "providers/fake/speech.hpp"

namespace va::fake {

using nlohmann::json;

namespace {

json error_body(const std::string& message, const std::string& type, const std::string& code) {
    return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code.empty() ? json() : json(code)}}}};
}

json chunk(const json& delta, const json& finish) {
    return {{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"}, {"created", 1732435200}, {"model", "fake"},
            {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}};
}

}  // namespace

OpenAiFake::OpenAiFake(Options options) : m_options(std::move(options)), m_server(std::make_unique<httplib::Server>()) {
    m_server->Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
        std::optional<Fault> fault;
        Reply reply;
        int request_no = 0;
        {
            std::lock_guard lock(m_mutex);
            request_no = ++m_requests;
            if (!m_faults.empty()) {
                fault = m_faults.front();
                m_faults.pop_front();
            }
            m_last = parse_json(req.body);
        }
        if (req.get_header_value("Authorization") != "Bearer " + m_options.api_key)
            return answer_json(res, 401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
        json body = parse_json(req.body);
        if (!body.is_object() || !body.contains("model") || !body["model"].is_string())
            return answer_json(res, 400, error_body("you must provide a model parameter", "invalid_request_error", ""));
        if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
            return answer_json(res, 400, error_body("'messages' is a required property", "invalid_request_error", ""));
        // As the service does: a tool's answer must follow the assistant message that asked for it, by id.
        std::set<std::string> asked;
        std::string tool_result;
        for (const auto& m : body["messages"]) {
            if (!m.is_object()) return answer_json(res, 400, error_body("messages must be objects", "invalid_request_error", ""));
            if (m.value("role", "") == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array())
                for (const auto& c : m["tool_calls"])
                    if (c.is_object() && c.contains("id") && c["id"].is_string()) asked.insert(c["id"].get<std::string>());
            if (m.value("role", "") == "tool") {
                if (!m.contains("tool_call_id") || !m["tool_call_id"].is_string() || !asked.count(m["tool_call_id"]))
                    return answer_json(res, 400, error_body("messages with role 'tool' must be a response to a preceding message with "
                                                "'tool_calls'", "invalid_request_error", ""));
                tool_result = m.value("content", "");
            }
        }
        if (fault && (fault->kind == Fault::status || fault->kind == Fault::quota)) {
            if (!fault->retry_after.empty()) res.set_header("retry-after", fault->retry_after);
            if (!fault->retry_after_ms.empty()) res.set_header("retry-after-ms", fault->retry_after_ms);
            if (!fault->should_retry.empty()) res.set_header("x-should-retry", fault->should_retry);
            if (fault->kind == Fault::quota)
                return answer_json(res, 429, error_body("You exceeded your current quota, please check your plan and billing details.",
                                            "insufficient_quota", "insufficient_quota"));
            return answer_json(res, fault->http_status, error_body(fault->http_status == 429 ? "Rate limit reached" : "The server had an error",
                                                       fault->http_status == 429 ? "requests" : "server_error", ""));
        }
        {
            std::lock_guard lock(m_mutex);
            reply = m_options.replies[m_next_reply++ % m_options.replies.size()];
        }
        // "{tool_result}" in a scripted reply says back what the last tool answered (as a model would use it).
        if (auto at = reply.text.find("{tool_result}"); at != std::string::npos) reply.text.replace(at, 13, tool_result);
        // The whole stream, as events; the provider sends them one piece at a time.
        std::string eol = m_options.crlf ? "\r\n" : "\n";
        std::vector<std::string> events;
        auto event = [&](const json& j) { events.push_back("data: " + j.dump() + eol + eol); };
        event(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
        for (std::size_t i = 0; i < reply.text.size(); i += 4) event(chunk({{"content", reply.text.substr(i, 4)}}, nullptr));
        if (!reply.tool.empty()) {
            std::string args = reply.arguments.dump();
            event(chunk({{"tool_calls", {{{"index", 0}, {"id", "call_fake" + std::to_string(request_no)}, {"type", "function"},
                                          {"function", {{"name", reply.tool}, {"arguments", ""}}}}}}}, nullptr));
            for (std::size_t i = 0; i < args.size(); i += 5)
                event(chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", args.substr(i, 5)}}}}}}}, nullptr));
        }
        event(chunk(json::object(), reply.tool.empty() ? "stop" : "tool_calls"));
        events.push_back("data: " + json{{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"}, {"choices", json::array()},
                                          {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 7}, {"total_tokens", 19}}}}.dump() +
                         eol + eol);
        events.push_back("data: [DONE]" + eol + eol);
        if (fault && fault->kind == Fault::error_mid_stream) {
            events.resize(3);
            events.push_back("data: " + error_body("The model overloaded mid-stream", "server_error", "").dump() + eol + eol);
        }
        if (fault && fault->kind == Fault::raw_chunk) events.insert(events.begin() + 2, "data: " + fault->chunk + eol + eol);
        bool drop = fault && fault->kind == Fault::drop_mid_stream;
        int delay = fault && fault->kind == Fault::slow_first_byte ? fault->delay_ms : 0;
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider(
            "text/event-stream", [this, events, drop, delay, eol, sent = std::size_t(0)](std::size_t, httplib::DataSink& sink) mutable {
                if (sent == 0 && delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
                if (sent == 0) {
                    {
                        std::lock_guard lock(m_mutex);
                        ++m_first_bytes;
                    }
                    std::string comment = ": keep-alive" + eol;  // comments must be ignored
                    sink.write(comment.data(), comment.size());
                }
                if (drop && sent == 3) return false;  // the connection just ends, mid-stream
                if (sent >= events.size()) {
                    sink.done();
                    return true;
                }
                // Split each event at an odd place so parsers must join pieces.
                const std::string& e = events[sent++];
                std::size_t cut = e.size() / 3;
                sink.write(e.data(), cut);
                sink.write(e.data() + cut, e.size() - cut);
                return true;
            });
    });
    m_server->Post("/v1/audio/speech", [this](const httplib::Request& req, httplib::Response& res) {
        std::optional<Fault> fault;
        {
            std::lock_guard lock(m_mutex);
            ++m_speech_requests;
            if (!m_speech_faults.empty()) {
                fault = m_speech_faults.front();
                m_speech_faults.pop_front();
            }
        }
        if (req.get_header_value("Authorization") != "Bearer " + m_options.api_key)
            return answer_json(res, 401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
        json body = parse_json(req.body);
        static const std::set<std::string> kModels{"tts-1", "tts-1-hd", "gpt-4o-mini-tts"};
        if (!body.is_object() || !body.contains("model") || !body["model"].is_string() || !kModels.count(body["model"]))
            return answer_json(res, 400, error_body("model must be tts-1, tts-1-hd or gpt-4o-mini-tts", "invalid_request_error", ""));
        if (!body.contains("input") || !body["input"].is_string() || body["input"].get<std::string>().empty() ||
            body["input"].get<std::string>().size() > 4096)
            return answer_json(res, 400, error_body("input must be 1..4096 characters", "invalid_request_error", ""));
        if (!body.contains("voice") || !body["voice"].is_string())
            return answer_json(res, 400, error_body("voice is required", "invalid_request_error", ""));
        if (body.value("response_format", "mp3") != "pcm")
            return answer_json(res, 400, error_body("the fake speaks response_format pcm only", "invalid_request_error", ""));
        if (body.contains("speed") && (!body["speed"].is_number() || body["speed"] < 0.25 || body["speed"] > 4.0))
            return answer_json(res, 400, error_body("speed must be 0.25..4.0", "invalid_request_error", ""));
        if (body.contains("instructions") && body["model"] != "gpt-4o-mini-tts")
            return answer_json(res, 400, error_body("instructions are not supported by this model", "invalid_request_error", ""));
        if (fault && (fault->kind == Fault::status || fault->kind == Fault::quota)) {
            if (fault->kind == Fault::quota)
                return answer_json(res, 429, error_body("You exceeded your current quota.", "insufficient_quota", "insufficient_quota"));
            return answer_json(res, fault->http_status, error_body("The server had an error", "server_error", ""));
        }
        auto pcm = caller_speech(body["input"], 24000);
        if (!pcm) return answer_json(res, 500, error_body(pcm.error().message, "server_error", ""));
        bool drop = fault && fault->kind == Fault::drop_mid_stream;
        stream_body(res, "application/octet-stream", pcm16le_bytes(*pcm), 4800, drop, 0);  // 100 ms chunks
    });
    m_port = m_options.port ? (m_server->bind_to_port("127.0.0.1", m_options.port) ? m_options.port : -1)
                            : m_server->bind_to_any_port("127.0.0.1");
    if (m_port <= 0) throw std::runtime_error("fake OpenAI cannot listen");
    serve_in_background(*m_server, m_thread);
}

OpenAiFake::~OpenAiFake() {
    m_server->stop();
    if (m_thread.joinable()) m_thread.join();
}

void OpenAiFake::push_fault(Fault fault) {
    std::lock_guard lock(m_mutex);
    m_faults.push_back(std::move(fault));
}

void OpenAiFake::push_speech_fault(Fault fault) {
    std::lock_guard lock(m_mutex);
    m_speech_faults.push_back(std::move(fault));
}

int OpenAiFake::first_bytes_sent() const {
    std::lock_guard lock(m_mutex);
    return m_first_bytes;
}

int OpenAiFake::speech_requests() const {
    std::lock_guard lock(m_mutex);
    return m_speech_requests;
}

int OpenAiFake::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

json OpenAiFake::last_request() const {
    std::lock_guard lock(m_mutex);
    return m_last;
}

}  // namespace va::fake
