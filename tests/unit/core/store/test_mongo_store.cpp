// The MongoDB store. Tests that need a server run when VOICEAGENT_TEST_MONGODB_URI names one (each on a fresh
// database of its own, dropped afterwards) and otherwise print VA_TEST_SKIPPED, which ctest reports as skipped;
// Debian carries no MongoDB server. The rest (URIs, BSON conversions, error mapping, an unreachable server) run
// everywhere.
#include <mongoc/mongoc.h>

#include <cstdlib>
#include <iostream>

#include "core/store/mongo_bson.hpp"
#include "core/store/mongo_store.hpp"
#include "core/store/mongo_store_impl.hpp"
#include "core/util/strings.hpp"
#include "store_contract.hpp"

namespace {

using va::mongo::Bson;

std::string server_uri() {
    const char* uri = std::getenv("VOICEAGENT_TEST_MONGODB_URI");
    return uri ? uri : "";
}

// Ends the test as skipped when no server is configured (Catch2 v2 has no SKIP; see tests/CMakeLists.txt).
#define REQUIRE_MONGODB_OR_SKIP()                                                                                    \
    if (server_uri().empty()) {                                                                                      \
        std::cout << "VA_TEST_SKIPPED: VOICEAGENT_TEST_MONGODB_URI is not set (Debian has no MongoDB server)\n";     \
        return;                                                                                                      \
    }

// Databases this test made, dropped when it ends (Catch runs a test case once per section, so: after each section).
class Databases {
public:
    Databases() = default;
    ~Databases() {
        if (m_names.empty()) return;
        mongoc_client_t* client = mongoc_client_new(server_uri().c_str());
        if (!client) return;
        for (const auto& name : m_names) {
            mongoc_database_t* db = mongoc_client_get_database(client, name.c_str());
            bson_error_t error;
            if (!mongoc_database_drop_with_opts(db, nullptr, &error))
                std::cerr << "could not drop test database " << name << ": " << error.message << "\n";
            mongoc_database_destroy(db);
        }
        mongoc_client_destroy(client);
    }
    Databases(const Databases&) = delete;
    Databases& operator=(const Databases&) = delete;

    std::string fresh() {
        m_names.push_back(va::to_lower(va::new_id("vatest")));
        return m_names.back();
    }

private:
    std::vector<std::string> m_names;
};

va::MongoOptions options_for(const std::string& database, int pool = 8) {
    va::MongoOptions options;
    options.uri = server_uri();
    options.database = database;
    options.pool_max = pool;
    return options;
}

std::unique_ptr<va::Store> open_or_fail(const std::string& database, int pool = 8) {
    auto store = va::open_mongo_store(options_for(database, pool));
    if (!store) FAIL(store.error().message);
    return std::move(store).value();
}

// A raw client of our own, for looking at (and tampering with) what the store wrote.
struct RawCollection {
    mongoc_client_t* client = nullptr;
    mongoc_collection_t* collection = nullptr;
    RawCollection(const std::string& database, const char* name) {
        client = mongoc_client_new(server_uri().c_str());
        REQUIRE(client != nullptr);
        collection = mongoc_client_get_collection(client, database.c_str(), name);
    }
    ~RawCollection() {
        mongoc_collection_destroy(collection);
        mongoc_client_destroy(client);
    }
    RawCollection(const RawCollection&) = delete;
    RawCollection& operator=(const RawCollection&) = delete;

    std::vector<std::string> index_names() {
        std::vector<std::string> names;
        mongoc_cursor_t* cursor = mongoc_collection_find_indexes_with_opts(collection, nullptr);
        const bson_t* doc = nullptr;
        while (mongoc_cursor_next(cursor, &doc)) names.push_back(va::mongo::get_string(doc, "name"));
        mongoc_cursor_destroy(cursor);
        return names;
    }
};

}  // namespace

// --- without a server --------------------------------------------------------------------------------------------

