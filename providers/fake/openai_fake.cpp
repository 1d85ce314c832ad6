#include "providers/fake/openai_fake.hpp"

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

// The reply's tokens: with a token rate, words with their leading space (as a model's tokens mostly are);
// without, 4-character pieces (so parsers must join deltas that split words).
std::vector<std::string> tokens(const std::string& text, bool words) {
    std::vector<std::string> out;
    if (!words) {
        for (std::size_t i = 0; i < text.size(); i += 4) out.push_back(text.substr(i, 4));
        return out;
    }
    for (std::size_t i = 0; i < text.size();) {
        std::size_t j = i;
        while (j < text.size() && text[j] == ' ') ++j;
        while (j < text.size() && text[j] != ' ') ++j;
        out.push_back(text.substr(i, j - i));
        i = j;
    }
    return out;
}

void answer(StreamReply& res, int status, const json& body, StreamHeaders headers = {}) {
    res.send(status, "application/json", body.dump(), std::move(headers));
}

}  // namespace

OpenAiFake::OpenAiFake(Options options) : m_options(std::move(options)), m_server(std::make_unique<StreamServer>()) {
    m_server->route("POST", "/v1/chat/completions", [this](const StreamRequest& req, std::shared_ptr<StreamReply> res) { chat(req, res); });
    m_server->route("POST", "/v1/audio/speech", [this](const StreamRequest& req, std::shared_ptr<StreamReply> res) { speech(req, res); });
    m_server->start(m_options.port);
    m_port = m_server->port();
}

