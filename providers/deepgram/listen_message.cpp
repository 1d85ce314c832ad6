#include "providers/deepgram/listen_message.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/util/json.hpp"

namespace va::deepgram {

using nlohmann::json;

namespace {

bool flag(const json& object, const char* key) {
    const json* v = json_field(object, key);
    return v && v->is_boolean() && v->get<bool>();
}

std::string text_of(const json& object, const char* key) {
    const json* v = json_field(object, key);
    return v && v->is_string() ? v->get<std::string>() : std::string();
}

std::optional<double> finite_number(const json& object, const char* key) {
    const json* v = json_field(object, key);
    if (!v || !v->is_number()) return std::nullopt;
    double d = v->get<double>();
    return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

}  // namespace

std::optional<ListenMessage> parse_listen_message(std::string_view text) {
    json m = parse_json(text);
    if (!m.is_object()) return std::nullopt;
    ListenMessage out;
    std::string type = text_of(m, "type");
    if (type == "Results") {
        out.type = ListenMessage::Type::results;
        const json* alternatives = nullptr;
        if (const json* channel = json_field(m, "channel")) alternatives = json_field(*channel, "alternatives");
        if (alternatives && alternatives->is_array() && !alternatives->empty()) {
            const json& alt = alternatives->front();
            out.transcript = text_of(alt, "transcript");
            out.confidence = finite_number(alt, "confidence").value_or(0.0);
        }
        out.is_final = flag(m, "is_final");
        out.speech_final = flag(m, "speech_final");
        out.from_finalize = flag(m, "from_finalize");
        auto start = finite_number(m, "start");
        auto duration = finite_number(m, "duration");
        if (start && duration && std::isfinite(*start + *duration)) out.end_s = *start + *duration;
    } else if (type == "SpeechStarted") {
        out.type = ListenMessage::Type::speech_started;
    } else if (type == "UtteranceEnd") {
        out.type = ListenMessage::Type::utterance_end;
    } else if (type == "Error") {
        // Not confirmed that Deepgram sends one before closing; kept for the close that follows.
        out.type = ListenMessage::Type::error;
        out.description = text_of(m, "description");
        if (out.description.empty()) out.description = text_of(m, "message");
        if (out.description.empty()) out.description = "error";
    }
    return out;
}

std::size_t settled_bytes(double end_s, std::size_t bytes_per_ms, std::size_t limit) {
    if (!(end_s > 0)) return 0;  // negative, zero and NaN
    double bytes = end_s * double(bytes_per_ms) * 1000.0;
    if (!(bytes < double(limit))) return limit;
    return std::size_t(bytes);
}

}  // namespace va::deepgram
