// Test support for the carrier codec tests: a MediaSink that records what a codec reported, in order
// ("start", "audio", "dtmf:5", "mark:name", "stop:reason", "error:message"), with the start info and the audio.
// Thread-safety: one test at a time.
#pragma once

#include <string>
#include <vector>

#include "core/pipeline/media_codec.hpp"

namespace va::test {

struct MediaSinkRecorder : MediaSink {
    std::vector<std::string> log;
    nlohmann::json start;
    std::vector<std::int16_t> audio;
    void on_media_start(const nlohmann::json& info) override {
        log.push_back("start");
        start = info;
    }
    void on_media_audio(std::span<const std::int16_t> pcm, std::string_view) override {
        log.push_back("audio");
        audio.insert(audio.end(), pcm.begin(), pcm.end());
    }
    void on_media_dtmf(const std::string& d) override { log.push_back("dtmf:" + d); }
    void on_media_mark(const std::string& n) override { log.push_back("mark:" + n); }
    void on_media_stop(const std::string& r) override { log.push_back("stop:" + r); }
    void on_media_error(const std::string& m) override { log.push_back("error:" + m); }
};

}  // namespace va::test
