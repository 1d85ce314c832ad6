// Private to the MongoDB Store: the MongoStore class shared by its .cpp files (mongo_store.cpp: opening, schema,
// accounts, agents, numbers, webhooks; mongo_store_calls.cpp: calls, turns, instances, analytics;
// mongo_store_work.cpp: jobs, campaigns, contacts, do-not-call list), and the plumbing they all use: a client
// borrowed from the pool per call, and CRUD helpers that map driver errors onto Error.
// Thread-safety: MongoStore is safe from any number of threads (Store's contract). Each call pops its own
// mongoc_client_t (which is single-threaded) from the pool and pushes it back before returning; nothing else is
// shared but the pool, which is thread-safe.
#pragma once

#include <mongoc/mongoc.h>

#include <algorithm>
#include <functional>
#include <type_traits>
#include <optional>
#include <string>

#include "core/store/mongo_bson.hpp"
#include "core/store/mongo_store.hpp"
#include "core/store/store.hpp"

namespace va::mongo {

// One collection per record type.
inline constexpr const char* kWorkspaces = "workspaces";
inline constexpr const char* kUsers = "users";
inline constexpr const char* kApiKeys = "api_keys";
inline constexpr const char* kRefreshTokens = "refresh_tokens";
inline constexpr const char* kAgents = "agents";
inline constexpr const char* kAgentVersions = "agent_versions";
inline constexpr const char* kPhones = "phone_numbers";
inline constexpr const char* kCalls = "calls";
inline constexpr const char* kTurns = "call_turns";
inline constexpr const char* kInstances = "instances";
inline constexpr const char* kIdempotency = "idempotency_keys";
inline constexpr const char* kJobs = "jobs";
inline constexpr const char* kEndpoints = "webhook_endpoints";
inline constexpr const char* kDeliveries = "webhook_deliveries";
inline constexpr const char* kCampaigns = "campaigns";
inline constexpr const char* kContacts = "campaign_contacts";
inline constexpr const char* kDnc = "dnc_numbers";
inline constexpr const char* kAnalyticsDaily = "analytics_daily";
inline constexpr const char* kAnalyticsCounted = "analytics_counted";
inline constexpr const char* kMeta = "meta";  // {_id: "schema", version}

// Optimistic loops (compare-and-set on a field) give up after this many lost races: with the handful of writers a
// record has, reaching it means something is wrong, and the caller may retry later.
inline constexpr int kMaxRaces = 64;

// Filters and updates every part builds.
inline Bson id_is(const std::string& id) { return Bson().add("_id", id); }
// Workspace isolation: a workspace-owned record is addressed by its workspace and id together, so a wrong workspace
// finds nothing, exactly like a missing record.
inline Bson in_workspace(const std::string& ws, const std::string& id) {
    return Bson().add("_id", id).add("workspace_id", ws);
}
inline Bson set_of(Bson fields) { return Bson().add("$set", fields); }

// Driver error -> Error. A duplicate key (E11000) is a conflict with message `conflict` ("already exists" when
// empty); lost connections and elections are unavailable (transient); the rest internal, prefixed by `what`.
Error to_error(const bson_error_t& error, const std::string& what, const std::string& conflict = {});

// A client popped from the pool for the duration of one Store call (pop blocks while all pool_max are out).
class PooledClient {
public:
    explicit PooledClient(mongoc_client_pool_t* pool) : m_pool(pool), m_client(mongoc_client_pool_pop(pool)) {}
    ~PooledClient() { mongoc_client_pool_push(m_pool, m_client); }
    PooledClient(const PooledClient&) = delete;
    PooledClient& operator=(const PooledClient&) = delete;
    mongoc_client_t* get() const { return m_client; }

private:
    mongoc_client_pool_t* m_pool;
    mongoc_client_t* m_client;
};

// A collection handle on a borrowed client; the handle is destroyed before the client goes back to the pool
// (members are destroyed in reverse order).
class Collection {
public:
    Collection(mongoc_client_pool_t* pool, const std::string& db, const char* name)
        : m_client(pool), m_collection(mongoc_client_get_collection(m_client.get(), db.c_str(), name)) {}
    ~Collection() { mongoc_collection_destroy(m_collection); }
    Collection(const Collection&) = delete;
    Collection& operator=(const Collection&) = delete;
    mongoc_collection_t* get() const { return m_collection; }

private:
    PooledClient m_client;
    mongoc_collection_t* m_collection;
};

// A non-owning reference to a callable taking one document, for the lifetime of the call it is passed to.
// Not std::function<void(const bson_t*)>: bson_t is declared with an alignment attribute, which GCC warns it must
// drop from a template argument (-Wignored-attributes, an error under -Werror).
class DocVisitor {
public:
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, DocVisitor>)
    DocVisitor(F&& f)  // implicit, so that call sites pass their lambdas as they are
        : m_callable(const_cast<void*>(static_cast<const void*>(&f))),
          m_call([](void* callable, const bson_t* doc) { (*static_cast<std::remove_reference_t<F>*>(callable))(doc); }) {}
    void operator()(const bson_t* doc) const { m_call(m_callable, doc); }

private:
    void* m_callable;
    void (*m_call)(void*, const bson_t*);
};

