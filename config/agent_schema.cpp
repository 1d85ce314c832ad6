#include "config/agent_schema.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "core/providers/registry.hpp"
#include "core/util/json.hpp"
#include "core/util/pattern.hpp"

namespace va {

const char* agent_schema_raw();  // generated from config/agent.schema.json (config/embed.cmake)

namespace {

using nlohmann::json;

// The compiled schema "pattern"s (the shipped schema's, and those of tool parameter and analysis schemas, which
// users write), least recently used first out: bounded in entries and in total program size, so a stream of
// distinct patterns cannot grow the daemon (it once kept every pattern it had seen, +233 MB after 150 rejected
// agents). An invalid pattern is cached too (as nullopt), and costs one entry.
class PatternCache {
public:
    static constexpr std::size_t kMaxEntries = 128;
    static constexpr std::size_t kMaxProgramSize = 100000;  // RE2 instructions, summed over the entries

    // The compiled pattern, or nullptr when RE2 cannot compile it. The pointer stays valid while `hold` lives.
    const Pattern* get(const std::string& source, std::shared_ptr<const std::optional<Pattern>>& hold) {
        std::lock_guard lock(m_mutex);
        if (auto it = m_index.find(source); it != m_index.end()) {
            m_order.splice(m_order.begin(), m_order, it->second);  // most recently used first
            hold = it->second->compiled;
        } else {
            auto compiled = Pattern::compile(source);
            Entry e{source, std::make_shared<const std::optional<Pattern>>(
                                compiled ? std::optional<Pattern>(std::move(*compiled)) : std::nullopt),
                    0};
            e.size = *e.compiled ? (*e.compiled)->program_size() : 1;
            hold = e.compiled;
            m_total += e.size;
            m_order.push_front(std::move(e));
            m_index[source] = m_order.begin();
            while (m_order.size() > 1 && (m_order.size() > kMaxEntries || m_total > kMaxProgramSize)) {
                m_total -= m_order.back().size;
                m_index.erase(m_order.back().source);
                m_order.pop_back();
            }
        }
        return *hold ? &**hold : nullptr;
    }

    PatternCacheStats stats() const {
        std::lock_guard lock(m_mutex);
        return {m_order.size(), m_total};
    }

private:
    struct Entry {
        std::string source;
        std::shared_ptr<const std::optional<Pattern>> compiled;  // shared: a caller may hold one being evicted
        std::size_t size;
    };
    mutable std::mutex m_mutex;
    std::list<Entry> m_order;
    std::unordered_map<std::string, std::list<Entry>::iterator> m_index;
    std::size_t m_total = 0;
};

PatternCache& pattern_cache() {
    static PatternCache cache;
    return cache;
}

std::size_t utf8_length(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

std::string escape_pointer_token(const std::string& token) {
    std::string out;
    for (char c : token) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

const char* json_type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "integer";
        case json::value_t::number_float: return "number";
        case json::value_t::string: return "string";
        case json::value_t::array: return "array";
        case json::value_t::object: return "object";
        default: return "value";
    }
}

bool has_type(const json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    if (type == "number") return v.is_number();
    if (type == "integer") {
        if (v.is_number_integer()) return true;
        if (v.is_number_float()) {
            double d = v.get<double>();
            return d == static_cast<double>(static_cast<long long>(d));
        }
    }
    return false;
}

std::string number_text(const json& v) {
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    std::string s = v.dump();
    return s;
}

class Validator {
public:
    Validator(const json& root, std::vector<FieldError>& out) : m_root(root), m_out(out) {}

