// BSON building and reading for the MongoDB Store, and each record's document.
#include "core/store/mongo_bson.hpp"

#include <mongoc/mongoc.h>

#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "core/util/log.hpp"

namespace va::mongo {

namespace {

int key_len(std::string_view key) { return static_cast<int>(key.size()); }

}  // namespace

// --- building ----------------------------------------------------------------------------------------------------

void Bson::append(std::string_view key, const std::string& v) { append(key, std::string_view(v)); }
void Bson::append(std::string_view key, std::string_view v) {
    bson_append_utf8(m_doc, key.data(), key_len(key), v.data(), static_cast<int>(v.size()));
}
void Bson::append(std::string_view key, std::int64_t v) { bson_append_int64(m_doc, key.data(), key_len(key), v); }
void Bson::append(std::string_view key, int v) { bson_append_int32(m_doc, key.data(), key_len(key), v); }
void Bson::append(std::string_view key, bool v) { bson_append_bool(m_doc, key.data(), key_len(key), v); }
void Bson::append(std::string_view key, double v) { bson_append_double(m_doc, key.data(), key_len(key), v); }
void Bson::append(std::string_view key, const Bson& sub) {
    bson_append_document(m_doc, key.data(), key_len(key), sub.get());
}
void Bson::append(std::string_view key, const std::vector<std::string>& strings) {
    bson_t child;
    bson_append_array_begin(m_doc, key.data(), key_len(key), &child);
    for (std::size_t i = 0; i < strings.size(); ++i) {
        std::string index = std::to_string(i);  // array keys are "0", "1", ...
        bson_append_utf8(&child, index.c_str(), -1, strings[i].data(), static_cast<int>(strings[i].size()));
    }
    bson_append_array_end(m_doc, &child);
}
void Bson::append(std::string_view key, const std::vector<Bson>& docs) {
    bson_t child;
    bson_append_array_begin(m_doc, key.data(), key_len(key), &child);
    for (std::size_t i = 0; i < docs.size(); ++i) {
        std::string index = std::to_string(i);
        bson_append_document(&child, index.c_str(), -1, docs[i].get());
    }
    bson_append_array_end(m_doc, &child);
}

std::string Bson::json() const {
    std::size_t length = 0;
    char* text = bson_as_relaxed_extended_json(m_doc, &length);
    if (!text) return "{}";
    std::string out(text, length);
    bson_free(text);
    return out;
}

// --- reading -----------------------------------------------------------------------------------------------------

std::string get_string(const bson_t* doc, const char* key) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it)) return {};
    std::uint32_t length = 0;
    const char* text = bson_iter_utf8(&it, &length);
    return std::string(text, length);
}

std::int64_t get_int(const bson_t* doc, const char* key) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, key)) return 0;
    switch (bson_iter_type(&it)) {
        case BSON_TYPE_INT32:
        case BSON_TYPE_INT64:
        case BSON_TYPE_DOUBLE:
        case BSON_TYPE_BOOL:
            return bson_iter_as_int64(&it);
        default:
            return 0;
    }
}

double get_double(const bson_t* doc, const char* key) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, key)) return 0;
    switch (bson_iter_type(&it)) {
        case BSON_TYPE_INT32:
        case BSON_TYPE_INT64:
        case BSON_TYPE_DOUBLE:
        case BSON_TYPE_BOOL:
            return bson_iter_as_double(&it);
        default:
            return 0;
    }
}

bool get_bool(const bson_t* doc, const char* key) { return get_int(doc, key) != 0; }

bool has_field(const bson_t* doc, const char* key) { return bson_has_field(doc, key); }

std::optional<Bson> get_document(const bson_t* doc, const char* key) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DOCUMENT(&it)) return std::nullopt;
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    bson_iter_document(&it, &length, &data);
    bson_t* copy = bson_new_from_data(data, length);
    if (!copy) return std::nullopt;
    return Bson(copy);
}