TEST_CASE("mongo: the database comes from the options, else the URI's path, else voiceagent") {
    va::MongoOptions o;
    o.uri = "mongodb://db1.example.com:27017,db2.example.com/calls?replicaSet=rs0";
    CHECK(*va::mongo_database_name(o) == "calls");
    o.database = "explicit";
    CHECK(*va::mongo_database_name(o) == "explicit");
    o.database.clear();
    o.uri = "mongodb://localhost";
    CHECK(*va::mongo_database_name(o) == "voiceagent");
    o.uri = "mongodb://localhost/";
    CHECK(*va::mongo_database_name(o) == "voiceagent");
    o.uri = "mongodb://user:pw@localhost:27017/app?authSource=admin";
    CHECK(*va::mongo_database_name(o) == "app");
}

TEST_CASE("mongo: an invalid URI is refused, and the message does not repeat its password") {
    va::MongoOptions o;
    o.uri = "http://localhost/db";
    auto bad_scheme = va::mongo_database_name(o);
    REQUIRE_FALSE(bad_scheme);
    CHECK(bad_scheme.error().code == va::ErrorCode::invalid_request);
    CHECK(bad_scheme.error().message.find("invalid MongoDB URI") != std::string::npos);

    o.uri = "mongodb://admin:s3cretPassw0rd@/db";  // no host
    auto opened = va::open_mongo_store(o);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == va::ErrorCode::invalid_request);
    CHECK(opened.error().message.find("s3cretPassw0rd") == std::string::npos);
    CHECK(va::mongo::scrub("could not use mongodb://admin:s3cretPassw0rd@host", o.uri).find("s3cretPassw0rd") ==
          std::string::npos);
    CHECK(va::mongo::scrub("password s3cretPassw0rd rejected", o.uri) == "password [redacted] rejected");
    CHECK(va::mongo::scrub("plain message", "mongodb://localhost/db") == "plain message");
}

TEST_CASE("mongo: a server that does not answer is unavailable at open, not later") {
    va::MongoOptions o;
    o.uri = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300&connectTimeoutMS=300";
    auto opened = va::open_mongo_store(o);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().code == va::ErrorCode::unavailable);
    CHECK(opened.error().message.find("cannot reach MongoDB") != std::string::npos);
}

TEST_CASE("mongo: driver errors map onto the store's error codes") {
    bson_error_t duplicate{};
    bson_set_error(&duplicate, MONGOC_ERROR_SERVER, 11000, "E11000 duplicate key error collection: x.users");
    auto conflict = va::mongo::to_error(duplicate, "insert", "a user with email a@b.c already exists");
    CHECK(conflict.code == va::ErrorCode::conflict);
    CHECK(conflict.message == "a user with email a@b.c already exists");
    CHECK(va::mongo::to_error(duplicate, "insert").message == "already exists");

    bson_error_t stream{};
    bson_set_error(&stream, MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET, "socket error");
    CHECK(va::mongo::to_error(stream, "find").code == va::ErrorCode::unavailable);
    CHECK(va::mongo::to_error(stream, "find").transient());
    bson_error_t selection{};
    bson_set_error(&selection, MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE, "no primary");
    CHECK(va::mongo::to_error(selection, "find").code == va::ErrorCode::unavailable);
    bson_error_t stepped_down{};
    bson_set_error(&stepped_down, MONGOC_ERROR_SERVER, 10107, "not primary");
    CHECK(va::mongo::to_error(stepped_down, "update").code == va::ErrorCode::unavailable);
    bson_error_t bad{};
    bson_set_error(&bad, MONGOC_ERROR_SERVER, 2, "BadValue");
    auto internal = va::mongo::to_error(bad, "update of calls");
    CHECK(internal.code == va::ErrorCode::internal);
    CHECK(internal.message == "mongodb update of calls: BadValue");
}