    void validate(const json& schema, const json& value, const std::string& pointer) {
        if (!schema.is_object()) return;
        if (auto ref = schema.find("$ref"); ref != schema.end()) {
            const json* target = resolve(ref->get<std::string>());
            if (target) validate(*target, value, pointer);
            else add(pointer, "schema error: unresolved $ref " + ref->get<std::string>());
            return;
        }
        if (auto one_of = schema.find("oneOf"); one_of != schema.end()) {
            validate_one_of(*one_of, value, pointer);
            return;
        }
        if (auto type = schema.find("type"); type != schema.end()) {
            bool ok = false;
            std::string wanted;
            if (type->is_string()) {
                ok = has_type(value, *type);
                wanted = type->get<std::string>();
            } else {
                for (const auto& t : *type) {
                    ok |= has_type(value, t);
                    wanted += (wanted.empty() ? "" : " or ") + t.get<std::string>();
                }
            }
            if (!ok) {
                add(pointer, "must be " + article(wanted) + " (got " + json_type_name(value) + ")");
                return;
            }
        }
        if (auto c = schema.find("const"); c != schema.end() && value != *c)
            add(pointer, "must be " + c->dump());
        if (auto e = schema.find("enum"); e != schema.end()) {
            bool found = std::find(e->begin(), e->end(), value) != e->end();
            if (!found) {
                std::string options;
                for (const auto& o : *e) options += (options.empty() ? "" : ", ") + o.dump();
                add(pointer, "must be one of " + options);
            }
        }
        if (value.is_number()) {
            if (auto m = schema.find("minimum"); m != schema.end() && value.get<double>() < m->get<double>())
                add(pointer, "must be at least " + number_text(*m));
            if (auto m = schema.find("maximum"); m != schema.end() && value.get<double>() > m->get<double>())
                add(pointer, "must be at most " + number_text(*m));
        }
        if (value.is_string()) validate_string(schema, value.get_ref<const std::string&>(), pointer);
        if (value.is_array()) validate_array(schema, value, pointer);
        if (value.is_object()) validate_object(schema, value, pointer);
    }

private:
    static std::string article(const std::string& type) {
        if (type.find(" or ") != std::string::npos) return type;
        return (type == "object" || type == "array" || type == "integer" ? "an " : "a ") + type;
    }

    void add(const std::string& pointer, std::string reason) { m_out.push_back({pointer, std::move(reason)}); }

    const json* resolve(const std::string& ref) const {
        if (ref.rfind("#/", 0) != 0) return nullptr;
        const json* node = &m_root;
        std::size_t start = 2;
        while (start <= ref.size()) {
            auto end = ref.find('/', start);
            std::string token = ref.substr(start, end == std::string::npos ? std::string::npos : end - start);
            if (!node->is_object() || !node->contains(token)) return nullptr;
            node = &(*node)[token];
            if (end == std::string::npos) break;
            start = end + 1;
        }
        return node;
    }

    // For tagged unions: pick the branch whose "type" const matches, so errors speak of that branch alone.
    void validate_one_of(const json& branches, const json& value, const std::string& pointer) {
        if (value.is_object() && value.contains("type")) {
            std::string tags;
            for (const auto& branch : branches) {
                auto tag = branch.find("properties");
                if (tag == branch.end() || !tag->contains("type") || !(*tag)["type"].contains("const")) continue;
                const json& expected = (*tag)["type"]["const"];
                if (value["type"] == expected) {
                    validate(branch, value, pointer);
                    return;
                }
                tags += (tags.empty() ? "" : ", ") + expected.dump();
            }
            add(pointer + "/type", "must be one of " + tags);
            return;
        }
        // Without a tag: valid when exactly one branch accepts it.
        int matches = 0;
        for (const auto& branch : branches) {
            std::vector<FieldError> scratch;
            Validator(m_root, scratch).validate(branch, value, pointer);
            matches += scratch.empty();
        }
        if (matches != 1) add(pointer, value.is_object() ? "needs a \"type\"" : "does not match any allowed form");
    }

    void validate_string(const json& schema, const std::string& s, const std::string& pointer) {
        auto length = utf8_length(s);
        if (auto m = schema.find("minLength"); m != schema.end() && length < m->get<std::size_t>())
            add(pointer, m->get<std::size_t>() == 1 ? "must not be empty"
                                                    : "must be at least " + number_text(*m) + " characters");
        if (auto m = schema.find("maxLength"); m != schema.end() && length > m->get<std::size_t>())
            add(pointer, "must be at most " + number_text(*m) + " characters");
        if (auto p = schema.find("pattern"); p != schema.end()) {
            std::shared_ptr<const std::optional<Pattern>> hold;
            const Pattern* re = p->is_string() ? pattern_cache().get(p->get<std::string>(), hold) : nullptr;
            if (re && !re->search(s)) add(pointer, "must match " + p->get<std::string>());
        }
        if (auto f = schema.find("format"); f != schema.end() && *f == "uri") {
            if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0)
                add(pointer, "must be an http:// or https:// URL");
        }
    }

    void validate_array(const json& schema, const json& value, const std::string& pointer) {
        if (auto m = schema.find("minItems"); m != schema.end() && value.size() < m->get<std::size_t>())
            add(pointer, "must have at least " + number_text(*m) + " items");
        if (auto m = schema.find("maxItems"); m != schema.end() && value.size() > m->get<std::size_t>())
            add(pointer, "must have at most " + number_text(*m) + " items");
        if (auto items = schema.find("items"); items != schema.end())
            for (std::size_t i = 0; i < value.size(); ++i) validate(*items, value[i], pointer + "/" + std::to_string(i));
    }

