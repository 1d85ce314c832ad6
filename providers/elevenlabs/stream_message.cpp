#include "providers/elevenlabs/stream_message.hpp"

#include <nlohmann/json.hpp>

#include "core/util/encoding.hpp"
#include "core/util/json.hpp"

namespace va::elevenlabs {

using nlohmann::json;

std::size_t visible_chars(std::string_view text) {
    std::size_t n = 0;
    for (char c : text)
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') ++n;
    return n;
}

std::optional<StreamMessage> parse_stream_message(std::string_view text) {
    json m = parse_json(text);
    if (!m.is_object()) return std::nullopt;
    StreamMessage out;
    if (const json* audio = json_field(m, "audio"); audio && audio->is_string()) {
        out.audio = base64_decode(audio->get_ref<const std::string&>());
        out.bad_audio = !out.audio;
        for (const char* key : {"alignment", "normalizedAlignment"}) {
            const json* alignment = json_field(m, key);
            const json* chars = alignment ? json_field(*alignment, "chars") : nullptr;
            if (!chars || !chars->is_array()) continue;
            for (const auto& c : *chars)
                if (c.is_string()) out.covered_chars += visible_chars(c.get_ref<const std::string&>());
            break;
        }
    }
    if (const json* f = json_field(m, "isFinal"); f && f->is_boolean()) out.is_final = f->get<bool>();
    if (const json* message = json_field(m, "message"); message && message->is_string()) {
        out.error_message = message->get<std::string>();
        if (const json* status = json_field(m, "error"); status && status->is_string()) out.error_status = status->get<std::string>();
    }
    return out;
}

}  // namespace va::elevenlabs
