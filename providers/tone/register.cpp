// The tone provider's one registration: the name agents use, its factory, no options of its own and no
// configuration section. This folder is the whole provider: providers/CMakeLists.txt finds it by its
// CMakeLists.txt and the generated list calls this function (docs/providers.md, "Adding a provider").
#include "core/providers/registry.hpp"
#include "providers/tone/tone_tts.hpp"

namespace va {

void register_tone_provider() {
    registry::add_tts({"tone", "", [](const nlohmann::json&) { return tone::tone_tts_factory(); }, nlohmann::json::object(),
                       false});
}

}  // namespace va
