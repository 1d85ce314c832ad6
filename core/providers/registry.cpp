#include "core/providers/registry.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace va {

using nlohmann::json;

json ConfigSection::defaults() const {
    json values = json::object();
    for (const auto& key : keys) values[key.name] = key.default_value;
    return values;
}

namespace registry {

namespace {

struct Tables {
    std::mutex mutex;
    std::vector<SttEntry> stt;
    std::vector<LlmEntry> llm;
    std::vector<TtsEntry> tts;
    std::vector<ConfigSection> sections;
    std::uint64_t generation = 0;
};

Tables& tables() {
    static Tables t;
    return t;
}

template <class Entry>
void add(std::vector<Entry>& table, Entry entry, const char* kind) {
    auto same = [&](const Entry& e) { return e.name == entry.name; };
    if (std::any_of(table.begin(), table.end(), same))
        throw std::logic_error(std::string(kind) + " provider \"" + entry.name + "\" is registered twice");
    if (entry.is_default && std::any_of(table.begin(), table.end(), [](const Entry& e) { return e.is_default; }))
        throw std::logic_error(std::string(kind) + " provider \"" + entry.name + "\" is a second default");
    table.push_back(std::move(entry));
}

template <class Entry>
std::string default_of(const std::vector<Entry>& table) {
    for (const auto& e : table)
        if (e.is_default) return e.name;
    return {};
}

template <class Entry>
json schema_of(const std::vector<Entry>& table, json base, const std::string& stage) {
    json names = json::array();
    json& properties = base["properties"];
    for (const auto& e : table) {
        names.push_back(e.name);
        const json fragment = e.schema.value("properties", json::object());
        for (const auto& [option, schema] : fragment.items()) {
            auto existing = properties.find(option);
            if (existing == properties.end()) properties[option] = schema;
            else if (*existing != schema)
                throw std::logic_error(stage + " option \"" + option + "\" of provider \"" + e.name +
                                       "\" differs from another provider's");
        }
    }
    properties["provider"] = {{"enum", names}};
    return base;
}

}  // namespace

void add_stt(SttEntry entry) {
    std::lock_guard lock(tables().mutex);
    add(tables().stt, std::move(entry), "STT");
    ++tables().generation;
}

void add_llm(LlmEntry entry) {
    std::lock_guard lock(tables().mutex);
    add(tables().llm, std::move(entry), "LLM");
    ++tables().generation;
}

void add_tts(TtsEntry entry) {
    std::lock_guard lock(tables().mutex);
    add(tables().tts, std::move(entry), "TTS");
    ++tables().generation;
}

void add_config_section(ConfigSection section) {
    std::lock_guard lock(tables().mutex);
    auto& sections = tables().sections;
    if (std::any_of(sections.begin(), sections.end(), [&](const ConfigSection& s) { return s.name == section.name; }))
        throw std::logic_error("configuration section [" + section.name + "] is registered twice");
    sections.push_back(std::move(section));
    ++tables().generation;
}

std::vector<SttEntry> stt() {
    std::lock_guard lock(tables().mutex);
    return tables().stt;
}

std::vector<LlmEntry> llm() {
    std::lock_guard lock(tables().mutex);
    return tables().llm;
}

std::vector<TtsEntry> tts() {
    std::lock_guard lock(tables().mutex);
    return tables().tts;
}

std::vector<ConfigSection> config_sections() {
    std::lock_guard lock(tables().mutex);
    return tables().sections;
}

std::string default_provider(const std::string& stage) {
    std::lock_guard lock(tables().mutex);
    if (stage == "stt") return default_of(tables().stt);
    if (stage == "llm") return default_of(tables().llm);
    if (stage == "tts") return default_of(tables().tts);
    return {};
}

json stage_schema(const std::string& stage, json base) {
    std::lock_guard lock(tables().mutex);
    if (stage == "stt") return schema_of(tables().stt, std::move(base), stage);
    if (stage == "llm") return schema_of(tables().llm, std::move(base), stage);
    if (stage == "tts") return schema_of(tables().tts, std::move(base), stage);
    throw std::logic_error("no provider stage \"" + stage + "\"");
}

std::uint64_t generation() {
    std::lock_guard lock(tables().mutex);
    return tables().generation;
}

void clear() {
    std::lock_guard lock(tables().mutex);
    tables().stt.clear();
    tables().llm.clear();
    tables().tts.clear();
    tables().sections.clear();
    ++tables().generation;
}

}  // namespace registry

}  // namespace va
