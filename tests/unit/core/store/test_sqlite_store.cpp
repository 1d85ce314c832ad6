#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "store_contract.hpp"

namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/va-store-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

std::vector<std::unique_ptr<TempDir>>& dirs() {
    static std::vector<std::unique_ptr<TempDir>> d;
    return d;
}

std::string sqlite_query(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    std::string out;
    if (stmt && sqlite3_step(stmt) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

}  // namespace

std::unique_ptr<va::Store> make_contract_store() {
    dirs().push_back(std::make_unique<TempDir>());
    auto store = va::open_sqlite_store({(dirs().back()->path / "contract.db").string(), 5000, 4});
    REQUIRE(store);
    return std::move(store).value();
}

TEST_CASE("sqlite: WAL, foreign keys and the schema version are in place") {
    TempDir dir;
    auto path = (dir.path / "v.db").string();
    {
        auto store = va::open_sqlite_store({path, 5000, 2});
        REQUIRE(store);
        CHECK(*(*store)->schema_version() == va::sqlite_schema_version());
    }
    CHECK(sqlite_query(path, "PRAGMA journal_mode") == "wal");
    CHECK(sqlite_query(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('workspaces', "
                             "'users', 'api_keys', 'refresh_tokens', 'agents', 'phone_numbers', 'calls', 'call_turns', "
                             "'campaigns', 'campaign_contacts', 'jobs', 'webhook_endpoints', 'webhook_deliveries')") ==
          "13");
    // Foreign keys are enforced by the store's connections: a turn for a missing call is refused.
    auto store = va::open_sqlite_store({path, 5000, 2});
    REQUIRE(store);
    CHECK_FALSE((*store)->append_turn({"call_none", 1, "user", "x", 0, 0, false, ""}));
}

TEST_CASE("sqlite: data survives close and reopen, and migrations run once") {
    TempDir dir;
    auto path = (dir.path / "p.db").string();
    std::string agent_id;
    {
        auto store = va::open_sqlite_store({path, 5000, 2});
        REQUIRE(store);
        auto ws = contract::workspace(**store);
        agent_id = contract::agent(**store, ws, "keeper").id;
    }
    auto store = va::open_sqlite_store({path, 5000, 2});
    REQUIRE(store);
    auto ws = (*store)->list_workspaces({});
    REQUIRE(ws->items.size() == 1);
    CHECK((*store)->get_agent(ws->items[0].id, agent_id)->name == "keeper");
    CHECK(sqlite_query(path, "SELECT COUNT(*) FROM schema_migrations") == std::to_string(va::sqlite_schema_version()));
}

TEST_CASE("sqlite: a database from a newer version is refused with a clear message") {
    TempDir dir;
    auto path = (dir.path / "n.db").string();
    { REQUIRE(va::open_sqlite_store({path, 5000, 1})); }
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'from the future', 0)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    auto refused = va::open_sqlite_store({path, 5000, 1});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("newer than this build supports") != std::string::npos);
    CHECK(refused.error().message.find("999") != std::string::npos);
}

TEST_CASE("sqlite: an in-memory store works (one shared connection)") {
    auto store = va::open_sqlite_store({":memory:", 5000, 8});
    REQUIRE(store);
    auto ws = contract::workspace(**store);
    CHECK((*store)->get_workspace(ws.id));
}