namespace {

int get_int32(const bson_t* d, const char* key) {
    std::int64_t v = get_int(d, key);
    if (v > std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
    if (v < std::numeric_limits<int>::min()) return std::numeric_limits<int>::min();
    return static_cast<int>(v);
}

}  // namespace

// --- records -----------------------------------------------------------------------------------------------------

Bson to_doc(const Workspace& w) { return Bson().add("_id", w.id).add("name", w.name).add("created_at", w.created_at); }
Workspace workspace_from(const bson_t* d) {
    return Workspace{get_string(d, "_id"), get_string(d, "name"), get_int(d, "created_at")};
}

Bson to_doc(const User& u) {
    return Bson()
        .add("_id", u.id)
        .add("workspace_id", u.workspace_id)
        .add("email", u.email)
        .add("name", u.name)
        .add("role", u.role)
        .add("password_hash", u.password_hash)
        .add("disabled", u.disabled)
        .add("created_at", u.created_at)
        .add("updated_at", u.updated_at);
}
User user_from(const bson_t* d) {
    User u;
    u.id = get_string(d, "_id");
    u.workspace_id = get_string(d, "workspace_id");
    u.email = get_string(d, "email");
    u.name = get_string(d, "name");
    u.role = get_string(d, "role");
    u.password_hash = get_string(d, "password_hash");
    u.disabled = get_bool(d, "disabled");
    u.created_at = get_int(d, "created_at");
    u.updated_at = get_int(d, "updated_at");
    return u;
}

Bson to_doc(const ApiKey& k) {
    return Bson()
        .add("_id", k.id)
        .add("workspace_id", k.workspace_id)
        .add("user_id", k.user_id)
        .add("name", k.name)
        .add("role", k.role)
        .add("prefix", k.prefix)
        .add("key_hash", k.key_hash)
        .add("created_at", k.created_at)
        .add("last_used_at", k.last_used_at)
        .add("revoked_at", k.revoked_at);
}
ApiKey api_key_from(const bson_t* d) {
    ApiKey k;
    k.id = get_string(d, "_id");
    k.workspace_id = get_string(d, "workspace_id");
    k.user_id = get_string(d, "user_id");
    k.name = get_string(d, "name");
    k.role = get_string(d, "role");
    k.prefix = get_string(d, "prefix");
    k.key_hash = get_string(d, "key_hash");
    k.created_at = get_int(d, "created_at");
    k.last_used_at = get_int(d, "last_used_at");
    k.revoked_at = get_int(d, "revoked_at");
    return k;
}

Bson to_doc(const RefreshToken& t) {
    return Bson()
        .add("_id", t.id)
        .add("family_id", t.family_id)
        .add("user_id", t.user_id)
        .add("token_hash", t.token_hash)
        .add("created_at", t.created_at)
        .add("expires_at", t.expires_at)
        .add("revoked_at", t.revoked_at)
        .add("replaced_by", t.replaced_by);
}
RefreshToken refresh_token_from(const bson_t* d) {
    RefreshToken t;
    t.id = get_string(d, "_id");
    t.family_id = get_string(d, "family_id");
    t.user_id = get_string(d, "user_id");
    t.token_hash = get_string(d, "token_hash");
    t.created_at = get_int(d, "created_at");
    t.expires_at = get_int(d, "expires_at");
    t.revoked_at = get_int(d, "revoked_at");
    t.replaced_by = get_string(d, "replaced_by");
    return t;
}

Bson to_doc(const Agent& a) {
    return Bson()
        .add("_id", a.id)
        .add("workspace_id", a.workspace_id)
        .add("name", a.name)
        .add("definition", a.definition)
        .add("version", a.version)
        .add("created_at", a.created_at)
        .add("updated_at", a.updated_at);
}
Agent agent_from(const bson_t* d) {
    Agent a;
    a.id = get_string(d, "_id");
    a.workspace_id = get_string(d, "workspace_id");
    a.name = get_string(d, "name");
    a.definition = get_string(d, "definition");
    a.version = get_int(d, "version");
    a.created_at = get_int(d, "created_at");
    a.updated_at = get_int(d, "updated_at");
    return a;
}

Bson to_doc(const AgentVersion& v) {
    return Bson()
        .add("_id", v.agent_id + ":" + std::to_string(v.version))
        .add("agent_id", v.agent_id)
        .add("workspace_id", v.workspace_id)
        .add("version", v.version)
        .add("name", v.name)
        .add("definition", v.definition)
        .add("updated_at", v.updated_at)
        .add("updated_by", v.updated_by);
}
AgentVersion agent_version_from(const bson_t* d) {
    AgentVersion v;
    v.agent_id = get_string(d, "agent_id");
    v.workspace_id = get_string(d, "workspace_id");
    v.version = get_int(d, "version");
    v.name = get_string(d, "name");
    v.definition = get_string(d, "definition");
    v.updated_at = get_int(d, "updated_at");
    v.updated_by = get_string(d, "updated_by");
    return v;
}

Bson to_doc(const PhoneNumber& p) {
    return Bson()
        .add("_id", p.id)
        .add("workspace_id", p.workspace_id)
        .add("number", p.number)
        .add("provider", p.provider)
        .add("agent_id", p.agent_id)
        .add("label", p.label)
        .add("created_at", p.created_at)
        .add("updated_at", p.updated_at);
}
PhoneNumber phone_from(const bson_t* d) {
    PhoneNumber p;
    p.id = get_string(d, "_id");
    p.workspace_id = get_string(d, "workspace_id");
    p.number = get_string(d, "number");
    p.provider = get_string(d, "provider");
    p.agent_id = get_string(d, "agent_id");
    p.label = get_string(d, "label");
    p.created_at = get_int(d, "created_at");
    p.updated_at = get_int(d, "updated_at");
    return p;
}

Bson to_doc(const Call& c) {
    return Bson()
        .add("_id", c.id)
        .add("workspace_id", c.workspace_id)
        .add("agent_id", c.agent_id)
        .add("phone_id", c.phone_id)
        .add("campaign_id", c.campaign_id)
        .add("direction", c.direction)
        .add("channel", c.channel)
        .add("from_number", c.from_number)
        .add("to_number", c.to_number)
        .add("status", c.status)
        .add("provider_call_id", c.provider_call_id)
        .add("end_reason", c.end_reason)
        .add("summary", c.summary)
        .add("metrics", or_empty_object(c.metrics))
        .add("outcome", c.outcome)
        .add("analysis", or_empty_object(c.analysis))
        .add("instance_id", c.instance_id)
        .add("created_at", c.created_at)
        .add("started_at", c.started_at)
        .add("answered_at", c.answered_at)
        .add("ended_at", c.ended_at)
        .add("duration_s", c.duration_s);
}
Call call_from(const bson_t* d) {
    Call c;
    c.id = get_string(d, "_id");
    c.workspace_id = get_string(d, "workspace_id");
    c.agent_id = get_string(d, "agent_id");
    c.phone_id = get_string(d, "phone_id");
    c.campaign_id = get_string(d, "campaign_id");
    c.direction = get_string(d, "direction");
    c.channel = get_string(d, "channel");
    c.from_number = get_string(d, "from_number");
    c.to_number = get_string(d, "to_number");
    c.status = get_string(d, "status");
    c.provider_call_id = get_string(d, "provider_call_id");
    c.end_reason = get_string(d, "end_reason");
    c.summary = get_string(d, "summary");
    c.metrics = get_string(d, "metrics");
    c.outcome = get_string(d, "outcome");
    c.analysis = get_string(d, "analysis");
    c.instance_id = get_string(d, "instance_id");
    c.created_at = get_int(d, "created_at");
    c.started_at = get_int(d, "started_at");
    c.answered_at = get_int(d, "answered_at");
    c.ended_at = get_int(d, "ended_at");
    c.duration_s = get_double(d, "duration_s");
    return c;
}

Bson to_doc(const CallTurn& t) {
    return Bson()
        .add("call_id", t.call_id)
        .add("seq", t.seq)
        .add("role", t.role)
        .add("text", t.text)
        .add("started_ms", t.started_ms)
        .add("ended_ms", t.ended_ms)
        .add("interrupted", t.interrupted)
        .add("source", t.source);
}
CallTurn turn_from(const bson_t* d) {
    CallTurn t;
    t.call_id = get_string(d, "call_id");
    t.seq = get_int(d, "seq");
    t.role = get_string(d, "role");
    t.text = get_string(d, "text");
    t.started_ms = get_int(d, "started_ms");
    t.ended_ms = get_int(d, "ended_ms");
    t.interrupted = get_bool(d, "interrupted");
    t.source = get_string(d, "source");
    return t;
}

Bson to_doc(const Instance& i) {
    return Bson()
        .add("_id", i.id)
        .add("base_url", i.base_url)
        .add("started_at", i.started_at)
        .add("heartbeat_at", i.heartbeat_at);
}
Instance instance_from(const bson_t* d) {
    Instance i;
    i.id = get_string(d, "_id");
    i.base_url = get_string(d, "base_url");
    i.started_at = get_int(d, "started_at");
    i.heartbeat_at = get_int(d, "heartbeat_at");
    return i;
}

Bson to_doc(const Job& j) {
    Bson doc = Bson()
                   .add("_id", j.id)
                   .add("type", j.type)
                   .add("payload", or_empty_object(j.payload))
                   .add("state", j.state)
                   .add("priority", j.priority)
                   .add("attempts", j.attempts)
                   .add("max_attempts", j.max_attempts)
                   .add("run_after", j.run_after)
                   .add("lease_owner", j.lease_owner)
                   .add("lease_expires", j.lease_expires)
                   .add("last_error", j.last_error)
                   .add("created_at", j.created_at)
                   .add("updated_at", j.updated_at);
    if (!j.idempotency_key.empty()) doc.add("idempotency_key", j.idempotency_key);
    return doc;
}
Job job_from(const bson_t* d) {
    Job j;
    j.id = get_string(d, "_id");
    j.type = get_string(d, "type");
    j.payload = get_string(d, "payload");
    j.state = get_string(d, "state");
    j.priority = get_int32(d, "priority");
    j.attempts = get_int32(d, "attempts");
    j.max_attempts = get_int32(d, "max_attempts");
    j.run_after = get_int(d, "run_after");
    j.lease_owner = get_string(d, "lease_owner");
    j.lease_expires = get_int(d, "lease_expires");
    j.last_error = get_string(d, "last_error");
    j.idempotency_key = get_string(d, "idempotency_key");
    j.created_at = get_int(d, "created_at");
    j.updated_at = get_int(d, "updated_at");
    return j;
}

Bson to_doc(const WebhookEndpoint& e) {
    return Bson()
        .add("_id", e.id)
        .add("workspace_id", e.workspace_id)
        .add("url", e.url)
        .add("secret", e.secret)
        .add("events", e.events)
        .add("description", e.description)
        .add("enabled", e.enabled)
        .add("created_at", e.created_at);
}
WebhookEndpoint endpoint_from(const bson_t* d) {
    WebhookEndpoint e;
    e.id = get_string(d, "_id");
    e.workspace_id = get_string(d, "workspace_id");
    e.url = get_string(d, "url");
    e.secret = get_string(d, "secret");
    e.events = get_string(d, "events");
    e.description = get_string(d, "description");
    e.enabled = get_bool(d, "enabled");
    e.created_at = get_int(d, "created_at");
    return e;
}

Bson to_doc(const WebhookDelivery& x) {
    return Bson()
        .add("_id", x.id)
        .add("endpoint_id", x.endpoint_id)
        .add("event_type", x.event_type)
        .add("payload", x.payload)
        .add("state", x.state)
        .add("attempts", x.attempts)
        .add("next_attempt_at", x.next_attempt_at)
        .add("last_status", x.last_status)
        .add("last_error", x.last_error)
        .add("created_at", x.created_at)
        .add("delivered_at", x.delivered_at);
}
WebhookDelivery delivery_from(const bson_t* d) {
    WebhookDelivery x;
    x.id = get_string(d, "_id");
    x.endpoint_id = get_string(d, "endpoint_id");
    x.event_type = get_string(d, "event_type");
    x.payload = get_string(d, "payload");
    x.state = get_string(d, "state");
    x.attempts = get_int32(d, "attempts");
    x.next_attempt_at = get_int(d, "next_attempt_at");
    x.last_status = get_int32(d, "last_status");
    x.last_error = get_string(d, "last_error");
    x.created_at = get_int(d, "created_at");
    x.delivered_at = get_int(d, "delivered_at");
    return x;
}

Bson to_doc(const Campaign& c) {
    return Bson()
        .add("_id", c.id)
        .add("workspace_id", c.workspace_id)
        .add("agent_id", c.agent_id)
        .add("phone_id", c.phone_id)
        .add("name", c.name)
        .add("status", c.status)
        .add("config", c.config)
        .add("created_at", c.created_at)
        .add("updated_at", c.updated_at)
        .add("started_at", c.started_at)
        .add("finished_at", c.finished_at);
}
Campaign campaign_from(const bson_t* d) {
    Campaign c;
    c.id = get_string(d, "_id");
    c.workspace_id = get_string(d, "workspace_id");
    c.agent_id = get_string(d, "agent_id");
    c.phone_id = get_string(d, "phone_id");
    c.name = get_string(d, "name");
    c.status = get_string(d, "status");
    c.config = get_string(d, "config");
    c.created_at = get_int(d, "created_at");
    c.updated_at = get_int(d, "updated_at");
    c.started_at = get_int(d, "started_at");
    c.finished_at = get_int(d, "finished_at");
    return c;
}

Bson to_doc(const CampaignContact& c) {
    Bson doc = Bson()
                   .add("_id", c.id)
                   .add("campaign_id", c.campaign_id)
                   .add("workspace_id", c.workspace_id)
                   .add("phone", c.phone)
                   .add("timezone", c.timezone)
                   .add("variables", c.variables)
                   .add("state", c.state)
                   .add("attempts", c.attempts)
                   .add("last_call_id", c.last_call_id)
                   .add("last_outcome", c.last_outcome)
                   .add("next_attempt_at", c.next_attempt_at)
                   .add("created_at", c.created_at)
                   .add("updated_at", c.updated_at);
    if (c.state == "dialing") doc.add("slot", c.id);
    return doc;
}
CampaignContact contact_from(const bson_t* d) {
    CampaignContact c;
    c.id = get_string(d, "_id");
    c.campaign_id = get_string(d, "campaign_id");
    c.workspace_id = get_string(d, "workspace_id");
    c.phone = get_string(d, "phone");
    c.timezone = get_string(d, "timezone");
    c.variables = get_string(d, "variables");
    c.state = get_string(d, "state");
    c.attempts = get_int32(d, "attempts");
    c.last_call_id = get_string(d, "last_call_id");
    c.last_outcome = get_string(d, "last_outcome");
    c.next_attempt_at = get_int(d, "next_attempt_at");
    c.created_at = get_int(d, "created_at");
    c.updated_at = get_int(d, "updated_at");
    return c;
}

Bson to_doc(const DncEntry& e) {
    return Bson()
        .add("_id", e.id)
        .add("workspace_id", e.workspace_id)
        .add("phone", e.phone)
        .add("reason", e.reason)
        .add("created_at", e.created_at);
}
DncEntry dnc_from(const bson_t* d) {
    return DncEntry{get_string(d, "_id"), get_string(d, "workspace_id"), get_string(d, "phone"),
                    get_string(d, "reason"), get_int(d, "created_at")};
}

AnalyticsDay analytics_from(const bson_t* d) {
    return AnalyticsDay{get_string(d, "workspace_id"), get_string(d, "agent_id"), get_string(d, "day"),
                        get_string(d, "stats")};
}

// --- helpers -----------------------------------------------------------------------------------------------------

std::optional<std::string> merge_json(const std::string& base, const std::string& patch) {
    // ordered_json keeps keys in insertion order; the default json would sort them and reorder a contact's
    // variables on every import.
    using ordered = nlohmann::ordered_json;
    ordered target = ordered::parse(base.empty() ? std::string("{}") : base, nullptr, false);
    ordered update = ordered::parse(patch.empty() ? std::string("{}") : patch, nullptr, false);
    if (target.is_discarded() || update.is_discarded()) return std::nullopt;
    target.merge_patch(update);
    return target.dump();
}

void init_driver() {
    // Never paired with mongoc_cleanup: stores may be opened and closed many times, and the driver's global state
    // is meant to live as long as the process.
    static std::once_flag once;
    std::call_once(once, [] {
        mongoc_init();
        // The driver's own messages (connection trouble, ignored URI options) go to our log, redacted, instead of
        // straight to stderr; its debug and trace chatter is dropped.
        mongoc_log_set_handler(
            [](mongoc_log_level_t level, const char* domain, const char* message, void*) {
                std::string text = redact(std::string("mongoc ") + (domain ? domain : "") + ": " + (message ? message : ""));
                switch (level) {
                    case MONGOC_LOG_LEVEL_ERROR:
                    case MONGOC_LOG_LEVEL_CRITICAL:
                        spdlog::error("{}", text);
                        break;
                    case MONGOC_LOG_LEVEL_WARNING:
                        spdlog::warn("{}", text);
                        break;
                    case MONGOC_LOG_LEVEL_MESSAGE:
                    case MONGOC_LOG_LEVEL_INFO:
                        spdlog::info("{}", text);
                        break;
                    default:
                        break;
                }
            },
            nullptr);
    });
}

std::string scrub(const std::string& message, const std::string& uri) {
    std::string out = redact(message);
    auto scheme = uri.find("://");
    if (scheme == std::string::npos) return out;
    auto authority_end = uri.find_first_of("/?", scheme + 3);
    std::string authority = uri.substr(scheme + 3, authority_end == std::string::npos ? std::string::npos
                                                                                       : authority_end - scheme - 3);
    auto at = authority.rfind('@');
    if (at == std::string::npos) return out;
    auto colon = authority.find(':');
    if (colon == std::string::npos || colon > at) return out;
    std::string password = authority.substr(colon + 1, at - colon - 1);
    if (password.empty()) return out;
    for (auto pos = out.find(password); pos != std::string::npos; pos = out.find(password, pos + 10))
        out.replace(pos, password.size(), "[redacted]");
    return out;
}

Result<std::string> database_in_uri(const std::string& uri) {
    init_driver();
    bson_error_t error;
    mongoc_uri_t* parsed = mongoc_uri_new_with_error(uri.c_str(), &error);
    if (!parsed)
        return make_error(ErrorCode::invalid_request, "invalid MongoDB URI: " + scrub(error.message, uri));
    const char* db = mongoc_uri_get_database(parsed);
    std::string name = db ? db : "";
    mongoc_uri_destroy(parsed);
    return name;
}

}  // namespace va::mongo
