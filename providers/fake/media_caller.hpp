// The "person" on a fake carrier call: a WebSocket client that connects to the bot's stream URL as the carrier
// would, streams the caller's audio in real time (silence between turns, as a phone line does), plays out what
// the bot sends at real-time rate, honours mark and clear, records what the person heard with timing, sends DTMF
// on cue, and flags every protocol violation it sees. The wire format is a Dialect (Twilio, Exotel).
// Thread-safety: a MediaCaller runs on the io_context it is given (one thread); result() is safe once done.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace boost::asio {
class io_context;
}

namespace va::fake {

// One thing the caller does, in order: say something, or press keys.
struct CallerTurn {
    std::vector<std::int16_t> audio;  // PCM16 at the call's rate; empty with dtmf
    std::string dtmf;                 // digits to press instead of speaking
    int barge_in_after_ms = -1;       // >= 0: speak once the bot has talked this long, instead of waiting for it
    int after_ms = -1;                // >= 0: speak this long after the previous turn, whatever the bot does
};

struct CallerScript {
    std::vector<CallerTurn> turns;
    int answer_silence_ms = 900;   // the bot is done when nothing has played for this long
    int first_wait_ms = 8000;      // speak anyway if the bot says nothing for this long
    int hang_up_after_ms = 1500;   // after the last turn's answer, hang up (send stop) when quiet this long
    int max_call_ms = 120000;
    std::vector<std::string> junk;  // raw messages sent right after the opening (fault tests: the call must go on)
    int vanish_after_bot_ms = -1;   // >= 0: after the last turn, the line drops (no stop, no close frame) once the
                                    // bot's answer has played this long
};

// What the wire looks like: messages the carrier sends and how it reads the bot's.
class Dialect {
public:
    virtual ~Dialect() = default;
    virtual int sample_rate() const = 0;
    virtual int frame_ms() const = 0;  // cadence of caller media frames
    virtual std::vector<std::string> opening() = 0;  // connected, start
    virtual std::string media(std::span<const std::int16_t> pcm) = 0;
    virtual std::string dtmf(char digit) = 0;
    virtual std::string mark_echo(const std::string& name) = 0;
    virtual std::string stop() = 0;
    struct BotMessage {
        enum Kind { media, mark, clear, ignored } kind = ignored;
        std::vector<std::int16_t> pcm;
        std::string mark_name;
    };
    // Parses one bot message; appends protocol violations it finds to `violations`.
    virtual BotMessage parse(std::string_view text, bool binary, std::vector<std::string>& violations) = 0;
    virtual bool echo_marks_on_clear() const { return true; }
};

struct HeardSpan {
    std::int64_t start_ms, end_ms;  // from the start of the stream
};

struct CallerResult {
    std::vector<std::int16_t> heard;  // the person's ear: the bot's audio at the call's rate, silence between
    std::vector<HeardSpan> spans;     // when bot audio was playing
    std::vector<std::string> violations;
    std::vector<std::string> marks_echoed;
    int clears = 0;
    int queue_after_clear = -1;       // samples queued right after the last clear (0: it emptied)
    std::string ended_by;  // "caller" (stop sent), "bot" (it closed), "carrier" (hang-up or transfer), "vanished", "error"
    std::string close_reason;
    int close_code = 0;
    std::string error;
    std::int64_t duration_ms = 0;
    bool done = false;
    // Timing, for benchmarks: when each caller turn finished (ms from the stream's start) and when each bot media
    // message arrived (µs from the stream's start).
    std::vector<std::int64_t> turn_end_ms;
    std::vector<std::int64_t> bot_media_us;
    std::int64_t started_steady_us = 0;  // the stream's start on the steady clock, to line up calls with each other
};

class MediaCaller : public std::enable_shared_from_this<MediaCaller> {
public:
    // `headers` go on the upgrade request (X-Twilio-Signature, Authorization). `on_ending` (optional) runs once, on
    // the io thread, as soon as the stream starts to end: before the caller's or carrier's stop goes out, or when
    // the bot's close or a failure arrives. The bot may act on a stop at once, so a carrier that counts live calls
    // must count this one out then, not when the close handshake is over (on_done).
    static std::shared_ptr<MediaCaller> start(boost::asio::io_context& io, std::string url,
                                              std::vector<std::pair<std::string, std::string>> headers,
                                              std::unique_ptr<Dialect> dialect, CallerScript script,
                                              std::function<void(const CallerResult&)> on_done,
                                              std::function<void()> on_ending = {});
    virtual ~MediaCaller() = default;
    // The carrier ends the stream (REST hang-up, transfer): stop, then close. Safe from any thread.
    virtual void end_from_carrier() = 0;
};

// Twilio Media Streams as Twilio speaks it: mu-law 8 kHz, 20 ms frames, camelCase JSON.
std::unique_ptr<Dialect> twilio_dialect(std::string stream_sid, std::string call_sid, std::string account_sid,
                                        nlohmann::json custom_parameters);

// Exotel AgentStream as Exotel speaks it: PCM16 at `sample_rate` in `frame_ms` frames (100 by default, 20 in an
// older vendor doc), snake_case JSON with every number a string.
std::unique_ptr<Dialect> exotel_dialect(int sample_rate, int frame_ms, std::string stream_sid, std::string call_sid,
                                        std::string account_sid, std::string from, std::string to,
                                        nlohmann::json custom_parameters);

}  // namespace va::fake