    void validate_object(const json& schema, const json& value, const std::string& pointer) {
        if (auto required = schema.find("required"); required != schema.end())
            for (const auto& name : *required)
                if (!value.contains(name.get<std::string>()))
                    add(pointer + "/" + escape_pointer_token(name.get<std::string>()), "is required");
        const json* properties = nullptr;
        if (auto p = schema.find("properties"); p != schema.end()) properties = &*p;
        auto additional = schema.find("additionalProperties");
        for (const auto& [key, child] : value.items()) {
            std::string child_pointer = pointer + "/" + escape_pointer_token(key);
            if (properties && properties->contains(key)) {
                validate((*properties)[key], child, child_pointer);
            } else if (additional != schema.end()) {
                if (additional->is_boolean() && !additional->get<bool>()) add(child_pointer, "unknown field");
                else if (additional->is_object()) validate(*additional, child, child_pointer);
            }
        }
    }

    const json& m_root;
    std::vector<FieldError>& m_out;
};

// The shipped schema with each stage's providers filled in from the registry (their names and options), rebuilt
// when a provider registers after it was first built (tests that register their own).
std::shared_ptr<const json> agent_schema() {
    static std::mutex mutex;
    static std::uint64_t built_at = 0;
    static std::shared_ptr<const json> schema;
    std::lock_guard lock(mutex);
    std::uint64_t generation = registry::generation();
    if (!schema || built_at != generation) {
        json assembled = json::parse(agent_schema_raw());  // shipped with the binary: must parse
        for (const char* stage : {"stt", "llm", "tts"})
            assembled["$defs"][stage] = registry::stage_schema(stage, assembled["$defs"][stage]);
        schema = std::make_shared<const json>(std::move(assembled));
        built_at = generation;
    }
    return schema;
}

// A user pattern must compile with RE2 within its bounds. Compiled and dropped, never cached: the scripted LLM
// compiles its own when a call starts, and a definition that fails leaves nothing behind.
void check_pattern(const json& pattern, const std::string& pointer, bool case_insensitive, std::vector<FieldError>& out) {
    if (!pattern.is_string()) return;  // the schema reports the type
    auto compiled = Pattern::compile(pattern.get<std::string>(), {case_insensitive});
    if (!compiled) out.push_back({pointer, "invalid regular expression (" + compiled.error().message + ")"});
}

Status result_of(std::vector<FieldError> problems, const char* what) {
    if (problems.empty()) return Ok{};
    std::string message = std::string(what) + " is invalid: " + (problems[0].field.empty() ? "" : problems[0].field + " ") +
                          problems[0].reason;
    if (problems.size() > 1) message += " (and " + std::to_string(problems.size() - 1) + " more)";
    return Error{ErrorCode::invalid_request, std::move(message), {}, std::move(problems), 0};
}

}  // namespace

std::string agent_schema_text() { return agent_schema()->dump(2); }

namespace {

// A schema written by a client (a tool's "parameters") is checked before it is used: every keyword the validator
// reads must have the type it reads it as (get<> throws otherwise), $ref is not supported there (a "#" reference
// recursed without end), and nesting is bounded. Found by the agent_json fuzz harness. Empty when fine.
std::string client_schema_problem(const json& schema, const std::string& pointer, int depth) {
    if (depth > 32) return pointer + ": schema nested too deeply";
    if (!schema.is_object()) return {};
    auto is_string = [](const json& v) { return v.is_string(); };
    for (const auto& [key, v] : schema.items()) {
        std::string at = pointer + "/" + escape_pointer_token(key);
        bool ok = true;
        if (key == "$ref") return at + ": $ref is not supported in tool schemas";
        if (key == "type") ok = v.is_string() || (v.is_array() && std::all_of(v.begin(), v.end(), is_string));
        // (a lone string too: schemas built in C++ as {"required", {"n"}} come out that way, and iterate alike)
        else if (key == "required") ok = v.is_string() || (v.is_array() && std::all_of(v.begin(), v.end(), is_string));
        else if (key == "enum") ok = v.is_array();
        else if (key == "minimum" || key == "maximum") ok = v.is_number();
        else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems")
            ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
        else if (key == "pattern") ok = v.is_string();
        else if (key == "oneOf") ok = v.is_array();
        else if (key == "properties") ok = v.is_object();
        else if (key == "additionalProperties") ok = v.is_boolean() || v.is_object();
        else if (key == "items") ok = v.is_object();
        if (!ok) return at + ": not a valid value for this keyword";
        std::string nested;
        if (key == "items" || key == "additionalProperties") nested = client_schema_problem(v, at, depth + 1);
        if (key == "properties" || key == "oneOf")
            for (const auto& [child_key, child] : v.items()) {
                nested = client_schema_problem(child, at + "/" + escape_pointer_token(child_key), depth + 1);
                if (!nested.empty()) break;
            }
        if (!nested.empty()) return nested;
    }
    return {};
}

}  // namespace

