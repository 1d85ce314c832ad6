// A protocol-faithful fake of ElevenLabs text-to-speech (provider-protocols.md 5) for tests and
// `va-fake elevenlabs`, speaking with espeak-ng in the requested raw output format:
// - HTTP: POST /v1/text-to-speech/{voice}/stream (xi-api-key, output_format checked, audio streamed in chunks);
// - WebSocket: /v1/text-to-speech/{voice}/stream-input on a second port (auth by header or first message, the
//   first message must be a single space, text buffered against the chunk schedule or flushed, audio as base64
//   with alignment, isFinal and close 1000 after {"text":""}, close 1008 after the inactivity timeout or on an
//   invalid message).
// Scripted faults, one per request (an HTTP request or a WebSocket sentence), taken in order: 401 quota_exceeded
// or invalid_api_key, 422, 429 concurrency, 500, a dropped connection mid-stream, a slow first byte; and
// fail_from: every request from that number on fails (a provider that "starts failing" mid-call). On the
// WebSocket a sentence can also be answered by a broken message (not JSON, or audio that is not base64).
// Timing, as the service streams: the first audio first_audio_ms after the request (HTTP) or the sentence's text
// (WebSocket), then the rest at realtime_factor times real time; with `tones`, a tone as long as the text would
// take to say replaces espeak-ng, so one fake serves hundreds of calls. Everything is served asynchronously (timers
// on the fakes' I/O threads, espeak-ng on a small pool); in_flight()/max_in_flight() count the requests (HTTP
// streams and WebSocket sentences) whose audio is still being sent. A test that must see a sentence arrive in
// pieces holds each WebSocket sentence after its first hold_after_chunks audio messages until release().
// Thread-safety: all public methods are safe from any thread.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace va::fake {

class ElevenLabsFake {
public:
    struct Fault {
        // not_json and bad_base64: WebSocket only, in place of the sentence's audio, the connection left open.
        enum Kind { status, drop_mid_stream, slow_first_byte, not_json, bad_base64 } kind = status;
        int http_status = 500;
        std::string detail_status;  // "quota_exceeded", "invalid_api_key", "too_many_concurrent_requests"
        int delay_ms = 0;
    };
    struct Options {
        std::string api_key = "xi-fake-key";
        int port = 0;     // HTTP
        int ws_port = 0;  // WebSocket
        int fail_from = 0;  // 1-based request number from which every request fails with 500 (0: never)
        bool tones = false;         // a tone instead of espeak-ng, tone_ms_per_char per character of the text
        int tone_ms_per_char = 60;
        int first_audio_ms = 0;     // the first audio this long after the request (or the sentence's text)
        double realtime_factor = 0; // then audio at this many times real time (0: all at once)
        int hold_after_chunks = 0;  // > 0: each WebSocket sentence waits after this many audio messages for release()
    };
    struct Stream {  // one WebSocket connection
        std::string query;
        std::string output_format;
        bool auth_in_header = false;
        std::vector<int> chunk_schedule;
        std::vector<std::string> texts;  // every text message after the first, as sent
        int flushes = 0, keepalives = 0;
        bool end_of_input = false;
        std::string closed_with;     // the fake's own close
        bool closed_by_client = false;  // the client closed (or dropped) it first
        std::vector<std::string> violations;
    };

    explicit ElevenLabsFake(Options options);
    ~ElevenLabsFake();
    ElevenLabsFake(const ElevenLabsFake&) = delete;
    ElevenLabsFake& operator=(const ElevenLabsFake&) = delete;

    std::string base_url() const;
    std::string ws_url() const;
    void push_fault(Fault fault);
    int requests() const;  // HTTP requests and WebSocket sentences
    std::vector<std::string> http_texts() const;
    std::vector<Stream> streams() const;
    int in_flight() const;      // requests whose audio is still being sent
    int max_in_flight() const;  // the most at once so far
    std::size_t audio_bytes_sent() const;  // every audio byte sent, over both transports
    int held() const;  // WebSocket sentences waiting for release() (Options::hold_after_chunks)
    void release();    // lets every held sentence, and every later one, go on

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace va::fake
