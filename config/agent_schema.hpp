// Validation of agent definitions against the JSON schema shipped in config/agent.schema.json (embedded in the
// binary at build time, so the daemon does not depend on its working directory), completed by the schema
// fragments of the providers built in. The validator implements the
// subset of JSON Schema (draft 2020-12) that the schema uses: type, required, properties, additionalProperties,
// enum, const, minimum/maximum, minLength/maxLength, pattern, items, minItems/maxItems, oneOf by "type" tag.
// Every problem is reported with its JSON pointer, not just the first. Patterns run on RE2 (linear time); a
// user pattern RE2 refuses makes the definition unprocessable (422).
// Thread-safety: the parsed schema is immutable; validate is safe from any thread.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/util/result.hpp"

namespace va {

// The schema as this daemon enforces it: config/agent.schema.json with each stage's providers (their names and
// options) filled in from the provider registry (core/providers/registry.hpp).
std::string agent_schema_text();

// Ok, or invalid_request with one FieldError per problem (field = JSON pointer such as "/voice/rate").
Status validate_agent_definition(const nlohmann::json& definition);

// The cache of compiled schema "pattern"s (bounded: least recently used out), for tests of its bound.
struct PatternCacheStats {
    std::size_t entries = 0;
    std::size_t program_size = 0;  // RE2 instructions, summed
};
PatternCacheStats schema_pattern_cache_stats();

// Validates `instance` against an arbitrary schema of the same subset (used for tool parameter schemas and tests).
Status validate_json_schema(const nlohmann::json& schema, const nlohmann::json& instance);

}  // namespace va
