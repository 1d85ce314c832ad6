// The offline providers' registrations: the embedded defaults (pocketsphinx recognition when built with it,
// the scripted LLM, espeak-ng speech) and, as a registration of its own, the scripted recognizer that simulate
// requests pick (kSimulatedStt). Two functions, because the generated list calls them at different places: the
// order of registration is the order of the agent schema's "one of" lists.
#include "core/providers/registry.hpp"
#include "providers/local/espeak_tts.hpp"
#include "providers/local/scripted_llm.hpp"
#include "providers/local/scripted_stt.hpp"
#if VA_WITH_POCKETSPHINX
#include "providers/local/pocketsphinx_stt.hpp"
#endif

namespace va {

using nlohmann::json;

namespace {

json lines_schema() {
    return {{"type", "array"},
            {"maxItems", 1000},
            {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", 500}}}};
}

}  // namespace

void register_local_providers() {
#if VA_WITH_POCKETSPHINX
    registry::add_stt({"pocketsphinx", "", [](const json&) { return local::pocketsphinx_stt_factory(); },
                       {{"properties",
                         {{"phrases", lines_schema()}, {"grammar", {{"type", "string"}, {"maxLength", 100000}}}}}},
                       true});
#endif
    registry::add_llm({"scripted", "", [](const json&) { return local::scripted_llm_factory(); }, json::object(), true});
    registry::add_tts({"espeak-ng", "", [](const json&) { return local::espeak_tts_factory(); },
                       {{"properties",
                         {{"voice", {{"type", "string"}, {"maxLength", 200}}},
                          {"rate", {{"type", "integer"}, {"minimum", 80}, {"maximum", 450}}}}}},
                       true});
}

void register_simulated_stt() {
    json script = lines_schema();
    script["description"] =
        "With provider scripted: what the caller says, one line per utterance the VAD detects (simulated "
        "recognition, for tests and demos). A call's own caller_lines take precedence.";
    registry::add_stt({kSimulatedStt, "", [](const json&) { return local::scripted_stt_factory(); },
                       {{"properties", {{"script", script}}}}, false});
}

}  // namespace va
