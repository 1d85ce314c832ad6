// ElevenLabs' stream-input WebSocket (provider-protocols.md 5.2) as a streaming TtsClient, the default transport:
// one warm connection per call, opened when the call's media connects (set_output). The first message carries the
// voice settings and the chunk schedule; each sentence goes out with a trailing space and flush:true; a
// single-space keep-alive goes out within the inactivity timeout; {"text":""} ends the stream at hang-up.
//
// Streaming: speak() returns at once and each `audio` message reaches the sink as it arrives, decoded to PCM16. A
// sentence is complete at isFinal, when the alignment has covered its visible characters, or when its audio has
// paused for 800 ms (alignment of normalised text may never add up); that pause and the sentence's timeout are
// timers on the stream's loop (below), so no thread waits for a sentence. One sentence brings at most
// kMaxSentenceAudioSeconds of audio (http_speech.hpp): past that it fails with too_large and its connection is closed.
//
// Cancelling (barge-in, hang-up) closes the sentence's connection, so the service stops generating it, and opens a
// fresh one at once for the next sentence: the single-context protocol cannot drop text already flushed, and a
// connection kept open would send the rest of the cancelled audio ahead of the next sentence's.
// A connection the service closed (inactivity, an error) is reopened for the next sentence; a bare close before any
// of a sentence's audio is retried once on a new connection; a close after some audio ends the sentence with what
// came. Error messages, a close before any audio, unreadable messages (not JSON, audio not base64) and the timeout
// fail the sentence with an Error from provider "elevenlabs". A permanent error (bad key, quota) fails the next
// sentences at once, without reconnecting.
// Thread-safety: a client is used by one thread at a time and speaks one sentence at a time (the next after on_done
// or cancel()); a sentence may be cancelled from any thread, its own callbacks included. Sinks are called on the
// stream's loop, in order, and never once cancel() (or the client's destruction) has returned. The stream's loop is
// that of the thread that opens it (set_output) when it runs one (io_loop.hpp: the call's I/O thread in the daemon),
// else the shared WebSocket I/O thread; its connections and timers all stay on it.
#pragma once

#include <memory>

#include "core/providers/speech.hpp"
#include "providers/elevenlabs/tts.hpp"

namespace va::elevenlabs {

std::unique_ptr<TtsClient> websocket_tts(Settings settings);

}  // namespace va::elevenlabs
