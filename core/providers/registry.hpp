// The provider registry: one table per kind (speech-to-text, LLM, text-to-speech) of the providers built into this
// program, each with the name agents use, its factory, the agent-definition options it reads (a JSON schema
// fragment) and the configuration section it reads (which it checks itself). A provider folder registers itself
// through one function (providers/<name>/register.cpp); the build calls every enabled folder's function from one
// generated list (register_builtin_providers(), providers/builtin.cpp.in), the way baresip's module table lists
// its modules. The daemon, the configuration loader and the agent schema iterate these tables and never name a
// vendor. Generic: nothing here knows any vendor.
// Thread-safety: registration happens at start-up, before any lookup (register_builtin_providers() is idempotent
// and serialized); lookups are then safe from any thread. The tables are also guarded by a mutex, so a test that
// registers a provider of its own while nothing else runs is safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/providers/llm.hpp"
#include "core/providers/config_section.hpp"
#include "core/providers/speech.hpp"
#include "core/util/result.hpp"

namespace va {

// The STT provider a simulate request (its `caller_lines`) picks for a call, with the lines as its "script"
// option: each utterance the VAD detects yields the next line. A contract of the simulate API, not a vendor.
inline constexpr const char* kSimulatedStt = "scripted";

// A provider's factory is built from its section as loaded (its defaults when it reads none): keys and base URLs
// come from the daemon's configuration, everything else from the agent.
template <class Factory>
struct ProviderEntry {
    std::string name;     // what agents write in "provider"
    std::string section;  // the configuration section it reads; empty: none
    std::function<std::shared_ptr<Factory>(const nlohmann::json& section)> make_factory;
    // The agent-definition options it reads, as {"properties": {...}} merged into the stage's object schema.
    nlohmann::json schema = nlohmann::json::object();
    // The stage's provider when an agent names none (at most one per kind).
    bool is_default = false;
};
using SttEntry = ProviderEntry<SttFactory>;
using LlmEntry = ProviderEntry<LlmFactory>;
using TtsEntry = ProviderEntry<TtsFactory>;

namespace registry {

// Adds a provider (or config section). A name registered twice is a programming error: std::logic_error.
void add_stt(SttEntry entry);
void add_llm(LlmEntry entry);
void add_tts(TtsEntry entry);
void add_config_section(ConfigSection section);

// In registration order (which is the order of the generated list, and of the schema's "one of" lists).
std::vector<SttEntry> stt();
std::vector<LlmEntry> llm();
std::vector<TtsEntry> tts();
std::vector<ConfigSection> config_sections();

// The name of the stage's default provider ("stt", "llm", "tts"); empty when none is built in.
std::string default_provider(const std::string& stage);

// The agent schema's "$defs" of a stage with the providers filled in: "provider" is one of the registered names
// and the fragments' properties are merged into `base` (a property two fragments define differently is a
// programming error: std::logic_error).
nlohmann::json stage_schema(const std::string& stage, nlohmann::json base);

// Changes with every registration, so a cache built from the tables (the agent schema) knows it is stale.
std::uint64_t generation();

// Test-only: forget every registration.
void clear();

}  // namespace registry

// Registers every provider folder enabled in this build, once (generated: providers/builtin.cpp.in). Defined by
// the va_providers_builtin library; call it at start-up before loading the configuration.
void register_builtin_providers();

}  // namespace va
