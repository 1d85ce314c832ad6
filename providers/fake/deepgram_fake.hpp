// A protocol-faithful fake of Deepgram live recognition (provider-protocols.md 3) for tests and
// `va-fake deepgram`: /v1/listen over WebSocket with the checks the service makes (Authorization: Token,
// encoding and sample_rate both or neither, known encodings), then recognition scripted from a list of caller
// lines: the audio's energy says where speech starts and stops (the words themselves are not understood), and
// each utterance yields the next line. It sends SpeechStarted, interim Results about once per second of speech, a
// final with speech_final after `endpointing` ms of silence, UtteranceEnd after utterance_end_ms, a from_finalize
// final on Finalize, and finals + Metadata + close 1000 on CloseStream. It closes like the service on a
// zero-length frame, and with NET-0001 after idle_limit_ms without audio or KeepAlive. Scripted faults: refused
// handshakes (401, 429, 500, 503), an error then a close mid-stream, a dropped connection after some speech.
// Lines are taken in order across all connections (a reconnecting call continues where it was), then `phrase`.
// Timing, as the service answers: with final_delay_ms the final (speech_final) comes that long after the speech
// ends (the first quiet frame), on a timer, instead of after `endpointing` ms of silence; a Finalize meanwhile
// marks that final from_finalize. Interim results come every interim_ms of speech. The fake is a WebSocket server
// on one I/O thread, recognizing by energy only, so it serves hundreds of calls at once; open_streams() and
// max_open_streams() count the connections.
// Thread-safety: all public methods are safe from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace va::fake {

class DeepgramFake {
public:
    struct Options {
        std::string api_key = "dg-fake-key";
        int port = 0;
        std::vector<std::string> lines;  // what the caller says, one per utterance
        std::string phrase;              // what every utterance after the lines says
        int final_delay_ms = 0;          // the final this long after the speech ends (0: after `endpointing` of silence)
        int interim_ms = 1000;           // an interim result every this much speech
        int idle_limit_ms = 10000;       // NET-0001
        int refuse_status = 0;           // answer every handshake with this status instead of upgrading
        int refuse_count = -1;           // ... for this many handshakes (-1: all)
        int drop_after_speech_ms = 0;    // close the first connection (1011 NET-0000) this far into an utterance
        bool error_mid_stream = false;   // with drop_after_speech_ms: send an Error message before the close
    };
    // What one connection saw.
    struct Connection {
        std::string query;
        std::string encoding;
        int sample_rate = 0;
        std::size_t audio_bytes = 0;
        int keepalives = 0, finalizes = 0;
        bool close_stream = false;
        std::vector<int> utterance_ms;   // length of each utterance heard on this connection
        std::vector<std::string> violations;
        std::string closed_with;         // the close reason the fake sent, if it closed
    };

    explicit DeepgramFake(Options options);
    ~DeepgramFake();
    DeepgramFake(const DeepgramFake&) = delete;
    DeepgramFake& operator=(const DeepgramFake&) = delete;

    int port() const;
    std::string base_url() const { return "ws://127.0.0.1:" + std::to_string(port()); }
    std::vector<Connection> connections() const;
    int handshakes() const;
    int open_streams() const;
    int max_open_streams() const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace va::fake
