// MongoDB Store: opening (pool, ping, schema version, indexes), the CRUD plumbing every part uses, and the records
// of accounts, agents, numbers and webhooks. Semantics mirror sqlite_store.cpp method by method; where MongoDB has no
// transaction to lean on (a standalone server has none), the comment says how the same outcome is reached.
#include "core/store/mongo_store_impl.hpp"

#include "core/util/strings.hpp"
#include "core/util/time.hpp"

namespace va {

namespace mongo {

namespace {

// Server error codes that mean "try again": lost primary, shutdown, network trouble reported by the server.
bool transient_server_code(std::uint32_t code) {
    switch (code) {
        case 6:      // HostUnreachable
        case 7:      // HostNotFound
        case 89:     // NetworkTimeout
        case 91:     // ShutdownInProgress
        case 112:    // WriteConflict
        case 189:    // PrimarySteppedDown
        case 262:    // ExceededTimeLimit
        case 9001:   // SocketException
        case 10107:  // NotWritablePrimary
        case 11600:  // InterruptedAtShutdown
        case 11602:  // InterruptedDueToReplStateChange
        case 13435:  // NotPrimaryNoSecondaryOk
        case 13436:  // NotPrimaryOrSecondary
            return true;
        default:
            return false;
    }
}

// Walks a cursor to its end; the cursor is destroyed either way.
Status drain(mongoc_cursor_t* cursor, DocVisitor visit, const std::string& what) {
    const bson_t* doc = nullptr;
    while (mongoc_cursor_next(cursor, &doc)) visit(doc);
    bson_error_t error;
    bool failed = mongoc_cursor_error(cursor, &error);
    mongoc_cursor_destroy(cursor);
    if (failed) return to_error(error, what);
    return Ok{};
}

Bson find_opts(const FindOptions& o) {
    Bson opts;
    if (!o.sort.empty()) opts.add("sort", o.sort);
    if (o.limit > 0) opts.add("limit", o.limit);
    if (!o.projection.empty()) opts.add("projection", o.projection);
    return opts;
}


}  // namespace

Error to_error(const bson_error_t& error, const std::string& what, const std::string& conflict) {
    if (error.code == MONGOC_ERROR_DUPLICATE_KEY || error.code == 11001 || error.code == 12582)
        return make_error(ErrorCode::conflict, conflict.empty() ? "already exists" : conflict);
    std::string message = "mongodb " + what + ": " + error.message;
    if (error.domain == MONGOC_ERROR_STREAM || error.domain == MONGOC_ERROR_SERVER_SELECTION)
        return make_error(ErrorCode::unavailable, message);
    bool from_server = error.domain == MONGOC_ERROR_SERVER || error.domain == MONGOC_ERROR_QUERY ||
                       error.domain == MONGOC_ERROR_WRITE_CONCERN;
    if (from_server && error.code == MONGOC_ERROR_MAX_TIME_MS_EXPIRED) return make_error(ErrorCode::timeout, message);
    if (from_server && transient_server_code(error.code)) return make_error(ErrorCode::unavailable, message);
    return make_error(ErrorCode::internal, message);
}

// --- plumbing ------------------------------------------------------------------------------------------------------

MongoStore::MongoStore(mongoc_client_pool_t* pool, mongoc_uri_t* uri, std::string database)
    : m_pool(pool), m_uri(uri), m_database(std::move(database)) {}

MongoStore::~MongoStore() {
    // Every client is back in the pool by now: each call pushes its own before returning.
    mongoc_client_pool_destroy(m_pool);
    mongoc_uri_destroy(m_uri);
}

Status MongoStore::insert(const char* coll, const Bson& doc, const std::string& conflict) {
    auto c = collection(coll);
    bson_error_t error;
    if (!mongoc_collection_insert_one(c.get(), doc.get(), nullptr, nullptr, &error))
        return to_error(error, std::string("insert into ") + coll, conflict);
    return Ok{};
}

Result<WriteCount> MongoStore::update_one(const char* coll, const Bson& filter, const Bson& update,
                                          const std::string& conflict, bool upsert) {
    auto c = collection(coll);
    Bson opts;
    if (upsert) opts.add("upsert", true);
    bson_t reply;
    bson_error_t error;
    bool ok = mongoc_collection_update_one(c.get(), filter.get(), update.get(), opts.get(), &reply, &error);
    WriteCount count{get_int(&reply, "matchedCount"), get_int(&reply, "modifiedCount"),
                     get_int(&reply, "upsertedCount")};
    bson_destroy(&reply);  // initialized by the driver whether or not the update succeeded
    if (!ok) return to_error(error, std::string("update of ") + coll, conflict);
    return count;
}

Result<std::int64_t> MongoStore::update_many(const char* coll, const Bson& filter, const Bson& update) {
    auto c = collection(coll);
    bson_t reply;
    bson_error_t error;
    bool ok = mongoc_collection_update_many(c.get(), filter.get(), update.get(), nullptr, &reply, &error);
    std::int64_t matched = get_int(&reply, "matchedCount");
    bson_destroy(&reply);
    if (!ok) return to_error(error, std::string("update of ") + coll);
    return matched;
}

Result<std::int64_t> MongoStore::delete_one(const char* coll, const Bson& filter) {
    auto c = collection(coll);
    bson_t reply;
    bson_error_t error;
    bool ok = mongoc_collection_delete_one(c.get(), filter.get(), nullptr, &reply, &error);
    std::int64_t deleted = get_int(&reply, "deletedCount");
    bson_destroy(&reply);
    if (!ok) return to_error(error, std::string("delete from ") + coll);
    return deleted;
}

Result<std::int64_t> MongoStore::delete_many(const char* coll, const Bson& filter) {
    auto c = collection(coll);
    bson_t reply;
    bson_error_t error;
    bool ok = mongoc_collection_delete_many(c.get(), filter.get(), nullptr, &reply, &error);
    std::int64_t deleted = get_int(&reply, "deletedCount");
    bson_destroy(&reply);
    if (!ok) return to_error(error, std::string("delete from ") + coll);
    return deleted;
}

Result<std::int64_t> MongoStore::count(const char* coll, const Bson& filter) {
    auto c = collection(coll);
    bson_error_t error;
    std::int64_t n = mongoc_collection_count_documents(c.get(), filter.get(), nullptr, nullptr, nullptr, &error);
    if (n < 0) return to_error(error, std::string("count of ") + coll);
    return n;
}

Status MongoStore::each(const char* coll, const Bson& filter, const FindOptions& options,
                        DocVisitor visit) {
    auto c = collection(coll);
    Bson opts = find_opts(options);
    mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(c.get(), filter.get(), opts.get(), nullptr);
    return drain(cursor, visit, std::string("find in ") + coll);
}

Result<std::optional<Bson>> MongoStore::find_one(const char* coll, const Bson& filter, const FindOptions& options) {
    FindOptions one;
    one.sort = Bson::copy_of(options.sort.get());
    one.projection = Bson::copy_of(options.projection.get());
    one.limit = 1;
    std::optional<Bson> found;
    auto st = each(coll, filter, one, [&](const bson_t* d) {
        if (!found) found = Bson::copy_of(d);
    });
    if (!st) return st.take_error();
    return found;
}

Result<std::optional<Bson>> MongoStore::find_and_modify(const char* coll, const Bson& query, const Bson& update,
                                                        const Bson* sort, const std::string& conflict,
                                                        const Bson* fields) {
    auto c = collection(coll);
    mongoc_find_and_modify_opts_t* opts = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_update(opts, update.get());
    if (sort) mongoc_find_and_modify_opts_set_sort(opts, sort->get());
    if (fields) mongoc_find_and_modify_opts_set_fields(opts, fields->get());
    mongoc_find_and_modify_opts_set_flags(opts, MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    bson_t reply;
    bson_error_t error;
    bool ok = mongoc_collection_find_and_modify_with_opts(c.get(), query.get(), opts, &reply, &error);
    mongoc_find_and_modify_opts_destroy(opts);
    std::optional<Bson> value;
    if (ok) value = get_document(&reply, "value");  // null when nothing matched
    bson_destroy(&reply);
    if (!ok) return to_error(error, std::string("findAndModify on ") + coll, conflict);
    return value;
}

Status MongoStore::aggregate(const char* coll, const Bson& pipeline, DocVisitor visit) {
    auto c = collection(coll);
    mongoc_cursor_t* cursor = mongoc_collection_aggregate(c.get(), MONGOC_QUERY_NONE, pipeline.get(), nullptr, nullptr);
    return drain(cursor, visit, std::string("aggregate on ") + coll);
}

Status MongoStore::require(const char* coll, const Bson& filter) {
    FindOptions options;
    options.projection.add("_id", 1);
    auto found = find_one(coll, filter, options);
    if (!found) return found.take_error();
    if (!*found) return make_error(ErrorCode::invalid_request, "refers to a record that does not exist");
    return Ok{};
}

// --- schema --------------------------------------------------------------------------------------------------------

namespace {

// Version 1: the collections below and their indexes. A later version that changes documents adds its step to
// migrate() under `if (current < N)`; index changes go into index_specs() (a changed index needs a new name).
constexpr int kSchemaVersion = 1;

struct IndexSpec {
    const char* collection;
    const char* name;
    std::vector<std::pair<const char*, int>> keys;
    bool unique = false;
    Bson (*partial)() = nullptr;  // partialFilterExpression
};

Bson has_idempotency_key() { return Bson().add("idempotency_key", Bson().add("$exists", true)); }
Bson is_dialing() { return Bson().add("state", "dialing"); }

// SQLite's UNIQUE constraints become unique indexes, its other indexes plain ones. Lists page by
// (owner, _id), hence the compound indexes ending in _id.
const std::vector<IndexSpec>& index_specs() {
    static const std::vector<IndexSpec> specs = {
        {kUsers, "email_unique", {{"email", 1}}, true},
        {kUsers, "workspace_id", {{"workspace_id", 1}, {"_id", 1}}},
        {kApiKeys, "key_hash_unique", {{"key_hash", 1}}, true},
        {kApiKeys, "workspace_id", {{"workspace_id", 1}, {"_id", 1}}},
        {kRefreshTokens, "token_hash_unique", {{"token_hash", 1}}, true},
        {kRefreshTokens, "family", {{"family_id", 1}}},
        {kRefreshTokens, "user", {{"user_id", 1}}},
        {kAgents, "workspace_name_unique", {{"workspace_id", 1}, {"name", 1}}, true},
        {kAgents, "workspace_id", {{"workspace_id", 1}, {"_id", 1}}},
        {kAgentVersions, "agent_version", {{"workspace_id", 1}, {"agent_id", 1}, {"version", -1}}},
        {kPhones, "number_unique", {{"number", 1}}, true},
        {kPhones, "workspace_id", {{"workspace_id", 1}, {"_id", 1}}},
        {kPhones, "agent", {{"agent_id", 1}}},
        {kCalls, "workspace_id", {{"workspace_id", 1}, {"_id", 1}}},
        {kCalls, "workspace_agent", {{"workspace_id", 1}, {"agent_id", 1}, {"_id", 1}}},
        {kCalls, "campaign", {{"campaign_id", 1}, {"_id", 1}}},
        {kCalls, "provider_call_id", {{"provider_call_id", 1}}},
        {kCalls, "open_by_instance", {{"instance_id", 1}, {"ended_at", 1}}},
        {kTurns, "call_seq_unique", {{"call_id", 1}, {"seq", 1}}, true},
        {kIdempotency, "workspace_key_unique", {{"workspace_id", 1}, {"key", 1}}, true},
        {kJobs, "idempotency_key_unique", {{"idempotency_key", 1}}, true, has_idempotency_key},
        {kJobs, "ready", {{"state", 1}, {"type", 1}, {"priority", -1}, {"run_after", 1}}},
        {kJobs, "leases", {{"state", 1}, {"lease_expires", 1}}},
        {kEndpoints, "workspace_id", {{"workspace_id", 1}, {"_id", 1}}},
        {kDeliveries, "endpoint", {{"endpoint_id", 1}, {"_id", 1}}},
        {kDeliveries, "due", {{"state", 1}, {"next_attempt_at", 1}}},
        {kCampaigns, "workspace_id", {{"workspace_id", 1}, {"_id", 1}}},
        {kCampaigns, "status", {{"status", 1}}},
        {kContacts, "campaign_phone_unique", {{"campaign_id", 1}, {"phone", 1}}, true},
        {kContacts, "campaign_state_due", {{"campaign_id", 1}, {"state", 1}, {"next_attempt_at", 1}}},
        {kContacts, "campaign_id", {{"campaign_id", 1}, {"_id", 1}}},
        // The concurrency limit itself: a dialing contact holds a slot number, and no two hold the same one.
        {kContacts, "dialing_slot_unique", {{"campaign_id", 1}, {"slot", 1}}, true, is_dialing},
        {kDnc, "workspace_phone_unique", {{"workspace_id", 1}, {"phone", 1}}, true},
        {kDnc, "workspace_id", {{"workspace_id", 1}, {"_id", 1}}},
        {kAnalyticsDaily, "day_unique", {{"workspace_id", 1}, {"agent_id", 1}, {"day", 1}}, true},
    };
    return specs;
}

// createIndexes per collection: a no-op for indexes that exist as specified, so every start runs it, which also
// brings back an index an operator dropped.
Status ensure_indexes(MongoStore& store) {
    std::vector<std::string> collections;
    for (const auto& spec : index_specs())
        if (std::find(collections.begin(), collections.end(), spec.collection) == collections.end())
            collections.push_back(spec.collection);
    PooledClient client(store.pool());
    mongoc_database_t* db = mongoc_client_get_database(client.get(), store.database().c_str());
    Status result = Ok{};
    for (const auto& name : collections) {
        std::vector<Bson> indexes;
        for (const auto& spec : index_specs()) {
            if (name != spec.collection) continue;
            Bson keys;
            for (const auto& [field, direction] : spec.keys) keys.add(field, direction);
            Bson index = Bson().add("key", keys).add("name", spec.name);
            if (spec.unique) index.add("unique", true);
            if (spec.partial) index.add("partialFilterExpression", spec.partial());
            indexes.push_back(std::move(index));
        }
        Bson command = Bson().add("createIndexes", name).add("indexes", indexes);
        bson_t reply;
        bson_error_t error;
        bool ok = mongoc_database_write_command_with_opts(db, command.get(), nullptr, &reply, &error);
        bson_destroy(&reply);
        if (!ok) {
            result = to_error(error, "createIndexes on " + name);
            break;
        }
    }
    mongoc_database_destroy(db);
    return result;
}

Result<int> read_schema_version(MongoStore& store) {
    auto found = store.find_one(kMeta, id_is("schema"));
    if (!found) return found.take_error();
    if (!*found) return 0;
    return static_cast<int>(get_int((*found)->get(), "version"));
}

}  // namespace

Status migrate(MongoStore& store) {
    auto current = read_schema_version(store);
    if (!current) return current.take_error();
    if (*current > kSchemaVersion)
        return make_error(ErrorCode::unprocessable, "database schema version " + std::to_string(*current) +
                                                        " is newer than this build supports (" +
                                                        std::to_string(kSchemaVersion) + "); upgrade voiceagentd");
    if (auto st = ensure_indexes(store); !st) return st;
    // $max: several daemons starting at once all record it, and none moves the version back.
    Bson update = Bson()
                      .add("$max", Bson().add("version", kSchemaVersion))
                      .add("$set", Bson().add("updated_at", now_ms()));
    auto recorded = store.update_one(kMeta, id_is("schema"), update, "", true);
    // Two first starts upserting at once: one insert wins, the other's is a duplicate key; the retry updates.
    if (!recorded && recorded.error().code == ErrorCode::conflict)
        recorded = store.update_one(kMeta, id_is("schema"), update, "", true);
    if (!recorded) return recorded.take_error();
    return Ok{};
}

// --- workspaces and users ------------------------------------------------------------------------------------------

Status MongoStore::create_workspace(const Workspace& ws) { return insert(kWorkspaces, to_doc(ws), "workspace already exists"); }
Result<Workspace> MongoStore::get_workspace(const std::string& id) {
    return get<Workspace>(kWorkspaces, id_is(id), workspace_from, "workspace");
}
Result<Page<Workspace>> MongoStore::list_workspaces(const PageRequest& req) {
    return page<Workspace>(kWorkspaces, Bson(), req, workspace_from);
}
Result<std::int64_t> MongoStore::count_users() { return count(kUsers, Bson()); }

Status MongoStore::create_user(const User& u) {
    if (auto st = require(kWorkspaces, id_is(u.workspace_id)); !st) return st;
    User stored = u;
    stored.email = to_lower(u.email);
    return insert(kUsers, to_doc(stored), "a user with email " + stored.email + " already exists");
}
Result<User> MongoStore::get_user(const std::string& ws, const std::string& id) {
    return get<User>(kUsers, in_workspace(ws, id), user_from, "user");
}
Result<User> MongoStore::get_user_by_id(const std::string& id) { return get<User>(kUsers, id_is(id), user_from, "user"); }
Result<User> MongoStore::find_user_by_email(const std::string& email) {
    return get<User>(kUsers, Bson().add("email", to_lower(email)), user_from, "user");
}
Result<Page<User>> MongoStore::list_users(const std::string& ws, const PageRequest& req) {
    return page<User>(kUsers, Bson().add("workspace_id", ws), req, user_from);
}
Status MongoStore::update_user(const User& u) {
    std::string email = to_lower(u.email);
    auto updated = update_one(kUsers, in_workspace(u.workspace_id, u.id),
                              set_of(Bson()
                                      .add("email", email)
                                      .add("name", u.name)
                                      .add("role", u.role)
                                      .add("password_hash", u.password_hash)
                                      .add("disabled", u.disabled)
                                      .add("updated_at", now_ms())),
                              "a user with email " + email + " already exists");
    if (!updated) return updated.take_error();
    if (updated->matched == 0) return not_found("user");
    return Ok{};
}
Status MongoStore::delete_user(const std::string& ws, const std::string& id) {
    auto deleted = delete_one(kUsers, in_workspace(ws, id));
    if (!deleted) return deleted.take_error();
    if (*deleted == 0) return not_found("user");
    // SQLite cascades a user's refresh tokens; here the second write does (a crash between the two leaves tokens
    // whose user is gone, which token validation refuses anyway: it looks the user up).
    auto tokens = delete_many(kRefreshTokens, Bson().add("user_id", id));
    if (!tokens) return tokens.take_error();
    return Ok{};
}

// --- API keys ------------------------------------------------------------------------------------------------------

Status MongoStore::create_api_key(const ApiKey& k) {
    if (auto st = require(kWorkspaces, id_is(k.workspace_id)); !st) return st;
    return insert(kApiKeys, to_doc(k), "API key already exists");
}
Result<ApiKey> MongoStore::find_api_key_by_hash(const std::string& hash) {
    return get<ApiKey>(kApiKeys, Bson().add("key_hash", hash), api_key_from, "API key");
}
Result<Page<ApiKey>> MongoStore::list_api_keys(const std::string& ws, const PageRequest& req) {
    return page<ApiKey>(kApiKeys, Bson().add("workspace_id", ws), req, api_key_from);
}
Status MongoStore::revoke_api_key(const std::string& ws, const std::string& id, std::int64_t at) {
    // A key revoked before keeps its first revocation time, and revoking it again is not an error.
    auto revoked = update_one(kApiKeys, in_workspace(ws, id).add("revoked_at", std::int64_t{0}),
                              set_of(Bson().add("revoked_at", at)));
    if (!revoked) return revoked.take_error();
    if (revoked->matched == 1) return Ok{};
    auto exists = count(kApiKeys, in_workspace(ws, id));
    if (!exists) return exists.take_error();
    if (*exists == 0) return not_found("API key");
    return Ok{};
}
Status MongoStore::touch_api_key(const std::string& id, std::int64_t at) {
    auto touched = update_one(kApiKeys, id_is(id), set_of(Bson().add("last_used_at", at)));
    if (!touched) return touched.take_error();
    return Ok{};
}

// --- refresh tokens ------------------------------------------------------------------------------------------------

Status MongoStore::create_refresh_token(const RefreshToken& t) {
    if (auto st = require(kUsers, id_is(t.user_id)); !st) return st;
    return insert(kRefreshTokens, to_doc(t), "refresh token already exists");
}
Result<RefreshToken> MongoStore::find_refresh_token_by_hash(const std::string& hash) {
    return get<RefreshToken>(kRefreshTokens, Bson().add("token_hash", hash), refresh_token_from, "refresh token");
}
Status MongoStore::rotate_refresh_token(const std::string& old_id, const RefreshToken& next, std::int64_t at) {
    // No transaction: the new token goes in first, then the old one is marked only if it is still active (one
    // conditional update, so of several racing rotations exactly one wins); a loser deletes its new token again.
    // Until then that token exists but nobody holds it (its owner has not been answered), so the window is harmless,
    // whereas marking first would show the old token as rotated to a token that does not exist.
    if (auto st = insert(kRefreshTokens, to_doc(next), "refresh token already exists"); !st) return st;
    auto marked = update_one(kRefreshTokens, id_is(old_id).add("revoked_at", std::int64_t{0}),
                             set_of(Bson().add("revoked_at", at).add("replaced_by", next.id)));
    if (marked && marked->matched == 1) return Ok{};
    (void)delete_one(kRefreshTokens, id_is(next.id));
    if (!marked) return marked.take_error();
    return make_error(ErrorCode::conflict, "refresh token already rotated or revoked");
}
Status MongoStore::revoke_refresh_family(const std::string& family_id, std::int64_t at) {
    auto revoked = update_many(kRefreshTokens, Bson().add("family_id", family_id).add("revoked_at", std::int64_t{0}),
                               set_of(Bson().add("revoked_at", at)));
    if (!revoked) return revoked.take_error();
    return Ok{};
}
Status MongoStore::revoke_user_refresh_tokens(const std::string& user_id, std::int64_t at) {
    auto revoked = update_many(kRefreshTokens, Bson().add("user_id", user_id).add("revoked_at", std::int64_t{0}),
                               set_of(Bson().add("revoked_at", at)));
    if (!revoked) return revoked.take_error();
    return Ok{};
}

// --- agents --------------------------------------------------------------------------------------------------------

Status MongoStore::create_agent(const Agent& a) {
    if (auto st = require(kWorkspaces, id_is(a.workspace_id)); !st) return st;
    if (auto st = insert(kAgents, to_doc(a), "an agent named " + a.name + " already exists"); !st) return st;
    return keep_agent_version(a, a.updated_by);
}
Result<Agent> MongoStore::get_agent(const std::string& ws, const std::string& id) {
    return get<Agent>(kAgents, in_workspace(ws, id), agent_from, "agent");
}
Result<Agent> MongoStore::find_agent_by_name(const std::string& ws, const std::string& name) {
    return get<Agent>(kAgents, Bson().add("workspace_id", ws).add("name", name), agent_from, "agent");
}
Result<Page<Agent>> MongoStore::list_agents(const std::string& ws, const PageRequest& req) {
    return page<Agent>(kAgents, Bson().add("workspace_id", ws), req, agent_from);
}
Result<Agent> MongoStore::update_agent(const Agent& a) {
    // One findAndModify: the rename, the version bump and the read of the result are one atomic step, and a
    // rename onto a taken name fails as a whole (duplicate key), leaving the agent as it was.
    Bson update = Bson()
                      .add("$set", Bson().add("name", a.name).add("definition", a.definition).add("updated_at", now_ms()))
                      .add("$inc", Bson().add("version", std::int64_t{1}));
    auto updated = find_and_modify(kAgents, in_workspace(a.workspace_id, a.id), update, nullptr,
                                   "an agent named " + a.name + " already exists");
    if (!updated) return updated.take_error();
    if (!*updated) return not_found("agent");
    Agent stored = agent_from((*updated)->get());
    if (auto kept = keep_agent_version(stored, a.updated_by); !kept) return kept.take_error();
    return stored;
}
Status MongoStore::delete_agent(const std::string& ws, const std::string& id) {
    auto deleted = delete_one(kAgents, in_workspace(ws, id));
    if (!deleted) return deleted.take_error();
    if (*deleted == 0) return not_found("agent");
    if (auto gone = delete_many(kAgentVersions, Bson().add("agent_id", id)); !gone) return gone.take_error();
    // SQLite's ON DELETE SET NULL: numbers answered by the agent stay, unassigned.
    auto released = update_many(kPhones, Bson().add("agent_id", id), set_of(Bson().add("agent_id", "")));
    if (!released) return released.take_error();
    return Ok{};
}

// --- phone numbers -------------------------------------------------------------------------------------------------

Status MongoStore::create_phone(const PhoneNumber& p) {
    if (auto st = require(kWorkspaces, id_is(p.workspace_id)); !st) return st;
    if (!p.agent_id.empty())
        if (auto st = require(kAgents, id_is(p.agent_id)); !st) return st;
    return insert(kPhones, to_doc(p), "the number " + p.number + " is already registered");
}
Result<PhoneNumber> MongoStore::get_phone(const std::string& ws, const std::string& id) {
    return get<PhoneNumber>(kPhones, in_workspace(ws, id), phone_from, "phone number");
}
Result<PhoneNumber> MongoStore::find_phone_by_number(const std::string& number) {
    return get<PhoneNumber>(kPhones, Bson().add("number", number), phone_from, "phone number");
}
Result<Page<PhoneNumber>> MongoStore::list_phones(const std::string& ws, const PageRequest& req) {
    return page<PhoneNumber>(kPhones, Bson().add("workspace_id", ws), req, phone_from);
}
Result<PhoneNumber> MongoStore::update_phone(const PhoneNumber& p) {
    if (!p.agent_id.empty())
        if (auto st = require(kAgents, id_is(p.agent_id)); !st) return st.take_error();
    auto updated = find_and_modify(kPhones, in_workspace(p.workspace_id, p.id),
                                   set_of(Bson()
                                           .add("provider", p.provider)
                                           .add("agent_id", p.agent_id)
                                           .add("label", p.label)
                                           .add("updated_at", now_ms())));
    if (!updated) return updated.take_error();
    if (!*updated) return not_found("phone number");
    return phone_from((*updated)->get());
}
Status MongoStore::delete_phone(const std::string& ws, const std::string& id) {
    auto deleted = delete_one(kPhones, in_workspace(ws, id));
    if (!deleted) return deleted.take_error();
    if (*deleted == 0) return not_found("phone number");
    return Ok{};
}

// --- webhooks ------------------------------------------------------------------------------------------------------

Status MongoStore::create_webhook_endpoint(const WebhookEndpoint& e) {
    if (auto st = require(kWorkspaces, id_is(e.workspace_id)); !st) return st;
    return insert(kEndpoints, to_doc(e), "webhook endpoint already exists");
}
Result<WebhookEndpoint> MongoStore::get_webhook_endpoint(const std::string& ws, const std::string& id) {
    return get<WebhookEndpoint>(kEndpoints, in_workspace(ws, id), endpoint_from, "webhook endpoint");
}
Result<WebhookEndpoint> MongoStore::find_webhook_endpoint(const std::string& id) {
    return get<WebhookEndpoint>(kEndpoints, id_is(id), endpoint_from, "webhook endpoint");
}
Result<Page<WebhookEndpoint>> MongoStore::list_webhook_endpoints(const std::string& ws, const PageRequest& req) {
    return page<WebhookEndpoint>(kEndpoints, Bson().add("workspace_id", ws), req, endpoint_from);
}
Status MongoStore::delete_webhook_endpoint(const std::string& ws, const std::string& id) {
    auto deleted = delete_one(kEndpoints, in_workspace(ws, id));
    if (!deleted) return deleted.take_error();
    if (*deleted == 0) return not_found("webhook endpoint");
    // The delivery log goes with its endpoint (SQLite cascades it).
    auto log = delete_many(kDeliveries, Bson().add("endpoint_id", id));
    if (!log) return log.take_error();
    return Ok{};
}
Status MongoStore::create_webhook_delivery(const WebhookDelivery& d) {
    if (auto st = require(kEndpoints, id_is(d.endpoint_id)); !st) return st;
    return insert(kDeliveries, to_doc(d), "delivery already exists");
}
Result<WebhookDelivery> MongoStore::get_webhook_delivery(const std::string& id) {
    return get<WebhookDelivery>(kDeliveries, id_is(id), delivery_from, "delivery");
}
Status MongoStore::update_webhook_delivery(const WebhookDelivery& d) {
    auto updated = update_one(kDeliveries, id_is(d.id),
                              set_of(Bson()
                                      .add("state", d.state)
                                      .add("attempts", d.attempts)
                                      .add("next_attempt_at", d.next_attempt_at)
                                      .add("last_status", d.last_status)
                                      .add("last_error", d.last_error)
                                      .add("delivered_at", d.delivered_at)));
    if (!updated) return updated.take_error();
    if (updated->matched == 0) return not_found("delivery");
    return Ok{};
}
Result<Page<WebhookDelivery>> MongoStore::list_webhook_deliveries(const std::string& endpoint_id,
                                                                  const PageRequest& req) {
    return page<WebhookDelivery>(kDeliveries, Bson().add("endpoint_id", endpoint_id), req, delivery_from);
}

Result<int> MongoStore::schema_version() { return read_schema_version(*this); }

}  // namespace mongo

// --- opening -------------------------------------------------------------------------------------------------------

int mongo_schema_version() { return mongo::kSchemaVersion; }

Result<std::string> mongo_database_name(const MongoOptions& options) {
    auto in_uri = mongo::database_in_uri(options.uri);
    if (!in_uri) return in_uri.take_error();
    if (!options.database.empty()) return options.database;
    if (!in_uri->empty()) return *in_uri;
    return std::string("voiceagent");
}

Result<std::unique_ptr<Store>> open_mongo_store(const MongoOptions& options) {
    mongo::init_driver();
    auto database = mongo_database_name(options);
    if (!database) return database.take_error();

    bson_error_t error;
    mongoc_uri_t* uri = mongoc_uri_new_with_error(options.uri.c_str(), &error);
    if (!uri) return make_error(ErrorCode::invalid_request, "invalid MongoDB URI: " + mongo::scrub(error.message, options.uri));
    // What the URI says wins; our defaults fill in what it leaves out.
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, options.server_selection_timeout_ms);
    if (!mongoc_uri_get_appname(uri) && !options.app_name.empty())
        mongoc_uri_set_appname(uri, options.app_name.c_str());
    mongoc_client_pool_t* pool = mongoc_client_pool_new_with_error(uri, &error);
    if (!pool) {
        mongoc_uri_destroy(uri);
        return make_error(ErrorCode::invalid_request, "MongoDB client: " + mongo::scrub(error.message, options.uri));
    }
    // Error API 2: server errors come with their server code (11000 for a duplicate key) in the server domain.
    mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2);
    if (!mongoc_uri_has_option(uri, MONGOC_URI_MAXPOOLSIZE))
        mongoc_client_pool_max_size(pool, static_cast<std::uint32_t>(std::max(1, options.pool_max)));
    auto store = std::make_unique<mongo::MongoStore>(pool, uri, *database);

    {
        mongo::PooledClient client(pool);
        mongo::Bson ping = mongo::Bson().add("ping", 1);
        bson_t reply;
        bool ok = mongoc_client_command_simple(client.get(), "admin", ping.get(), nullptr, &reply, &error);
        bson_destroy(&reply);
        if (!ok) {
            Error e = mongo::to_error(error, "ping");
            return make_error(e.code == ErrorCode::internal ? ErrorCode::unavailable : e.code,
                              "cannot reach MongoDB: " + mongo::scrub(error.message, options.uri));
        }
    }
    if (auto st = mongo::migrate(*store); !st) {
        Error e = st.take_error();
        e.message = mongo::scrub(e.message, options.uri);
        return e;
    }
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace va
