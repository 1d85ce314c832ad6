// Private to the MongoDB Store (core/store/mongo_store*.cpp and its tests): an owning BSON document type with a small
// builder, typed field readers that tolerate the numeric types other writers may have used, and the conversion of
// every Store record to and from its document. Pure code, no server: unit tests exercise it without MongoDB.
// Thread-safety: a Bson object is a value; distinct objects may be used on distinct threads, one object on one.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/store.hpp"

namespace va::mongo {

// An owned bson_t on the heap, so that moving one is moving a pointer (a bson_t keeps small documents inline and
// must not be copied bytewise).
class Bson {
public:
    Bson() : m_doc(bson_new()) {}
    // Takes ownership of a document libbson allocated (bson_new, bson_copy, bson_new_from_data).
    explicit Bson(bson_t* adopted) : m_doc(adopted) {}
    ~Bson() {
        if (m_doc) bson_destroy(m_doc);
    }
    Bson(Bson&& other) noexcept : m_doc(other.m_doc) { other.m_doc = nullptr; }
    Bson& operator=(Bson&& other) noexcept {
        if (this != &other) {
            if (m_doc) bson_destroy(m_doc);
            m_doc = other.m_doc;
            other.m_doc = nullptr;
        }
        return *this;
    }
    Bson(const Bson&) = delete;
    Bson& operator=(const Bson&) = delete;

    static Bson copy_of(const bson_t* doc) { return Bson(bson_copy(doc)); }

    const bson_t* get() const { return m_doc; }
    bson_t* get() { return m_doc; }
    bool empty() const { return bson_count_keys(m_doc) == 0; }

    // Appends key: value. Chains on lvalues and on temporaries alike: `Bson f = Bson().add("a", 1).add("b", x);`
    template <class V>
    Bson& add(std::string_view key, const V& value) & {
        append(key, value);
        return *this;
    }
    template <class V>
    Bson&& add(std::string_view key, const V& value) && {
        append(key, value);
        return std::move(*this);
    }

    // Relaxed extended JSON, for messages and tests.
    std::string json() const;

private:
    void append(std::string_view key, const std::string& v);
    void append(std::string_view key, std::string_view v);
    void append(std::string_view key, const char* v) { append(key, std::string_view(v)); }
    void append(std::string_view key, std::int64_t v);
    void append(std::string_view key, int v);
    void append(std::string_view key, bool v);
    void append(std::string_view key, double v);
    void append(std::string_view key, const Bson& sub);                // a sub-document
    void append(std::string_view key, const std::vector<std::string>& strings);  // an array of strings
    void append(std::string_view key, const std::vector<Bson>& docs);            // an array of documents

    bson_t* m_doc;
};

// --- reading fields ----------------------------------------------------------------------------------------------
// A missing field (or one of an unexpected type) reads as the record's default: the SQLite store reads NULL as ''
// or 0 the same way, and documents written before a field existed must still load.

std::string get_string(const bson_t* doc, const char* key);
std::int64_t get_int(const bson_t* doc, const char* key);  // int32, int64, double and bool alike
double get_double(const bson_t* doc, const char* key);
bool get_bool(const bson_t* doc, const char* key);
bool has_field(const bson_t* doc, const char* key);
// The sub-document at `key` (for instance "value" of a findAndModify reply); nullopt when absent or null.
std::optional<Bson> get_document(const bson_t* doc, const char* key);

// --- records -----------------------------------------------------------------------------------------------------
// One document per record, the record's id as _id. Field names follow the Store structs (not the SQLite columns).

Bson to_doc(const Workspace& w);
Workspace workspace_from(const bson_t* d);
Bson to_doc(const User& u);  // the email as given: callers lower-case it
User user_from(const bson_t* d);
Bson to_doc(const ApiKey& k);
ApiKey api_key_from(const bson_t* d);
Bson to_doc(const RefreshToken& t);
RefreshToken refresh_token_from(const bson_t* d);
Bson to_doc(const Agent& a);
Agent agent_from(const bson_t* d);
Bson to_doc(const AgentVersion& v);  // _id: "<agent_id>:<version>"
AgentVersion agent_version_from(const bson_t* d);
Bson to_doc(const PhoneNumber& p);
PhoneNumber phone_from(const bson_t* d);
Bson to_doc(const Call& c);  // metrics and analysis default to "{}" when empty, as in SQLite
Call call_from(const bson_t* d);
Bson to_doc(const CallTurn& t);
CallTurn turn_from(const bson_t* d);
Bson to_doc(const Instance& i);
Instance instance_from(const bson_t* d);
Bson to_doc(const Job& j);  // no idempotency_key field when it is empty (the unique index skips such jobs)
Job job_from(const bson_t* d);
Bson to_doc(const WebhookEndpoint& e);
WebhookEndpoint endpoint_from(const bson_t* d);
Bson to_doc(const WebhookDelivery& d);
WebhookDelivery delivery_from(const bson_t* d);
Bson to_doc(const Campaign& c);
Campaign campaign_from(const bson_t* d);
// A contact inserted already dialing gets its own id as its slot, which keeps it clear of the numbered slots of
// claims (see claim_campaign_contacts in mongo_store_work.cpp).
Bson to_doc(const CampaignContact& c);
CampaignContact contact_from(const bson_t* d);
Bson to_doc(const DncEntry& e);
DncEntry dnc_from(const bson_t* d);
AnalyticsDay analytics_from(const bson_t* d);

// --- helpers shared with the store -------------------------------------------------------------------------------

// JSON text columns SQLite defaults to '{}' get the same default here.
inline const std::string& or_empty_object(const std::string& json) {
    static const std::string empty = "{}";
    return json.empty() ? empty : json;
}

// RFC 7396 merge of JSON object text `patch` over `base`, keeping the order of `base`'s keys and appending new ones
// (what SQLite's json_patch gives). nullopt when either text is not JSON.
std::optional<std::string> merge_json(const std::string& base, const std::string& patch);

// mongoc_init, once per process, before the first use of the driver.
void init_driver();

// `message` with the password of `uri` (and anything redact() recognises) taken out: driver messages about a URI
// may quote parts of it.
std::string scrub(const std::string& message, const std::string& uri);

// The database a MongoDB URI names in its path ("mongodb://host/voice" -> "voice"), or empty when it names none.
// An invalid URI is invalid_request, with the driver's reason but never the URI (it may carry a password).
Result<std::string> database_in_uri(const std::string& uri);

}  // namespace va::mongo
