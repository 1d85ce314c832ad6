// Fuzzes JSON request bodies with the agent schema: parsing as the REST handlers do (nlohmann, no exceptions),
// validation of agent definitions (config/agent_schema), and validation against a client-supplied schema (tool
// parameter schemas) when the document is {"schema": ..., "instance": ...}. Parsed JSON re-dumps to an equal
// document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/agent_schema.hpp"
#include "core/providers/registry.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "core/util/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    va::register_builtin_providers();  // once: the providers complete the schema and the config sections
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto doc = va::parse_json(text);
    if (doc.is_discarded()) return 0;
    FUZZ_CHECK(nlohmann::json::parse(doc.dump(), nullptr, false) == doc);

    auto valid = va::validate_agent_definition(doc);
    if (!valid) (void)valid.error().message;
    if (doc.is_object() && doc.contains("schema") && doc.contains("instance"))
        (void)va::validate_json_schema(doc["schema"], doc["instance"]);
    return 0;
}