TEST_CASE("mongo: merging contact variables keeps the stored order and follows RFC 7396") {
    using va::mongo::merge_json;
    CHECK(*merge_json(R"({"first_name":"Ann"})", R"({"city":"Oslo"})") == R"({"first_name":"Ann","city":"Oslo"})");
    CHECK(*merge_json(R"({"b":1,"a":2})", R"({"a":3})") == R"({"b":1,"a":3})");
    CHECK(*merge_json(R"({"b":1,"a":2})", R"({"b":null})") == R"({"a":2})");
    CHECK(*merge_json(R"({"x":{"y":1,"z":2}})", R"({"x":{"z":3}})") == R"({"x":{"y":1,"z":3}})");
    CHECK(*merge_json("", R"({"a":1})") == R"({"a":1})");
    CHECK(*merge_json(R"({"a":1})", "{}") == R"({"a":1})");
    CHECK_FALSE(merge_json("{not json", "{}"));
    CHECK_FALSE(merge_json("{}", "[unterminated"));
}

TEST_CASE("mongo: the builder nests documents and arrays as written") {
    std::vector<Bson> stages;
    stages.push_back(Bson().add("$match", Bson().add("k", "v")));
    stages.push_back(Bson().add("$limit", 2));
    Bson doc = Bson()
                   .add("_id", "x")
                   .add("n", 3)
                   .add("big", std::int64_t{1} << 40)
                   .add("ok", true)
                   .add("d", 1.5)
                   .add("in", Bson().add("$in", std::vector<std::string>{"a", "b"}))
                   .add("docs", stages);
    CHECK(doc.json() ==
          R"({ "_id" : "x", "n" : 3, "big" : 1099511627776, "ok" : true, "d" : 1.5, "in" : { "$in" : [ "a", "b" ] }, )"
          R"("docs" : [ { "$match" : { "k" : "v" } }, { "$limit" : 2 } ] })");
    CHECK(va::mongo::get_int(doc.get(), "big") == (std::int64_t{1} << 40));
    CHECK(va::mongo::get_int(doc.get(), "n") == 3);
    CHECK(va::mongo::get_int(doc.get(), "ok") == 1);
    CHECK(va::mongo::get_double(doc.get(), "n") == 3.0);
    CHECK(va::mongo::get_int(doc.get(), "_id") == 0);      // a string is not a number
    CHECK(va::mongo::get_string(doc.get(), "n").empty());  // nor a number a string
    CHECK(va::mongo::get_string(doc.get(), "missing").empty());
    auto sub = va::mongo::get_document(doc.get(), "in");
    REQUIRE(sub);
    CHECK(sub->json() == R"({ "$in" : [ "a", "b" ] })");
    CHECK_FALSE(va::mongo::get_document(doc.get(), "n"));
    Bson moved = std::move(doc);
    CHECK(va::mongo::get_string(moved.get(), "_id") == "x");
    std::string with_nul("a\0b", 3);
    CHECK(va::mongo::get_string(Bson().add("s", with_nul).get(), "s") == with_nul);
}