struct WriteCount {
    std::int64_t matched = 0;   // what SQLite's changes() counts for an UPDATE: rows the filter selected
    std::int64_t modified = 0;
    std::int64_t upserted = 0;
};

// Options of a find: sort, limit (0: none) and projection (empty: whole documents).
struct FindOptions {
    Bson sort;
    std::int64_t limit = 0;
    Bson projection;
};

class MongoStore final : public Store {
public:
    // Takes ownership of `pool` and `uri`.
    MongoStore(mongoc_client_pool_t* pool, mongoc_uri_t* uri, std::string database);
    ~MongoStore() override;
    MongoStore(const MongoStore&) = delete;
    MongoStore& operator=(const MongoStore&) = delete;

    // --- plumbing (mongo_store.cpp) -------------------------------------------------------------------------

    Collection collection(const char* name) { return Collection(m_pool, m_database, name); }
    const std::string& database() const { return m_database; }
    mongoc_client_pool_t* pool() const { return m_pool; }

    Status insert(const char* coll, const Bson& doc, const std::string& conflict);
    Result<WriteCount> update_one(const char* coll, const Bson& filter, const Bson& update,
                                  const std::string& conflict = {}, bool upsert = false);
    Result<std::int64_t> update_many(const char* coll, const Bson& filter, const Bson& update);  // matched
    Result<std::int64_t> delete_one(const char* coll, const Bson& filter);                        // deleted
    Result<std::int64_t> delete_many(const char* coll, const Bson& filter);
    Result<std::int64_t> count(const char* coll, const Bson& filter);
    // Calls `visit` for each document found, in the cursor's order.
    Status each(const char* coll, const Bson& filter, const FindOptions& options,
                DocVisitor visit);
    Result<std::optional<Bson>> find_one(const char* coll, const Bson& filter, const FindOptions& options = {});
    // findAndModify: atomically the first document matching `query` (in `sort` order) gets `update`; returns it
    // as it is after the update (only the `fields` projection when given), nullopt when nothing matched.
    Result<std::optional<Bson>> find_and_modify(const char* coll, const Bson& query, const Bson& update,
                                                const Bson* sort = nullptr, const std::string& conflict = {},
                                                const Bson* fields = nullptr);
    Status aggregate(const char* coll, const Bson& pipeline, DocVisitor visit);
    // The reference check SQLite's foreign keys make: invalid_request when no document of `coll` matches.
    Status require(const char* coll, const Bson& filter);

    template <class T, class Reader>
    Result<T> get(const char* coll, const Bson& filter, Reader reader, const char* what) {
        auto found = find_one(coll, filter);
        if (!found) return found.take_error();
        if (!*found) return not_found(what);
        return reader((*found)->get());
    }

    template <class T, class Reader>
    Result<std::vector<T>> all(const char* coll, const Bson& filter, Reader reader, FindOptions options = {}) {
        std::vector<T> items;
        auto st = each(coll, filter, options, [&](const bson_t* d) { items.push_back(reader(d)); });
        if (!st) return st.take_error();
        return items;
    }

    // Newest first by _id (ids sort by creation time), keyset pagination from req.cursor; one document more than
    // the page is fetched to learn whether another page exists, as the SQLite store does.
    template <class T, class Reader>
    Result<Page<T>> page(const char* coll, Bson filter, const PageRequest& req, Reader reader) {
        int limit = std::clamp(req.limit, 1, 500);
        if (!req.cursor.empty()) filter.add("_id", Bson().add("$lt", req.cursor));
        FindOptions options;
        options.sort.add("_id", -1);
        options.limit = limit + 1;
        Page<T> out;
        auto st = each(coll, filter, options, [&](const bson_t* d) { out.items.push_back(reader(d)); });
        if (!st) return st.take_error();
        if (static_cast<int>(out.items.size()) > limit) {
            out.items.resize(static_cast<std::size_t>(limit));
            out.next_cursor = out.items.back().id;
        }
        return out;
    }