// A client schema inside an agent definition: its keywords, then every "pattern" in it compiled (case-sensitive,
// as the validator applies them) without entering the shared cache.
void check_client_schema(const json& schema, const std::string& pointer, std::vector<FieldError>& out) {
    if (auto problem = client_schema_problem(schema, pointer, 0); !problem.empty()) {
        auto colon = problem.rfind(": ");
        out.push_back({problem.substr(0, colon), "schema error: " + problem.substr(colon + 2)});
        return;
    }
    auto walk = [&](auto& self, const json& node, const std::string& at) -> void {
        if (!node.is_object()) return;
        for (const auto& [key, v] : node.items()) {
            std::string child = at + "/" + escape_pointer_token(key);
            if (key == "pattern") check_pattern(v, child, false, out);
            else if (key == "items" || key == "additionalProperties") self(self, v, child);
            else if ((key == "properties" || key == "oneOf") && (v.is_object() || v.is_array()))
                for (const auto& [child_key, sub] : v.items()) self(self, sub, child + "/" + escape_pointer_token(child_key));
        }
    };
    walk(walk, schema, pointer);
}

Status validate_json_schema(const json& schema, const json& instance) {
    if (auto problem = client_schema_problem(schema, "", 0); !problem.empty())
        return invalid_field("schema", "schema error: " + (problem[0] == ':' ? "/" + problem : problem));
    std::vector<FieldError> problems;
    Validator(schema, problems).validate(schema, instance, "");
    return result_of(std::move(problems), "value");
}

PatternCacheStats schema_pattern_cache_stats() { return pattern_cache().stats(); }

Status validate_agent_definition(const json& definition) {
    std::vector<FieldError> problems, pattern_problems;
    const auto schema = agent_schema();
    Validator(*schema, problems).validate(*schema, definition, "");
    // Rules the schema subset cannot say: an intent needs a way to match, and its pattern must compile.
    if (definition.is_object() && definition.contains("script") && definition["script"].is_object()) {
        const auto& script = definition["script"];
        if (script.contains("intents") && script["intents"].is_array()) {
            const auto& intents = script["intents"];
            for (std::size_t i = 0; i < intents.size(); ++i) {
                const auto& intent = intents[i];
                if (!intent.is_object()) continue;
                std::string base = "/script/intents/" + std::to_string(i);
                bool has_keywords = intent.contains("keywords") && intent["keywords"].is_array() &&
                                    !intent["keywords"].empty();
                bool has_pattern = intent.contains("pattern") && intent["pattern"].is_string();
                if (!has_keywords && !has_pattern) problems.push_back({base, "needs keywords or a pattern"});
                if (has_pattern) check_pattern(intent["pattern"], base + "/pattern", true, pattern_problems);
            }
        }
        // Extraction fields: the first match of a pattern (case-insensitive, as the scripted LLM reads them).
        const json* analysis = json_object(script, "analysis");
        if (const json* fields = analysis ? json_object(*analysis, "fields") : nullptr)
            for (const auto& [name, rule] : fields->items())
                if (const json* pattern = json_field(rule, "pattern"))
                    check_pattern(*pattern, "/script/analysis/fields/" + escape_pointer_token(name) + "/pattern", true,
                                  pattern_problems);
    }
    // The schemas a definition carries for the LLM's answers (an HTTP tool's parameters, the analysis fields) are
    // used only during and after calls: checked here, a mistake is the author's 422 instead of every call's failure.
    if (const json* tools = json_field(definition, "tools"); tools && tools->is_array())
        for (std::size_t i = 0; i < tools->size(); ++i)
            if (const json* parameters = json_field((*tools)[i], "parameters"))
                check_client_schema(*parameters, "/tools/" + std::to_string(i) + "/parameters", pattern_problems);
    if (const json* analysis = json_object(definition, "analysis"))
        if (const json* fields = json_field(*analysis, "fields"))
            check_client_schema(*fields, "/analysis/fields", pattern_problems);
    // A well-formed definition whose only fault is a pattern RE2 refuses is unprocessable (422), not malformed.
    if (problems.empty() && !pattern_problems.empty()) {
        auto status = result_of(std::move(pattern_problems), "agent definition");
        Error e = status.take_error();
        e.code = ErrorCode::unprocessable;
        return e;
    }
    problems.insert(problems.end(), pattern_problems.begin(), pattern_problems.end());
    return result_of(std::move(problems), "agent definition");
}

}  // namespace va