TEST_CASE("mongo: every record survives the trip through its document") {
    using namespace va::mongo;
    va::User u{"usr_1", "ws_1", "a@b.c", "Ann", "admin", "$argon2id$x", true, 10, 20};
    auto u2 = user_from(to_doc(u).get());
    CHECK(std::tie(u2.id, u2.workspace_id, u2.email, u2.name, u2.role, u2.password_hash, u2.disabled, u2.created_at,
                   u2.updated_at) == std::tie(u.id, u.workspace_id, u.email, u.name, u.role, u.password_hash,
                                              u.disabled, u.created_at, u.updated_at));
    CHECK(get_string(to_doc(u).get(), "_id") == "usr_1");

    va::ApiKey k{"key_1", "ws_1", "", "ci", "member", "vak_ab", "hash", 1, 2, 3};
    auto k2 = api_key_from(to_doc(k).get());
    CHECK(std::tie(k2.id, k2.workspace_id, k2.user_id, k2.name, k2.role, k2.prefix, k2.key_hash, k2.created_at,
                   k2.last_used_at, k2.revoked_at) == std::tie(k.id, k.workspace_id, k.user_id, k.name, k.role, k.prefix,
                                                               k.key_hash, k.created_at, k.last_used_at, k.revoked_at));

    va::RefreshToken t{"rft_1", "fam", "usr_1", "h", 1, 2, 3, "rft_2"};
    auto t2 = refresh_token_from(to_doc(t).get());
    CHECK(std::tie(t2.id, t2.family_id, t2.user_id, t2.token_hash, t2.created_at, t2.expires_at, t2.revoked_at,
                   t2.replaced_by) == std::tie(t.id, t.family_id, t.user_id, t.token_hash, t.created_at, t.expires_at,
                                               t.revoked_at, t.replaced_by));

    va::Agent a{"agt_1", "ws_1", "front", R"({"name":"front"})", 7, 1, 2, ""};
    auto a2 = agent_from(to_doc(a).get());
    CHECK(std::tie(a2.id, a2.workspace_id, a2.name, a2.definition, a2.version, a2.created_at, a2.updated_at) ==
          std::tie(a.id, a.workspace_id, a.name, a.definition, a.version, a.created_at, a.updated_at));

    va::AgentVersion v{"agt_1", "ws_1", 7, "front", R"({"name":"front"})", 2, "usr_1"};
    CHECK(get_string(to_doc(v).get(), "_id") == "agt_1:7");
    auto v2 = agent_version_from(to_doc(v).get());
    CHECK(std::tie(v2.agent_id, v2.workspace_id, v2.version, v2.name, v2.definition, v2.updated_at, v2.updated_by) ==
          std::tie(v.agent_id, v.workspace_id, v.version, v.name, v.definition, v.updated_at, v.updated_by));

    va::PhoneNumber p{"phn_1", "ws_1", "+15550001111", "twilio", "agt_1", "main", 1, 2};
    auto p2 = phone_from(to_doc(p).get());
    CHECK(std::tie(p2.id, p2.workspace_id, p2.number, p2.provider, p2.agent_id, p2.label, p2.created_at, p2.updated_at) ==
          std::tie(p.id, p.workspace_id, p.number, p.provider, p.agent_id, p.label, p.created_at, p.updated_at));

    va::Call c;
    c.id = "call_1";
    c.workspace_id = "ws_1";
    c.agent_id = "agt_1";
    c.phone_id = "phn_1";
    c.campaign_id = "cmp_1";
    c.direction = "outbound";
    c.channel = "twilio";
    c.from_number = "+1";
    c.to_number = "+2";
    c.status = "completed";
    c.provider_call_id = "CA1";
    c.end_reason = "hangup";
    c.summary = "s";
    c.metrics = R"({"m":1})";
    c.outcome = "answered";
    c.analysis = R"({"fields":{}})";
    c.instance_id = "daemon-a";
    c.created_at = 1;
    c.started_at = 2;
    c.answered_at = 3;
    c.ended_at = 4;
    c.duration_s = 12.5;
    auto c2 = call_from(to_doc(c).get());
    CHECK(std::tie(c2.id, c2.workspace_id, c2.agent_id, c2.phone_id, c2.campaign_id, c2.direction, c2.channel,
                   c2.from_number, c2.to_number, c2.status, c2.provider_call_id, c2.end_reason, c2.summary, c2.metrics,
                   c2.outcome, c2.analysis, c2.instance_id, c2.created_at, c2.started_at, c2.answered_at, c2.ended_at) ==
          std::tie(c.id, c.workspace_id, c.agent_id, c.phone_id, c.campaign_id, c.direction, c.channel, c.from_number,
                   c.to_number, c.status, c.provider_call_id, c.end_reason, c.summary, c.metrics, c.outcome, c.analysis,
                   c.instance_id, c.created_at, c.started_at, c.answered_at, c.ended_at));
    CHECK(c2.duration_s == 12.5);
    va::Call bare;
    bare.metrics.clear();
    bare.analysis.clear();
    CHECK(call_from(to_doc(bare).get()).metrics == "{}");  // SQLite's column defaults
    CHECK(call_from(to_doc(bare).get()).analysis == "{}");

    va::CallTurn turn{"call_1", 4, "agent", "Hello", 10, 20, true, "llm"};
    auto turn2 = turn_from(to_doc(turn).get());
    CHECK(std::tie(turn2.call_id, turn2.seq, turn2.role, turn2.text, turn2.started_ms, turn2.ended_ms,
                   turn2.interrupted, turn2.source) == std::tie(turn.call_id, turn.seq, turn.role, turn.text,
                                                                turn.started_ms, turn.ended_ms, turn.interrupted,
                                                                turn.source));

    va::Instance i{"daemon-a", "http://10.0.0.1:8700", 5, 6};
    auto i2 = instance_from(to_doc(i).get());
    CHECK(std::tie(i2.id, i2.base_url, i2.started_at, i2.heartbeat_at) ==
          std::tie(i.id, i.base_url, i.started_at, i.heartbeat_at));

    va::Job j;
    j.id = "job_1";
    j.type = "dial";
    j.payload = R"({"n":1})";
    j.state = "running";
    j.priority = -3;
    j.attempts = 2;
    j.max_attempts = 9;
    j.run_after = 100;
    j.lease_owner = "w1";
    j.lease_expires = 200;
    j.last_error = "busy";
    j.idempotency_key = "k";
    j.created_at = 1;
    j.updated_at = 2;
    auto j2 = job_from(to_doc(j).get());
    CHECK(std::tie(j2.id, j2.type, j2.payload, j2.state, j2.priority, j2.attempts, j2.max_attempts, j2.run_after,
                   j2.lease_owner, j2.lease_expires, j2.last_error, j2.idempotency_key, j2.created_at, j2.updated_at) ==
          std::tie(j.id, j.type, j.payload, j.state, j.priority, j.attempts, j.max_attempts, j.run_after, j.lease_owner,
                   j.lease_expires, j.last_error, j.idempotency_key, j.created_at, j.updated_at));
    j.idempotency_key.clear();
    CHECK_FALSE(has_field(to_doc(j).get(), "idempotency_key"));  // the partial unique index skips it

    va::WebhookEndpoint e{"whk_1", "ws_1", "https://x", "whsec", R"(["call:ended"])", "note", false, 9};
    auto e2 = endpoint_from(to_doc(e).get());
    CHECK(std::tie(e2.id, e2.workspace_id, e2.url, e2.secret, e2.events, e2.description, e2.enabled, e2.created_at) ==
          std::tie(e.id, e.workspace_id, e.url, e.secret, e.events, e.description, e.enabled, e.created_at));

    va::WebhookDelivery d{"dlv_1", "whk_1", "call:ended", "{}", "failed", 3, 50, 503, "timeout", 1, 0};
    auto d2 = delivery_from(to_doc(d).get());
    CHECK(std::tie(d2.id, d2.endpoint_id, d2.event_type, d2.payload, d2.state, d2.attempts, d2.next_attempt_at,
                   d2.last_status, d2.last_error, d2.created_at, d2.delivered_at) ==
          std::tie(d.id, d.endpoint_id, d.event_type, d.payload, d.state, d.attempts, d.next_attempt_at, d.last_status,
                   d.last_error, d.created_at, d.delivered_at));

    va::Campaign cmp{"cmp_1", "ws_1", "agt_1", "phn_1", "renewals", "running", R"({"concurrency":2})", 1, 2, 3, 4};
    auto cmp2 = campaign_from(to_doc(cmp).get());
    CHECK(std::tie(cmp2.id, cmp2.workspace_id, cmp2.agent_id, cmp2.phone_id, cmp2.name, cmp2.status, cmp2.config,
                   cmp2.created_at, cmp2.updated_at, cmp2.started_at, cmp2.finished_at) ==
          std::tie(cmp.id, cmp.workspace_id, cmp.agent_id, cmp.phone_id, cmp.name, cmp.status, cmp.config,
                   cmp.created_at, cmp.updated_at, cmp.started_at, cmp.finished_at));

    va::CampaignContact k1{"cct_1", "cmp_1", "ws_1", "+1", "Europe/Oslo", R"({"a":1})", "pending", 2, "call_9",
                           "busy", 77, 1, 2};
    auto k12 = contact_from(to_doc(k1).get());
    CHECK(std::tie(k12.id, k12.campaign_id, k12.workspace_id, k12.phone, k12.timezone, k12.variables, k12.state,
                   k12.attempts, k12.last_call_id, k12.last_outcome, k12.next_attempt_at, k12.created_at,
                   k12.updated_at) == std::tie(k1.id, k1.campaign_id, k1.workspace_id, k1.phone, k1.timezone,
                                               k1.variables, k1.state, k1.attempts, k1.last_call_id, k1.last_outcome,
                                               k1.next_attempt_at, k1.created_at, k1.updated_at));
    CHECK_FALSE(has_field(to_doc(k1).get(), "slot"));  // only dialing contacts hold a slot
    k1.state = "dialing";
    CHECK(get_string(to_doc(k1).get(), "slot") == "cct_1");  // its own, outside the numbered ones

    va::DncEntry n{"dnc_1", "ws_1", "+1", "asked", 5};
    auto n2 = dnc_from(to_doc(n).get());
    CHECK(std::tie(n2.id, n2.workspace_id, n2.phone, n2.reason, n2.created_at) ==
          std::tie(n.id, n.workspace_id, n.phone, n.reason, n.created_at));

    Bson day = Bson().add("workspace_id", "ws_1").add("agent_id", "agt_1").add("day", "2026-11-29").add("stats", "{}");
    auto day2 = analytics_from(day.get());
    CHECK(day2.day == "2026-11-29");
    CHECK(day2.agent_id == "agt_1");

    // Fields written by another program as int32 or double still read.
    Bson foreign = Bson().add("attempts", 2.0).add("created_at", 5).add("disabled", 1);
    CHECK(contact_from(foreign.get()).attempts == 2);
    CHECK(user_from(foreign.get()).created_at == 5);
    CHECK(user_from(foreign.get()).disabled);
}

