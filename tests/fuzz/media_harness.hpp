// Shared by the carrier media codec harnesses (Twilio Media Streams, Exotel AgentStream): the input is a call's
// WebSocket messages, one per line, fed to one codec in order (so a start can precede media). Whatever the codec
// hands the session must be usable: info and names dump as JSON, audio encodes back into a message.
// Thread-safety: single-threaded, as a codec is used from its call's strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/pipeline/media_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace va::fuzz {

class RecordingSink final : public MediaSink {
public:
    void on_media_start(const nlohmann::json& info) override { (void)info.dump(); ++starts; }
    void on_media_audio(std::span<const std::int16_t> pcm, std::string_view) override { samples.assign(pcm.begin(), pcm.end()); }
    void on_media_dtmf(const std::string& digit) override { FUZZ_CHECK(!digit.empty()); }
    void on_media_mark(const std::string& name) override { marks.push_back(name); }
    void on_media_stop(const std::string& reason) override { FUZZ_CHECK(!reason.empty()); }
    void on_media_error(const std::string& message) override { FUZZ_CHECK(!message.empty()); }

    int starts = 0;
    std::vector<std::int16_t> samples;
    std::vector<std::string> marks;
};

inline void run_media_codec(MediaCodec& codec, std::string_view input) {
    RecordingSink sink;
    bool binary = !input.empty() && input.front() == '\x01';  // a leading 0x01 sends the first frame as binary
    while (!input.empty()) {
        auto eol = input.find('\n');
        std::string_view message = input.substr(0, eol);
        input = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
        codec.parse(message, binary, sink);
        binary = false;
        if (!sink.samples.empty()) {
            // What we heard goes back out as the codec's own message (echo), which must be well-formed JSON.
            std::string wire;
            encode_audio(codec.encoding(), sink.samples, wire);
            auto out = codec.audio(wire);
            if (!out.binary) FUZZ_CHECK(!nlohmann::json::parse(out.data, nullptr, false).is_discarded());
            sink.samples.clear();
        }
    }
    for (const auto& name : sink.marks) {
        auto mark = codec.mark(name);
        if (mark) FUZZ_CHECK(!nlohmann::json::parse(*mark, nullptr, false).is_discarded());
    }
    (void)codec.clear();
    FUZZ_CHECK(codec.sample_rate() >= 0);
}

}  // namespace va::fuzz