void OpenAiFake::chat(const StreamRequest& req, std::shared_ptr<StreamReply> res) {
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
    if (req.header("authorization") != "Bearer " + m_options.api_key)
        return answer(*res, 401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
    json body = parse_json(req.body);
    if (!body.is_object() || !body.contains("model") || !body["model"].is_string())
        return answer(*res, 400, error_body("you must provide a model parameter", "invalid_request_error", ""));
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
        return answer(*res, 400, error_body("'messages' is a required property", "invalid_request_error", ""));
    // As the service does: a tool's answer must follow the assistant message that asked for it, by id.
    std::set<std::string> asked;
    std::string tool_result;
    for (const auto& m : body["messages"]) {
        if (!m.is_object()) return answer(*res, 400, error_body("messages must be objects", "invalid_request_error", ""));
        if (m.value("role", "") == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array())
            for (const auto& c : m["tool_calls"])
                if (c.is_object() && c.contains("id") && c["id"].is_string()) asked.insert(c["id"].get<std::string>());
        if (m.value("role", "") == "tool") {
            if (!m.contains("tool_call_id") || !m["tool_call_id"].is_string() || !asked.count(m["tool_call_id"]))
                return answer(*res, 400, error_body("messages with role 'tool' must be a response to a preceding message with "
                                                    "'tool_calls'", "invalid_request_error", ""));
            tool_result = m.value("content", "");
        }
    }
    if (fault && (fault->kind == Fault::status || fault->kind == Fault::quota)) {
        StreamHeaders headers;
        if (!fault->retry_after.empty()) headers.emplace_back("retry-after", fault->retry_after);
        if (!fault->retry_after_ms.empty()) headers.emplace_back("retry-after-ms", fault->retry_after_ms);
        if (!fault->should_retry.empty()) headers.emplace_back("x-should-retry", fault->should_retry);
        if (fault->kind == Fault::quota)
            return answer(*res, 429, error_body("You exceeded your current quota, please check your plan and billing details.",
                                                "insufficient_quota", "insufficient_quota"), headers);
        return answer(*res, fault->http_status, error_body(fault->http_status == 429 ? "Rate limit reached" : "The server had an error",
                                                           fault->http_status == 429 ? "requests" : "server_error", ""), headers);
    }
    {
        std::lock_guard lock(m_mutex);
        reply = m_options.replies[m_next_reply++ % m_options.replies.size()];
    }
    // "{tool_result}" in a scripted reply says back what the last tool answered (as a model would use it).
    if (auto at = reply.text.find("{tool_result}"); at != std::string::npos) reply.text.replace(at, 13, tool_result);
    // The whole stream as events, each with the tick it goes out at: the role chunk and the first token at tick 0,
    // each later token or tool-call fragment one tick later, the end of the stream with the last of them.
    std::string eol = m_options.crlf ? "\r\n" : "\n";
    struct Event {
        std::string data;
        int tick;
    };
    std::vector<Event> events;
    int tick = 0;
    auto event = [&](const json& j, int t) { events.push_back({"data: " + j.dump() + eol + eol, t}); };
    event(chunk({{"role", "assistant"}, {"content", ""}}, nullptr), 0);
    for (const auto& t : tokens(reply.text, m_options.tokens_per_s > 0)) event(chunk({{"content", t}}, nullptr), tick++);
    if (!reply.tool.empty()) {
        std::string args = reply.arguments.dump();
        event(chunk({{"tool_calls", {{{"index", 0}, {"id", "call_fake" + std::to_string(request_no)}, {"type", "function"},
                                      {"function", {{"name", reply.tool}, {"arguments", ""}}}}}}}, nullptr), tick++);
        for (std::size_t i = 0; i < args.size(); i += 5)
            event(chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", args.substr(i, 5)}}}}}}}, nullptr), tick++);
    }
    int last = std::max(0, tick - 1);
    event(chunk(json::object(), reply.tool.empty() ? "stop" : "tool_calls"), last);
    events.push_back({"data: " + json{{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"}, {"choices", json::array()},
                                      {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 7}, {"total_tokens", 19}}}}.dump() +
                          eol + eol, last});
    events.push_back({"data: [DONE]" + eol + eol, last});
    if (fault && fault->kind == Fault::error_mid_stream) {
        events.resize(3);
        events.push_back({"data: " + error_body("The model overloaded mid-stream", "server_error", "").dump() + eol + eol, events[2].tick});
    }
    if (fault && fault->kind == Fault::raw_chunk) events.insert(events.begin() + 2, {"data: " + fault->chunk + eol + eol, events[1].tick});
    bool drop = fault && fault->kind == Fault::drop_mid_stream;
    int delay = (fault && fault->kind == Fault::slow_first_byte ? fault->delay_ms : 0) + m_options.first_token_ms;
    {
        std::lock_guard lock(m_mutex);
        m_max_in_flight = std::max(m_max_in_flight, ++m_in_flight);
    }
    res->on_close([this] {
        std::lock_guard lock(m_mutex);
        --m_in_flight;
    });
    res->begin(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
    // Ticks are absolute times from the first token, so a busy fake does not drift; each event is split at an odd
    // place so parsers must join pieces.
    auto first = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
    auto tick_ns = m_options.tokens_per_s > 0 ? std::chrono::nanoseconds(std::int64_t(1e9 / m_options.tokens_per_s))
                                               : std::chrono::nanoseconds(0);
    auto shared = std::make_shared<std::vector<Event>>(std::move(events));
    auto send_from = std::make_shared<std::function<void(std::size_t)>>();
    *send_from = [this, res, shared, drop, eol, first, tick_ns, weak = std::weak_ptr(send_from)](std::size_t from) {
        std::size_t at = from;
        if (at == 0) {
            {
                std::lock_guard lock(m_mutex);
                ++m_first_bytes;
            }
            res->write(": keep-alive" + eol);  // comments must be ignored
        }
        for (; at < shared->size(); ++at) {
            const Event& e = (*shared)[at];
            if (at > from && e.tick != (*shared)[at - 1].tick) {
                auto next = weak.lock();
                return res->at(first + tick_ns * e.tick, [next, at] { (*next)(at); });
            }
            if (drop && at == 3) return res->drop();  // the connection just ends, mid-stream
            std::size_t cut = e.data.size() / 3;
            res->write(e.data.substr(0, cut));
            res->write(e.data.substr(cut));
        }
        if (drop) return res->drop();
        res->end();
    };
    res->at(first, [send_from] { (*send_from)(0); });
}

void OpenAiFake::speech(const StreamRequest& req, std::shared_ptr<StreamReply> res) {
    std::optional<Fault> fault;
    {
        std::lock_guard lock(m_mutex);
        ++m_speech_requests;
        if (!m_speech_faults.empty()) {
            fault = m_speech_faults.front();
            m_speech_faults.pop_front();
        }
    }
    if (req.header("authorization") != "Bearer " + m_options.api_key)
        return answer(*res, 401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
    json body = parse_json(req.body);
    static const std::set<std::string> kModels{"tts-1", "tts-1-hd", "gpt-4o-mini-tts"};
    if (!body.is_object() || !body.contains("model") || !body["model"].is_string() || !kModels.count(body["model"]))
        return answer(*res, 400, error_body("model must be tts-1, tts-1-hd or gpt-4o-mini-tts", "invalid_request_error", ""));
    if (!body.contains("input") || !body["input"].is_string() || body["input"].get<std::string>().empty() ||
        body["input"].get<std::string>().size() > 4096)
        return answer(*res, 400, error_body("input must be 1..4096 characters", "invalid_request_error", ""));
    if (!body.contains("voice") || !body["voice"].is_string())
        return answer(*res, 400, error_body("voice is required", "invalid_request_error", ""));
    if (body.value("response_format", "mp3") != "pcm")
        return answer(*res, 400, error_body("the fake speaks response_format pcm only", "invalid_request_error", ""));
    if (body.contains("speed") && (!body["speed"].is_number() || body["speed"] < 0.25 || body["speed"] > 4.0))
        return answer(*res, 400, error_body("speed must be 0.25..4.0", "invalid_request_error", ""));
    if (body.contains("instructions") && body["model"] != "gpt-4o-mini-tts")
        return answer(*res, 400, error_body("instructions are not supported by this model", "invalid_request_error", ""));
    if (fault && (fault->kind == Fault::status || fault->kind == Fault::quota)) {
        if (fault->kind == Fault::quota)
            return answer(*res, 429, error_body("You exceeded your current quota.", "insufficient_quota", "insufficient_quota"));
        return answer(*res, fault->http_status, error_body("The server had an error", "server_error", ""));
    }
    {
        std::lock_guard lock(m_mutex);
        m_speech_inputs.push_back(body["input"]);
    }
    auto pcm = std::make_shared<Result<std::vector<std::int16_t>>>(make_error(ErrorCode::internal, ""));
    bool drop = fault && fault->kind == Fault::drop_mid_stream;
    res->blocking([pcm, text = body["input"].get<std::string>()] { *pcm = caller_speech(text, 24000); },
                  [res, pcm, drop] {
                      if (!*pcm) return answer(*res, 500, error_body(pcm->error().message, "server_error", ""));
                      std::string bytes = pcm16le_bytes(**pcm);
                      res->begin(200, "application/octet-stream");
                      for (std::size_t at = 0; at < bytes.size(); at += 4800) {  // 100 ms chunks
                          if (drop && at >= bytes.size() / 2) return res->drop();
                          res->write(bytes.substr(at, 4800));
                      }
                      res->end();
                  });
}

OpenAiFake::~OpenAiFake() { m_server.reset(); }

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

std::vector<std::string> OpenAiFake::speech_inputs() const {
    std::lock_guard lock(m_mutex);
    return m_speech_inputs;
}

int OpenAiFake::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

int OpenAiFake::in_flight() const {
    std::lock_guard lock(m_mutex);
    return m_in_flight;
}

int OpenAiFake::max_in_flight() const {
    std::lock_guard lock(m_mutex);
    return m_max_in_flight;
}

json OpenAiFake::last_request() const {
    std::lock_guard lock(m_mutex);
    return m_last;
}

}  // namespace va::fake