// --- against a server --------------------------------------------------------------------------------------------

TEST_CASE("mongo: the store contract", "[store]") {
    REQUIRE_MONGODB_OR_SKIP();
    Databases databases;
    contract::run_store_contract([&] { return open_or_fail(databases.fresh()); });
}

TEST_CASE("mongo: the schema version is recorded and the unique indexes are in place") {
    REQUIRE_MONGODB_OR_SKIP();
    Databases databases;
    auto name = databases.fresh();
    auto store = open_or_fail(name);
    CHECK(*store->schema_version() == va::mongo_schema_version());
    CHECK(va::mongo_schema_version() >= 1);
    for (const auto& [collection, index] : std::vector<std::pair<const char*, const char*>>{
             {"users", "email_unique"},
             {"api_keys", "key_hash_unique"},
             {"refresh_tokens", "token_hash_unique"},
             {"agents", "workspace_name_unique"},
             {"phone_numbers", "number_unique"},
             {"call_turns", "call_seq_unique"},
             {"idempotency_keys", "workspace_key_unique"},
             {"jobs", "idempotency_key_unique"},
             {"campaign_contacts", "campaign_phone_unique"},
             {"campaign_contacts", "dialing_slot_unique"},
             {"dnc_numbers", "workspace_phone_unique"},
             {"analytics_daily", "day_unique"}}) {
        RawCollection raw(name, collection);
        auto names = raw.index_names();
        INFO(collection << "." << index);
        CHECK(std::find(names.begin(), names.end(), index) != names.end());
    }
}

