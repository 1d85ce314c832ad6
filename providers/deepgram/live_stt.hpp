// Deepgram live recognition (provider-protocols.md 3): a WebSocket per call to /v1/listen with
// `Authorization: Token`, the carrier's own encoding (mulaw for Twilio, linear16 otherwise) at its rate, interim
// results, endpointing, utterance_end_ms and vad_events. Results, speech_final, UtteranceEnd and SpeechStarted
// become SttEvents. KeepAlive goes out while no audio flows, Finalize at the end of a turn, CloseStream at
// hang-up; zero-length frames are never sent. A dropped connection is reopened within the call: audio not yet
// settled by a final result, and audio that arrives meanwhile (up to reconnect_buffer_s), is sent again on the new
// connection, so the caller loses no words. A refused key or quota, or reconnects that keep failing, end the
// stream with a `failed` event (the session then falls back to the agent's next recognizer).
// Thread-safety: see StreamingRecognizer; push/finalize/close may come from the session's strand while events arrive on
// the stream's loop: that of the thread that started it when it runs one (io_loop.hpp: the call's I/O thread), else
// the shared WebSocket thread.
#pragma once

#include <memory>
#include <string>

#include "core/providers/speech.hpp"

namespace va::deepgram {

struct Settings {
    std::string api_key;
    std::string base_url = "wss://api.deepgram.com";
    std::string model = "nova-2";
    std::string language = "en-US";
    int endpointing_ms = 300;
    int utterance_end_ms = 1000;
    bool smart_format = true;
    double reconnect_buffer_s = 10;  // caller audio kept while a dropped connection is reopened
    int max_reconnects = 3;          // consecutive failed attempts before the stream is given up
    int keepalive_ms = 4000;         // KeepAlive after this long without audio (Deepgram closes after 10 s)
};

// The /v1/listen URL for `settings` and the transport (exposed for tests).
std::string listen_url(const Settings& settings, const AudioFormat& transport);

std::unique_ptr<StreamingRecognizer> make_live_stt(Settings settings);

// The factory for agents with "stt": {"provider": "deepgram", "model", "language", "endpointing_ms"}; the key
// and defaults come from the daemon's configuration.
std::shared_ptr<SttFactory> live_stt_factory(Settings defaults);

}  // namespace va::deepgram
