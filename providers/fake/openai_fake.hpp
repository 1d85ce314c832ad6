// A protocol-faithful fake of OpenAI's chat completions (provider-protocols.md 4.1) and speech (4.2: pcm spoken by
// espeak-ng at 24 kHz, streamed in chunks) for tests and `va-fake openai`: streamed replies as server-sent events (content deltas, tool calls split into fragments by
// index, the finish reason, a usage chunk, [DONE]), the checks the service makes (bearer key, model, messages),
// and scripted faults taken in order, one per request: an error status (401, 429 with retry headers,
// insufficient_quota, 500, 503), an error event or a dropped connection in the middle of a stream, a slow first
// byte, or a chunk of the test's own making (a malformed one, as a broken server might send).
// Timing, as a real model streams: the first token first_token_ms after the request, then tokens_per_s tokens a
// second (a token is a word with its leading space); without them the reply goes out at once in 4-character
// pieces. Streams are served asynchronously (timers on one I/O thread), so one fake serves hundreds at once;
// in_flight()/max_in_flight() count the chat streams open at once.
// Thread-safety: all public methods are safe from any thread.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/fake/stream_server.hpp"

namespace va::fake {

class OpenAiFake {
public:
    struct Reply {
        std::string text;                    // streamed in pieces; "{tool_result}" becomes the last tool's answer
        std::string tool;                    // a tool to call after the text (empty: none)
        nlohmann::json arguments = nlohmann::json::object();
    };
    struct Fault {
        enum Kind { status, quota, error_mid_stream, drop_mid_stream, slow_first_byte, raw_chunk } kind = status;
        int http_status = 500;
        std::string retry_after;      // the retry-after header, when set
        std::string retry_after_ms;   // the retry-after-ms header, when set
        std::string should_retry;     // x-should-retry, when set
        int delay_ms = 0;             // slow_first_byte
        std::string chunk;            // raw_chunk: sent as the data of an event after the first content piece
    };
    struct Options {
        std::string api_key = "sk-fake-openai";
        int port = 0;
        std::vector<Reply> replies{{"Hello from the fake model.", "", nlohmann::json::object()}};  // in turn
        bool crlf = false;            // end SSE lines with CR LF instead of LF
        int first_token_ms = 0;       // the role chunk and the first token this long after the request
        double tokens_per_s = 0;      // then one token (a word) every 1/tokens_per_s s; 0: all at once
    };

    explicit OpenAiFake(Options options);
    ~OpenAiFake();
    OpenAiFake(const OpenAiFake&) = delete;
    OpenAiFake& operator=(const OpenAiFake&) = delete;

    int port() const { return m_port; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/v1"; }
    void push_fault(Fault fault);          // for the next chat request
    void push_speech_fault(Fault fault);   // for the next /v1/audio/speech request (status or drop_mid_stream)
    int requests() const;
    int first_bytes_sent() const;  // chat streams whose first byte went out (after any slow_first_byte delay)
    int speech_requests() const;
    std::vector<std::string> speech_inputs() const;  // the input of each valid speech request, in order
    nlohmann::json last_request() const;
    int in_flight() const;      // chat streams open now
    int max_in_flight() const;  // the most open at once so far

private:
    void chat(const StreamRequest& req, std::shared_ptr<StreamReply> res);
    void speech(const StreamRequest& req, std::shared_ptr<StreamReply> res);

    Options m_options;
    int m_port = 0;
    mutable std::mutex m_mutex;
    std::deque<Fault> m_faults, m_speech_faults;
    int m_requests = 0, m_speech_requests = 0, m_first_bytes = 0, m_in_flight = 0, m_max_in_flight = 0;
    std::vector<std::string> m_speech_inputs;
    std::size_t m_next_reply = 0;
    nlohmann::json m_last;
    std::unique_ptr<StreamServer> m_server;  // last: stopped first, while the state its answers touch is alive
};

}  // namespace va::fake