TEST_CASE("mongo: data survives close and reopen") {
    REQUIRE_MONGODB_OR_SKIP();
    Databases databases;
    auto name = databases.fresh();
    std::string agent_id, call_id;
    {
        auto store = open_or_fail(name);
        auto ws = contract::workspace(*store);
        agent_id = contract::agent(*store, ws, "keeper").id;
        call_id = contract::call(*store, ws, agent_id).id;
        REQUIRE(store->append_turn({call_id, 0, "user", "remember me", 0, 0, false, ""}));
    }
    for (int round = 0; round < 2; ++round) {
        auto store = open_or_fail(name, 3);
        auto ws = store->list_workspaces({});
        REQUIRE(ws->items.size() == 1);
        CHECK(store->get_agent(ws->items[0].id, agent_id)->name == "keeper");
        auto turns = store->list_turns(call_id);
        REQUIRE(turns->size() == 1);
        CHECK((*turns)[0].text == "remember me");
        CHECK(store->append_turn({call_id, 0, "agent", "I remember", 0, 0, false, ""})->seq == round + 2);
        CHECK(*store->schema_version() == va::mongo_schema_version());
    }
}

TEST_CASE("mongo: a database from a newer version is refused with a clear message") {
    REQUIRE_MONGODB_OR_SKIP();
    Databases databases;
    auto name = databases.fresh();
    open_or_fail(name);
    const int future = va::mongo_schema_version() + 1;
    {
        RawCollection meta(name, "meta");
        Bson filter = Bson().add("_id", "schema");
        Bson update = Bson().add("$set", Bson().add("version", future));
        bson_error_t error;
        REQUIRE(mongoc_collection_update_one(meta.collection, filter.get(), update.get(), nullptr, nullptr, &error));
    }
    auto refused = va::open_mongo_store(options_for(name));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == va::ErrorCode::unprocessable);
    const auto& message = refused.error().message;
    CHECK(message.find("database schema version " + std::to_string(future) + " is newer than this build supports (" +
                       std::to_string(va::mongo_schema_version()) + ")") != std::string::npos);
    CHECK(message.find("upgrade voiceagentd") != std::string::npos);
}