    // --- Store ------------------------------------------------------------------------------------------------

    // mongo_store.cpp
    Status create_workspace(const Workspace& ws) override;
    Result<Workspace> get_workspace(const std::string& id) override;
    Result<Page<Workspace>> list_workspaces(const PageRequest& page) override;
    Result<std::int64_t> count_users() override;
    Status create_user(const User& user) override;
    Result<User> get_user(const std::string& workspace_id, const std::string& id) override;
    Result<User> get_user_by_id(const std::string& id) override;
    Result<User> find_user_by_email(const std::string& email) override;
    Result<Page<User>> list_users(const std::string& workspace_id, const PageRequest& page) override;
    Status update_user(const User& user) override;
    Status delete_user(const std::string& workspace_id, const std::string& id) override;
    Status create_api_key(const ApiKey& key) override;
    Result<ApiKey> find_api_key_by_hash(const std::string& key_hash) override;
    Result<Page<ApiKey>> list_api_keys(const std::string& workspace_id, const PageRequest& page) override;
    Status revoke_api_key(const std::string& workspace_id, const std::string& id, std::int64_t at) override;
    Status touch_api_key(const std::string& id, std::int64_t at) override;
    Status create_refresh_token(const RefreshToken& token) override;
    Result<RefreshToken> find_refresh_token_by_hash(const std::string& token_hash) override;
    Status rotate_refresh_token(const std::string& old_id, const RefreshToken& next, std::int64_t at) override;
    Status revoke_refresh_family(const std::string& family_id, std::int64_t at) override;
    Status revoke_user_refresh_tokens(const std::string& user_id, std::int64_t at) override;
    Status create_agent(const Agent& agent) override;
    Result<Agent> get_agent(const std::string& workspace_id, const std::string& id) override;
    Result<Agent> find_agent_by_name(const std::string& workspace_id, const std::string& name) override;
    Result<Page<Agent>> list_agents(const std::string& workspace_id, const PageRequest& page) override;
    Result<Agent> update_agent(const Agent& agent) override;
    Status delete_agent(const std::string& workspace_id, const std::string& id) override;
    Result<Page<AgentVersion>> list_agent_versions(const std::string& workspace_id, const std::string& agent_id,
                                                   const PageRequest& page) override;
    Result<AgentVersion> get_agent_version(const std::string& workspace_id, const std::string& agent_id,
                                           std::int64_t version) override;
    // Records `stored` (an agent as just written) as a version and prunes those past kAgentVersionsKept.
    Status keep_agent_version(const Agent& stored, const std::string& by);
    Status create_phone(const PhoneNumber& phone) override;
    Result<PhoneNumber> get_phone(const std::string& workspace_id, const std::string& id) override;
    Result<PhoneNumber> find_phone_by_number(const std::string& number) override;
    Result<Page<PhoneNumber>> list_phones(const std::string& workspace_id, const PageRequest& page) override;
    Result<PhoneNumber> update_phone(const PhoneNumber& phone) override;
    Status delete_phone(const std::string& workspace_id, const std::string& id) override;
    Status create_webhook_endpoint(const WebhookEndpoint& endpoint) override;
    Result<WebhookEndpoint> get_webhook_endpoint(const std::string& workspace_id, const std::string& id) override;
    Result<WebhookEndpoint> find_webhook_endpoint(const std::string& id) override;
    Result<Page<WebhookEndpoint>> list_webhook_endpoints(const std::string& workspace_id, const PageRequest& page) override;
    Status delete_webhook_endpoint(const std::string& workspace_id, const std::string& id) override;
    Status create_webhook_delivery(const WebhookDelivery& delivery) override;
    Result<WebhookDelivery> get_webhook_delivery(const std::string& id) override;
    Status update_webhook_delivery(const WebhookDelivery& delivery) override;
    Result<Page<WebhookDelivery>> list_webhook_deliveries(const std::string& endpoint_id, const PageRequest& page) override;
    Result<int> schema_version() override;