TEST_CASE("mongo: references to missing records are refused, as SQLite's foreign keys refuse them") {
    REQUIRE_MONGODB_OR_SKIP();
    Databases databases;
    auto store = open_or_fail(databases.fresh());
    CHECK(store->append_turn({"call_none", 1, "user", "x", 0, 0, false, ""}).error().code == va::ErrorCode::not_found);
    auto ws = contract::workspace(*store);
    auto phone = store->create_phone({va::new_id("phn"), ws.id, "+15550001111", "twilio", "agt_none", "", 1, 1});
    REQUIRE_FALSE(phone);
    CHECK(phone.error().code == va::ErrorCode::invalid_request);
    auto user = store->create_user({va::new_id("usr"), "ws_none", "x@example.com", "", "member", "", false, 1, 1});
    REQUIRE_FALSE(user);
    CHECK(user.error().code == va::ErrorCode::invalid_request);
}

TEST_CASE("mongo: deleting a user removes their refresh tokens") {
    REQUIRE_MONGODB_OR_SKIP();
    Databases databases;
    auto store = open_or_fail(databases.fresh());
    auto ws = contract::workspace(*store);
    auto u = contract::user(*store, ws, "leaver@example.com");
    REQUIRE(store->create_refresh_token({va::new_id("rft"), "fam", u.id, "rt-leaver", 1, 100, 0, ""}));
    REQUIRE(store->delete_user(ws.id, u.id));
    CHECK(store->find_refresh_token_by_hash("rt-leaver").error().code == va::ErrorCode::not_found);
}