    // mongo_store_calls.cpp
    Status create_call(const Call& call) override;
    Result<Call> get_call(const std::string& workspace_id, const std::string& id) override;
    Result<Call> find_call(const std::string& id) override;
    Result<Page<Call>> list_calls(const std::string& workspace_id, const CallFilter& filter,
                                  const PageRequest& page) override;
    Status update_call(const Call& call) override;
    Status set_call_analysis(const std::string& call_id, const std::string& outcome, const std::string& summary,
                             const std::string& analysis) override;
    Status set_provider_call_id(const std::string& call_id, const std::string& provider_call_id) override;
    Status end_open_call(const std::string& call_id, const std::string& status, const std::string& end_reason,
                         std::int64_t ended_at, double duration_s) override;
    Result<std::vector<Call>> list_open_calls(const std::string& instance_id) override;
    Status heartbeat_instance(const Instance& instance) override;
    Result<std::vector<Instance>> list_instances() override;
    Status remove_instance(const std::string& id) override;
    Result<std::string> claim_idempotency_key(const std::string& workspace_id, const std::string& key,
                                              const std::string& call_id, std::int64_t at) override;
    Result<CallTurn> append_turn(const CallTurn& turn) override;
    Result<std::vector<CallTurn>> list_turns(const std::string& call_id) override;
    Result<bool> count_call(const std::string& call_id, const AnalyticsDay& key,
                            const std::function<void(AnalyticsDay&)>& update) override;
    Result<std::vector<AnalyticsDay>> list_analytics(const std::string& workspace_id, const std::string& agent_id,
                                                     const std::string& from_day, const std::string& to_day) override;

    // mongo_store_work.cpp
    Result<Job> enqueue_job(const Job& job) override;
    Result<std::vector<Job>> claim_jobs(const std::vector<std::string>& types, const std::string& owner,
                                        std::int64_t now, std::int64_t lease_until, int limit) override;
    Status renew_job_lease(const std::string& id, const std::string& owner, std::int64_t lease_until) override;
    Status complete_job(const std::string& id, const std::string& owner, std::int64_t at) override;
    Status fail_job(const std::string& id, const std::string& owner, const std::string& error,
                    std::int64_t run_after, bool dead, std::int64_t at) override;
    Status release_job(const std::string& id, const std::string& owner, std::int64_t at) override;
    Result<Job> get_job(const std::string& id) override;
    Result<Page<Job>> list_jobs(const std::string& state, const std::string& type, const PageRequest& page) override;
    Status create_campaign(const Campaign& campaign) override;
    Result<Campaign> get_campaign(const std::string& workspace_id, const std::string& id) override;
    Result<Campaign> find_campaign(const std::string& id) override;
    Result<Page<Campaign>> list_campaigns(const std::string& workspace_id, const PageRequest& page) override;
    Result<std::vector<Campaign>> list_campaigns_by_status(const std::string& status) override;
    Result<Campaign> update_campaign(const Campaign& campaign) override;
    Result<Campaign> transition_campaign(const std::string& id, const std::vector<std::string>& from,
                                         const std::string& to, std::int64_t at) override;
    Result<std::int64_t> add_campaign_contacts(const std::vector<CampaignContact>& contacts) override;
    Result<CampaignContact> get_campaign_contact(const std::string& id) override;
    Result<Page<CampaignContact>> list_campaign_contacts(const std::string& campaign_id, const std::string& state,
                                                         const PageRequest& page) override;
    Result<ContactCounts> count_campaign_contacts(const std::string& campaign_id) override;
    Result<std::vector<CampaignContact>> claim_campaign_contacts(const std::string& campaign_id, int concurrency,
                                                                 std::int64_t now, int limit) override;
    Result<std::string> set_contact_call(const std::string& contact_id, int attempt, const std::string& call_id) override;
    Status end_contact_attempt(const AttemptEnd& end) override;
    Result<std::vector<CampaignContact>> list_dialing_contacts(const std::string& campaign_id) override;
    Result<std::int64_t> cancel_pending_contacts(const std::string& campaign_id, std::int64_t at) override;
    Status add_dnc(const DncEntry& entry) override;
    Status remove_dnc(const std::string& workspace_id, const std::string& phone) override;
    Result<bool> is_dnc(const std::string& workspace_id, const std::string& phone) override;
    Result<Page<DncEntry>> list_dnc(const std::string& workspace_id, const PageRequest& page) override;

private:
    Result<std::optional<Job>> claim_one_job(const Bson& query, const Bson* sort, const std::string& owner,
                                             std::int64_t now, std::int64_t lease_until);
    Result<bool> merge_contact(const CampaignContact& contact);

    mongoc_client_pool_t* m_pool;
    mongoc_uri_t* m_uri;
    std::string m_database;
};

// Brings the database's indexes and recorded schema version up to this build's (mongo_store.cpp).
Status migrate(MongoStore& store);

}  // namespace va::mongo