TEST_CASE("mongo: several stores open one fresh database at once and share it") {
    REQUIRE_MONGODB_OR_SKIP();
    Databases databases;
    auto name = databases.fresh();
    constexpr int kStores = 4;
    std::vector<std::unique_ptr<va::Store>> stores(kStores);
    std::vector<std::string> errors(kStores);
    {
        std::vector<std::thread> openers;
        for (int i = 0; i < kStores; ++i)
            openers.emplace_back([&, i] {
                auto s = va::open_mongo_store(options_for(name, 2));
                if (s) stores[static_cast<std::size_t>(i)] = std::move(s).value();
                else errors[static_cast<std::size_t>(i)] = s.error().message;
            });
        for (auto& t : openers) t.join();
    }
    for (int i = 0; i < kStores; ++i) {
        INFO("store " << i << ": " << errors[static_cast<std::size_t>(i)]);
        REQUIRE(stores[static_cast<std::size_t>(i)]);
    }
    auto ws = contract::workspace(*stores[0]);
    auto c = contract::call(*stores[0], ws, "agt_1");
    std::atomic<int> failures{0};
    std::vector<std::thread> writers;
    for (int i = 0; i < kStores; ++i)
        writers.emplace_back([&, i] {
            for (int j = 0; j < 50; ++j)
                if (!stores[static_cast<std::size_t>(i)]->append_turn({c.id, 0, "user", "x", 0, 0, false, ""}))
                    ++failures;
        });
    for (auto& t : writers) t.join();
    CHECK(failures == 0);
    auto turns = stores[1]->list_turns(c.id);
    REQUIRE(turns->size() == kStores * 50);
    CHECK(turns->back().seq == kStores * 50);
    CHECK(*stores[2]->schema_version() == va::mongo_schema_version());
}

TEST_CASE("mongo: campaign slots hold the limit across stores, and ending an attempt frees its slot") {
    REQUIRE_MONGODB_OR_SKIP();
    Databases databases;
    auto name = databases.fresh();
    auto first = open_or_fail(name);
    auto second = open_or_fail(name);
    auto ws = contract::workspace(*first);
    auto a = contract::agent(*first, ws, "caller");
    va::Campaign c;
    c.id = va::new_id("cmp");
    c.workspace_id = ws.id;
    c.agent_id = a.id;
    c.name = "slots";
    c.created_at = c.updated_at = va::now_ms();
    REQUIRE(first->create_campaign(c));
    std::vector<va::CampaignContact> people;
    for (int i = 0; i < 40; ++i) people.push_back(contract::contact(c, "+1415666" + std::to_string(1000 + i)));
    REQUIRE(*first->add_campaign_contacts(people) == 40);
    std::atomic<int> claimed{0};
    std::vector<std::thread> dispatchers;
    for (int t = 0; t < 6; ++t)
        dispatchers.emplace_back([&, t] {
            auto& store = t % 2 ? *first : *second;
            for (int round = 0; round < 5; ++round) {
                auto got = store.claim_campaign_contacts(c.id, 3, va::now_ms(), 3);
                if (got) claimed += int(got->size());
            }
        });
    for (auto& t : dispatchers) t.join();
    CHECK(claimed.load() == 3);
    auto dialing = second->list_dialing_contacts(c.id);
    REQUIRE(dialing->size() == 3);
    REQUIRE(first->end_contact_attempt({(*dialing)[0].id, 1, "done", "answered", 0, false, va::now_ms()}));
    auto next = second->claim_campaign_contacts(c.id, 3, va::now_ms(), 3);
    REQUIRE(next);
    CHECK(next->size() == 1);
    CHECK(first->list_dialing_contacts(c.id)->size() == 3);
}
