// SQLite implementation of Store: a small pool of connections (WAL lets readers run beside the one writer), each
// with its prepared statements cached, and versioned migrations applied at open.
#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "core/store/sqlite_migrations.hpp"
#include "core/store/store.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"

namespace va {

namespace {

// An optional text value: empty binds as NULL, NULL reads as empty.
struct Nullable {
    const std::string& value;
};

Error sqlite_error(sqlite3* db, const std::string& what) {
    int code = sqlite3_extended_errcode(db);
    std::string message = what + ": " + sqlite3_errmsg(db);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED || (code & 0xff) == SQLITE_BUSY)
        return make_error(ErrorCode::unavailable, message);
    return make_error(ErrorCode::internal, message);
}

class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    ~Statement() {
        if (m_stmt) {
            sqlite3_reset(m_stmt);
            sqlite3_clear_bindings(m_stmt);
        }
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    template <class... Args>
    Statement& bind(const Args&... args) {
        int index = 1;
        (bind_one(index++, args), ...);
        return *this;
    }

    // SQLITE_ROW -> true, SQLITE_DONE -> false, anything else -> error
    Result<bool> step() {
        int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        return sqlite_error(m_db, "sqlite step");
    }
    int last_code() const { return sqlite3_extended_errcode(m_db); }
    int changes() const { return sqlite3_changes(m_db); }

    std::string text(int col) const {
        auto p = sqlite3_column_text(m_stmt, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col)))
                 : std::string();
    }
    std::int64_t integer(int col) const { return sqlite3_column_int64(m_stmt, col); }
    double real(int col) const { return sqlite3_column_double(m_stmt, col); }

private:
    void bind_one(int i, const std::string& v) { sqlite3_bind_text(m_stmt, i, v.data(), int(v.size()), SQLITE_TRANSIENT); }
    void bind_one(int i, const char* v) { sqlite3_bind_text(m_stmt, i, v, -1, SQLITE_TRANSIENT); }
    void bind_one(int i, std::int64_t v) { sqlite3_bind_int64(m_stmt, i, v); }
    void bind_one(int i, int v) { sqlite3_bind_int64(m_stmt, i, v); }
    void bind_one(int i, bool v) { sqlite3_bind_int(m_stmt, i, v ? 1 : 0); }
    void bind_one(int i, double v) { sqlite3_bind_double(m_stmt, i, v); }
    void bind_one(int i, const Nullable& v) {
        if (v.value.empty()) sqlite3_bind_null(m_stmt, i);
        else bind_one(i, v.value);
    }

    sqlite3* m_db;
    sqlite3_stmt* m_stmt;
};

class Connection {
public:
    explicit Connection(sqlite3* db) : m_db(db) {}
    ~Connection() {
        for (auto& [sql, stmt] : m_cache) sqlite3_finalize(stmt);
        sqlite3_close_v2(m_db);
    }
    sqlite3* db() const { return m_db; }

    Result<sqlite3_stmt*> prepare(const char* sql) {
        auto it = m_cache.find(sql);
        if (it != m_cache.end()) return it->second;
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
            return sqlite_error(m_db, "sqlite prepare");
        m_cache.emplace(sql, stmt);
        return stmt;
    }

    Status exec(const char* sql) {
        char* err = nullptr;
        int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &err);
        if (rc != SQLITE_OK) {
            std::string message = std::string("sqlite: ") + (err ? err : sqlite3_errstr(rc));
            sqlite3_free(err);
            // A writer holding the lock past busy_timeout is load, not a bug: let callers retry.
            if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
                return make_error(ErrorCode::unavailable, message);
            return make_error(ErrorCode::internal, message);
        }
        return Ok{};
    }

private:
    sqlite3* m_db;
    // Keyed by the SQL text's address: every statement is a string literal of this file.
    // By the statement's text, not its address: a few statements are built at run time (job claims by type).
    std::unordered_map<std::string, sqlite3_stmt*> m_cache;
};

Result<std::unique_ptr<Connection>> open_connection(const SqliteOptions& options) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        std::string message = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close_v2(db);
        return make_error(ErrorCode::internal, "cannot open " + options.path + ": " + message);
    }
    auto conn = std::make_unique<Connection>(db);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"}) {
        if (auto s = conn->exec(pragma); !s) return s.take_error();
    }
    return conn;
}

// --- column lists and row readers (kept next to each other so they cannot drift apart) ------------------------

#define WORKSPACE_COLS "id, name, created_at"
Workspace read_workspace(const Statement& s) { return Workspace{s.text(0), s.text(1), s.integer(2)}; }

#define USER_COLS "id, workspace_id, email, name, role, password_hash, disabled, created_at, updated_at"
User read_user(const Statement& s) {
    User u;
    u.id = s.text(0);
    u.workspace_id = s.text(1);
    u.email = s.text(2);
    u.name = s.text(3);
    u.role = s.text(4);
    u.password_hash = s.text(5);
    u.disabled = s.integer(6) != 0;
    u.created_at = s.integer(7);
    u.updated_at = s.integer(8);
    return u;
}

#define KEY_COLS "id, workspace_id, user_id, name, role, prefix, key_hash, created_at, last_used_at, revoked_at"
ApiKey read_key(const Statement& s) {
    ApiKey k;
    k.id = s.text(0);
    k.workspace_id = s.text(1);
    k.user_id = s.text(2);
    k.name = s.text(3);
    k.role = s.text(4);
    k.prefix = s.text(5);
    k.key_hash = s.text(6);
    k.created_at = s.integer(7);
    k.last_used_at = s.integer(8);
    k.revoked_at = s.integer(9);
    return k;
}

#define REFRESH_COLS "id, family_id, user_id, token_hash, created_at, expires_at, revoked_at, replaced_by"
RefreshToken read_refresh(const Statement& s) {
    RefreshToken t;
    t.id = s.text(0);
    t.family_id = s.text(1);
    t.user_id = s.text(2);
    t.token_hash = s.text(3);
    t.created_at = s.integer(4);
    t.expires_at = s.integer(5);
    t.revoked_at = s.integer(6);
    t.replaced_by = s.text(7);
    return t;
}

#define AGENT_COLS "id, workspace_id, name, definition, version, created_at, updated_at"
Agent read_agent(const Statement& s) {
    Agent a;
    a.id = s.text(0);
    a.workspace_id = s.text(1);
    a.name = s.text(2);
    a.definition = s.text(3);
    a.version = s.integer(4);
    a.created_at = s.integer(5);
    a.updated_at = s.integer(6);
    return a;
}

#define AGENT_VERSION_COLS "agent_id, workspace_id, version, name, definition, updated_at, updated_by"
AgentVersion read_agent_version(const Statement& s) {
    AgentVersion v;
    v.agent_id = s.text(0);
    v.workspace_id = s.text(1);
    v.version = s.integer(2);
    v.name = s.text(3);
    v.definition = s.text(4);
    v.updated_at = s.integer(5);
    v.updated_by = s.text(6);
    return v;
}

#define PHONE_COLS "id, workspace_id, number, provider, agent_id, label, created_at, updated_at"
PhoneNumber read_phone(const Statement& s) {
    PhoneNumber p;
    p.id = s.text(0);
    p.workspace_id = s.text(1);
    p.number = s.text(2);
    p.provider = s.text(3);
    p.agent_id = s.text(4);
    p.label = s.text(5);
    p.created_at = s.integer(6);
    p.updated_at = s.integer(7);
    return p;
}

#define CALL_COLS                                                                                                   \
    "id, workspace_id, agent_id, phone_id, campaign_id, direction, channel, from_number, to_number, status, "       \
    "provider_call_id, end_reason, summary, metrics, created_at, started_at, answered_at, ended_at, duration_s, "   \
    "outcome, analysis, instance_id"
Call read_call(const Statement& s) {
    Call c;
    c.id = s.text(0);
    c.workspace_id = s.text(1);
    c.agent_id = s.text(2);
    c.phone_id = s.text(3);
    c.campaign_id = s.text(4);
    c.direction = s.text(5);
    c.channel = s.text(6);
    c.from_number = s.text(7);
    c.to_number = s.text(8);
    c.status = s.text(9);
    c.provider_call_id = s.text(10);
    c.end_reason = s.text(11);
    c.summary = s.text(12);
    c.metrics = s.text(13);
    c.created_at = s.integer(14);
    c.started_at = s.integer(15);
    c.answered_at = s.integer(16);
    c.ended_at = s.integer(17);
    c.duration_s = s.real(18);
    c.outcome = s.text(19);
    c.analysis = s.text(20);
    c.instance_id = s.text(21);
    return c;
}

#define INSTANCE_COLS "id, base_url, started_at, heartbeat_at"
Instance read_instance(const Statement& s) {
    Instance i;
    i.id = s.text(0);
    i.base_url = s.text(1);
    i.started_at = s.integer(2);
    i.heartbeat_at = s.integer(3);
    return i;
}

#define JOB_COLS                                                                                                    \
    "id, queue, payload, state, priority, attempts, max_attempts, run_at, locked_by, locked_until, last_error, "      \
    "COALESCE(idempotency_key, ''), created_at, updated_at"
Job read_job(const Statement& s) {
    Job j;
    j.id = s.text(0);
    j.type = s.text(1);
    j.payload = s.text(2);
    j.state = s.text(3);
    j.priority = int(s.integer(4));
    j.attempts = int(s.integer(5));
    j.max_attempts = int(s.integer(6));
    j.run_after = s.integer(7);
    j.lease_owner = s.text(8);
    j.lease_expires = s.integer(9);
    j.last_error = s.text(10);
    j.idempotency_key = s.text(11);
    j.created_at = s.integer(12);
    j.updated_at = s.integer(13);
    return j;
}

#define ENDPOINT_COLS "id, workspace_id, url, secret, events, description, enabled, created_at"
WebhookEndpoint read_endpoint(const Statement& s) {
    WebhookEndpoint e;
    e.id = s.text(0);
    e.workspace_id = s.text(1);
    e.url = s.text(2);
    e.secret = s.text(3);
    e.events = s.text(4);
    e.description = s.text(5);
    e.enabled = s.integer(6) != 0;
    e.created_at = s.integer(7);
    return e;
}

#define DELIVERY_COLS                                                                                              \
    "id, endpoint_id, event_type, payload, state, attempts, next_attempt_at, last_status, last_error, created_at, " \
    "delivered_at"
WebhookDelivery read_delivery(const Statement& s) {
    WebhookDelivery d;
    d.id = s.text(0);
    d.endpoint_id = s.text(1);
    d.event_type = s.text(2);
    d.payload = s.text(3);
    d.state = s.text(4);
    d.attempts = int(s.integer(5));
    d.next_attempt_at = s.integer(6);
    d.last_status = int(s.integer(7));
    d.last_error = s.text(8);
    d.created_at = s.integer(9);
    d.delivered_at = s.integer(10);
    return d;
}

#define CAMPAIGN_COLS \
    "id, workspace_id, agent_id, phone_id, name, status, config, created_at, updated_at, started_at, finished_at"
Campaign read_campaign(const Statement& s) {
    Campaign c;
    c.id = s.text(0);
    c.workspace_id = s.text(1);
    c.agent_id = s.text(2);
    c.phone_id = s.text(3);
    c.name = s.text(4);
    c.status = s.text(5);
    c.config = s.text(6);
    c.created_at = s.integer(7);
    c.updated_at = s.integer(8);
    c.started_at = s.integer(9);
    c.finished_at = s.integer(10);
    return c;
}

#define CONTACT_COLS                                                                                                  \
    "id, campaign_id, workspace_id, phone, timezone, variables, state, attempts, last_call_id, last_outcome, "        \
    "next_attempt_at, created_at, updated_at"
CampaignContact read_contact(const Statement& s) {
    CampaignContact c;
    c.id = s.text(0);
    c.campaign_id = s.text(1);
    c.workspace_id = s.text(2);
    c.phone = s.text(3);
    c.timezone = s.text(4);
    c.variables = s.text(5);
    c.state = s.text(6);
    c.attempts = static_cast<int>(s.integer(7));
    c.last_call_id = s.text(8);
    c.last_outcome = s.text(9);
    c.next_attempt_at = s.integer(10);
    c.created_at = s.integer(11);
    c.updated_at = s.integer(12);
    return c;
}

#define DNC_COLS "id, workspace_id, phone, reason, created_at"
DncEntry read_dnc(const Statement& s) { return DncEntry{s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4)}; }

#define TURN_COLS "call_id, seq, role, text, started_ms, ended_ms, interrupted, source"
CallTurn read_turn(const Statement& s) {
    CallTurn t;
    t.call_id = s.text(0);
    t.seq = s.integer(1);
    t.role = s.text(2);
    t.text = s.text(3);
    t.started_ms = s.integer(4);
    t.ended_ms = s.integer(5);
    t.interrupted = s.integer(6) != 0;
    t.source = s.text(7);
    return t;
}

int clamp_limit(int limit) { return std::clamp(limit, 1, 500); }

class SqliteStore final : public Store {
public:
    SqliteStore(std::vector<std::unique_ptr<Connection>> pool) : m_pool(std::move(pool)) {
        for (auto& c : m_pool) m_free.push_back(c.get());
    }

    // --- plumbing ---------------------------------------------------------------------------------------------

    class Lease {
    public:
        Lease(SqliteStore& store, Connection* conn) : m_store(store), m_conn(conn) {}
        ~Lease() { m_store.release(m_conn); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection* operator->() const { return m_conn; }
        Connection& operator*() const { return *m_conn; }

    private:
        SqliteStore& m_store;
        Connection* m_conn;
    };

    Lease acquire() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return !m_free.empty(); });
        Connection* c = m_free.back();
        m_free.pop_back();
        return Lease(*this, c);
    }
    void release(Connection* c) {
        {
            std::lock_guard lock(m_mutex);
            m_free.push_back(c);
        }
        m_cv.notify_one();
    }

    // Runs `sql` with `args` on a pooled connection; `fn(Statement&)` consumes the result.
    template <class F, class... Args>
    auto run(const char* sql, F&& fn, const Args&... args) -> decltype(fn(std::declval<Statement&>())) {
        auto conn = acquire();
        return run_on(*conn, sql, std::forward<F>(fn), args...);
    }

    template <class F, class... Args>
    static auto run_on(Connection& conn, const char* sql, F&& fn, const Args&... args)
        -> decltype(fn(std::declval<Statement&>())) {
        auto prepared = conn.prepare(sql);
        if (!prepared) return prepared.take_error();
        Statement stmt(conn.db(), *prepared);
        stmt.bind(args...);
        return fn(stmt);
    }

    // A statement that returns no rows; `conflict` names the uniqueness violation for the caller.
    template <class... Args>
    Status write(const char* sql, const std::string& conflict, const Args&... args) {
        return run(sql, [&](Statement& s) { return finish_write(s, conflict); }, args...);
    }

    static Status finish_write(Statement& s, const std::string& conflict) {
        auto r = s.step();
        if (r) return Ok{};
        int code = s.last_code();
        if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
            return make_error(ErrorCode::conflict, conflict.empty() ? "already exists" : conflict);
        if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
            return make_error(ErrorCode::invalid_request, "refers to a record that does not exist");
        return r.take_error();
    }

    // A write that must touch exactly one row (update or delete by workspace and id); zero rows is not_found.
    template <class... Args>
    Status write_one(const char* sql, const char* what, const std::string& conflict, const Args&... args) {
        return run(
            sql,
            [&](Statement& s) -> Status {
                if (auto st = finish_write(s, conflict); !st) return st;
                if (s.changes() == 0) return not_found(what);
                return Ok{};
            },
            args...);
    }

    template <class T, class Reader, class... Args>
    Result<T> one(const char* sql, Reader reader, const char* what, const Args&... args) {
        return run(
            sql,
            [&](Statement& s) -> Result<T> {
                auto row = s.step();
                if (!row) return row.take_error();
                if (!*row) return not_found(what);
                return reader(s);
            },
            args...);
    }

    // Every row a statement yields, read by `reader`.
    template <class T, class Reader>
    static Result<std::vector<T>> collect(Statement& s, Reader reader) {
        std::vector<T> items;
        while (true) {
            auto row = s.step();
            if (!row) return row.take_error();
            if (!*row) return items;
            items.push_back(reader(s));
        }
    }

    template <class T, class Reader, class... Args>
    Result<std::vector<T>> rows(const char* sql, Reader reader, const Args&... args) {
        return run(sql, [&](Statement& s) { return collect<T>(s, reader); }, args...);
    }

    // Newest first by id, keyset pagination: fetch one extra row to learn whether another page exists.
    template <class T, class Reader, class... Args>
    Result<Page<T>> page(const char* sql, Reader reader, int limit, const Args&... args) {
        return run(
            sql,
            [&](Statement& s) -> Result<Page<T>> {
                Page<T> page;
                while (true) {
                    auto row = s.step();
                    if (!row) return row.take_error();
                    if (!*row) break;
                    page.items.push_back(reader(s));
                }
                if (static_cast<int>(page.items.size()) > limit) {
                    page.items.resize(static_cast<std::size_t>(limit));
                    page.next_cursor = page.items.back().id;
                }
                return page;
            },
            args...);
    }

    // Runs `fn(Connection&)` inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK when it fails).
    template <class T, class F>
    Result<T> transaction(F&& fn) {
        auto conn = acquire();
        if (auto s = conn->exec("BEGIN IMMEDIATE"); !s) return s.take_error();
        Result<T> result = fn(*conn);
        if (result) {
            if (auto s = conn->exec("COMMIT"); !s) {
                (void)conn->exec("ROLLBACK");
                return s.take_error();
            }
        } else {
            (void)conn->exec("ROLLBACK");
        }
        return result;
    }

    // --- workspaces ---------------------------------------------------------------------------------------------

    Status create_workspace(const Workspace& ws) override {
        return write("INSERT INTO workspaces (" WORKSPACE_COLS ") VALUES (?, ?, ?)", "workspace already exists", ws.id,
                     ws.name, ws.created_at);
    }
    Result<Workspace> get_workspace(const std::string& id) override {
        return one<Workspace>("SELECT " WORKSPACE_COLS " FROM workspaces WHERE id = ?", read_workspace, "workspace", id);
    }
    Result<Page<Workspace>> list_workspaces(const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<Workspace>("SELECT " WORKSPACE_COLS " FROM workspaces WHERE (? = '' OR id < ?) ORDER BY id DESC LIMIT ?",
                               read_workspace, limit, req.cursor, req.cursor, limit + 1);
    }
    Result<std::int64_t> count_users() override {
        return one<std::int64_t>("SELECT COUNT(*) FROM users", [](const Statement& s) { return s.integer(0); }, "users");
    }

    // --- users --------------------------------------------------------------------------------------------------

    Status create_user(const User& u) override {
        return write("INSERT INTO users (" USER_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "a user with email " + to_lower(u.email) + " already exists", u.id, u.workspace_id, to_lower(u.email),
                     u.name, u.role, u.password_hash, u.disabled, u.created_at, u.updated_at);
    }
    Result<User> get_user(const std::string& ws, const std::string& id) override {
        return one<User>("SELECT " USER_COLS " FROM users WHERE workspace_id = ? AND id = ?", read_user, "user", ws, id);
    }
    Result<User> get_user_by_id(const std::string& id) override {
        return one<User>("SELECT " USER_COLS " FROM users WHERE id = ?", read_user, "user", id);
    }
    Result<User> find_user_by_email(const std::string& email) override {
        return one<User>("SELECT " USER_COLS " FROM users WHERE email = ?", read_user, "user", to_lower(email));
    }
    Result<Page<User>> list_users(const std::string& ws, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<User>("SELECT " USER_COLS " FROM users WHERE workspace_id = ? AND (? = '' OR id < ?) "
                          "ORDER BY id DESC LIMIT ?",
                          read_user, limit, ws, req.cursor, req.cursor, limit + 1);
    }
    Status update_user(const User& u) override {
        return write_one("UPDATE users SET email = ?, name = ?, role = ?, password_hash = ?, disabled = ?, "
                         "updated_at = ? WHERE workspace_id = ? AND id = ?",
                         "user", "a user with email " + to_lower(u.email) + " already exists", to_lower(u.email), u.name,
                         u.role, u.password_hash, u.disabled, now_ms(), u.workspace_id, u.id);
    }
    Status delete_user(const std::string& ws, const std::string& id) override {
        return write_one("DELETE FROM users WHERE workspace_id = ? AND id = ?", "user", "", ws, id);
    }

    // --- API keys -----------------------------------------------------------------------------------------------

    Status create_api_key(const ApiKey& k) override {
        return write("INSERT INTO api_keys (" KEY_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "API key already exists",
                     k.id, k.workspace_id, Nullable{k.user_id}, k.name, k.role, k.prefix, k.key_hash, k.created_at,
                     k.last_used_at, k.revoked_at);
    }
    Result<ApiKey> find_api_key_by_hash(const std::string& hash) override {
        return one<ApiKey>("SELECT " KEY_COLS " FROM api_keys WHERE key_hash = ?", read_key, "API key", hash);
    }
    Result<Page<ApiKey>> list_api_keys(const std::string& ws, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<ApiKey>("SELECT " KEY_COLS " FROM api_keys WHERE workspace_id = ? AND (? = '' OR id < ?) "
                            "ORDER BY id DESC LIMIT ?",
                            read_key, limit, ws, req.cursor, req.cursor, limit + 1);
    }
    Status revoke_api_key(const std::string& ws, const std::string& id, std::int64_t at) override {
        return write_one("UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END "
                         "WHERE workspace_id = ? AND id = ?",
                         "API key", "", at, ws, id);
    }
    Status touch_api_key(const std::string& id, std::int64_t at) override {
        return write("UPDATE api_keys SET last_used_at = ? WHERE id = ?", "", at, id);
    }

    // --- refresh tokens -----------------------------------------------------------------------------------------

    Status create_refresh_token(const RefreshToken& t) override {
        return write("INSERT INTO refresh_tokens (" REFRESH_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     "refresh token already exists", t.id, t.family_id, t.user_id, t.token_hash, t.created_at,
                     t.expires_at, t.revoked_at, t.replaced_by);
    }
    Result<RefreshToken> find_refresh_token_by_hash(const std::string& hash) override {
        return one<RefreshToken>("SELECT " REFRESH_COLS " FROM refresh_tokens WHERE token_hash = ?", read_refresh,
                                 "refresh token", hash);
    }
    Status rotate_refresh_token(const std::string& old_id, const RefreshToken& next, std::int64_t at) override {
        auto r = transaction<Ok>([&](Connection& conn) -> Result<Ok> {
            auto marked = run_on(
                conn, "UPDATE refresh_tokens SET revoked_at = ?, replaced_by = ? WHERE id = ? AND revoked_at = 0",
                [](Statement& s) -> Result<int> {
                    auto st = finish_write(s, "");
                    if (!st) return st.take_error();
                    return s.changes();
                },
                at, next.id, old_id);
            if (!marked) return marked.take_error();
            if (*marked == 0) return make_error(ErrorCode::conflict, "refresh token already rotated or revoked");
            auto inserted = run_on(
                conn, "INSERT INTO refresh_tokens (" REFRESH_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [](Statement& s) { return finish_write(s, "refresh token already exists"); }, next.id, next.family_id,
                next.user_id, next.token_hash, next.created_at, next.expires_at, next.revoked_at, next.replaced_by);
            if (!inserted) return inserted.take_error();
            return Ok{};
        });
        if (!r) return r.take_error();
        return Ok{};
    }
    Status revoke_refresh_family(const std::string& family_id, std::int64_t at) override {
        return write("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at = 0", "", at,
                     family_id);
    }
    Status revoke_user_refresh_tokens(const std::string& user_id, std::int64_t at) override {
        return write("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0", "", at, user_id);
    }

    // --- agents -------------------------------------------------------------------------------------------------

    Status create_agent(const Agent& a) override {
        auto r = transaction<Ok>([&](Connection& conn) -> Result<Ok> {
            auto inserted = run_on(
                conn, "INSERT INTO agents (" AGENT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                [&](Statement& s) { return finish_write(s, "an agent named " + a.name + " already exists"); }, a.id,
                a.workspace_id, a.name, a.definition, a.version, a.created_at, a.updated_at);
            if (!inserted) return inserted.take_error();
            if (auto kept = keep_agent_version(conn, a.workspace_id, a.id, a.updated_by); !kept) return kept.take_error();
            return Ok{};
        });
        if (!r) return r.take_error();
        return Ok{};
    }
    Result<Agent> get_agent(const std::string& ws, const std::string& id) override {
        return one<Agent>("SELECT " AGENT_COLS " FROM agents WHERE workspace_id = ? AND id = ?", read_agent, "agent", ws,
                          id);
    }
    Result<Agent> find_agent_by_name(const std::string& ws, const std::string& name) override {
        return one<Agent>("SELECT " AGENT_COLS " FROM agents WHERE workspace_id = ? AND name = ?", read_agent, "agent",
                          ws, name);
    }
    Result<Page<Agent>> list_agents(const std::string& ws, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<Agent>("SELECT " AGENT_COLS " FROM agents WHERE workspace_id = ? AND (? = '' OR id < ?) "
                           "ORDER BY id DESC LIMIT ?",
                           read_agent, limit, ws, req.cursor, req.cursor, limit + 1);
    }
    Result<Agent> update_agent(const Agent& a) override {
        return transaction<Agent>([&](Connection& conn) -> Result<Agent> {
            auto updated = run_on(
                conn,
                "UPDATE agents SET name = ?, definition = ?, version = version + 1, updated_at = ? "
                "WHERE workspace_id = ? AND id = ?",
                [&](Statement& s) -> Result<int> {
                    auto st = finish_write(s, "an agent named " + a.name + " already exists");
                    if (!st) return st.take_error();
                    return s.changes();
                },
                a.name, a.definition, now_ms(), a.workspace_id, a.id);
            if (!updated) return updated.take_error();
            if (*updated == 0) return not_found("agent");
            if (auto kept = keep_agent_version(conn, a.workspace_id, a.id, a.updated_by); !kept) return kept.take_error();
            return run_on(
                conn, "SELECT " AGENT_COLS " FROM agents WHERE workspace_id = ? AND id = ?",
                [](Statement& s) -> Result<Agent> {
                    auto row = s.step();
                    if (!row) return row.take_error();
                    if (!*row) return not_found("agent");
                    return read_agent(s);
                },
                a.workspace_id, a.id);
        });
    }
    Status delete_agent(const std::string& ws, const std::string& id) override {
        return write_one("DELETE FROM agents WHERE workspace_id = ? AND id = ?", "agent", "", ws, id);
    }

    // The agent's row as it now is becomes a version; versions past the last kAgentVersionsKept go, in the same
    // transaction, so history never grows without bound. Deleting the agent cascades to them (foreign key).
    static Status keep_agent_version(Connection& conn, const std::string& ws, const std::string& id,
                                     const std::string& by) {
        auto kept = run_on(conn,
                           "INSERT INTO agent_versions (" AGENT_VERSION_COLS ") SELECT id, workspace_id, version, name, "
                           "definition, updated_at, ? FROM agents WHERE workspace_id = ? AND id = ?",
                           [](Statement& s) { return finish_write(s, ""); }, by, ws, id);
        if (!kept) return kept;
        return run_on(conn,
                      "DELETE FROM agent_versions WHERE agent_id = ? AND version <= "
                      "(SELECT version FROM agents WHERE id = ?) - ?",
                      [](Statement& s) { return finish_write(s, ""); }, id, id, kAgentVersionsKept);
    }
    Result<Page<AgentVersion>> list_agent_versions(const std::string& ws, const std::string& agent_id,
                                                   const PageRequest& req) override {
        auto before = agent_version_cursor(req.cursor);
        if (!before) return before.take_error();
        int limit = clamp_limit(req.limit);
        auto items = rows<AgentVersion>("SELECT " AGENT_VERSION_COLS " FROM agent_versions WHERE workspace_id = ? "
                                        "AND agent_id = ? AND (? = 0 OR version < ?) ORDER BY version DESC LIMIT ?",
                                        read_agent_version, ws, agent_id, *before, *before, limit + 1);
        if (!items) return items.take_error();
        return agent_version_page(std::move(*items), limit);
    }
    Result<AgentVersion> get_agent_version(const std::string& ws, const std::string& agent_id,
                                           std::int64_t version) override {
        return one<AgentVersion>("SELECT " AGENT_VERSION_COLS " FROM agent_versions WHERE workspace_id = ? AND "
                                 "agent_id = ? AND version = ?",
                                 read_agent_version, "agent version", ws, agent_id, version);
    }

    // --- phone numbers ------------------------------------------------------------------------------------------

    Status create_phone(const PhoneNumber& p) override {
        return write("INSERT INTO phone_numbers (" PHONE_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     "the number " + p.number + " is already registered", p.id, p.workspace_id, p.number, p.provider,
                     Nullable{p.agent_id}, p.label, p.created_at, p.updated_at);
    }
    Result<PhoneNumber> get_phone(const std::string& ws, const std::string& id) override {
        return one<PhoneNumber>("SELECT " PHONE_COLS " FROM phone_numbers WHERE workspace_id = ? AND id = ?", read_phone,
                                "phone number", ws, id);
    }
    Result<PhoneNumber> find_phone_by_number(const std::string& number) override {
        return one<PhoneNumber>("SELECT " PHONE_COLS " FROM phone_numbers WHERE number = ?", read_phone, "phone number",
                                number);
    }
    Result<Page<PhoneNumber>> list_phones(const std::string& ws, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<PhoneNumber>("SELECT " PHONE_COLS " FROM phone_numbers WHERE workspace_id = ? AND (? = '' OR id < ?) "
                                 "ORDER BY id DESC LIMIT ?",
                                 read_phone, limit, ws, req.cursor, req.cursor, limit + 1);
    }
    Result<PhoneNumber> update_phone(const PhoneNumber& p) override {
        auto st = write_one("UPDATE phone_numbers SET provider = ?, agent_id = ?, label = ?, updated_at = ? "
                            "WHERE workspace_id = ? AND id = ?",
                            "phone number", "", p.provider, Nullable{p.agent_id}, p.label, now_ms(), p.workspace_id,
                            p.id);
        if (!st) return st.take_error();
        return get_phone(p.workspace_id, p.id);
    }
    Status delete_phone(const std::string& ws, const std::string& id) override {
        return write_one("DELETE FROM phone_numbers WHERE workspace_id = ? AND id = ?", "phone number", "", ws, id);
    }

    // --- calls --------------------------------------------------------------------------------------------------

    Status create_call(const Call& c) override {
        return write("INSERT INTO calls (" CALL_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "call already exists", c.id, c.workspace_id, Nullable{c.agent_id}, Nullable{c.phone_id},
                     Nullable{c.campaign_id}, c.direction, c.channel, c.from_number, c.to_number, c.status,
                     Nullable{c.provider_call_id}, c.end_reason, c.summary, c.metrics.empty() ? "{}" : c.metrics,
                     c.created_at, c.started_at, c.answered_at, c.ended_at, c.duration_s, c.outcome,
                     c.analysis.empty() ? "{}" : c.analysis, c.instance_id);
    }
    Result<Call> get_call(const std::string& ws, const std::string& id) override {
        return one<Call>("SELECT " CALL_COLS " FROM calls WHERE workspace_id = ? AND id = ?", read_call, "call", ws, id);
    }
    Result<Call> find_call(const std::string& id) override {
        return one<Call>("SELECT " CALL_COLS " FROM calls WHERE id = ?", read_call, "call", id);
    }
    Result<Page<Call>> list_calls(const std::string& ws, const CallFilter& f, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<Call>("SELECT " CALL_COLS " FROM calls WHERE workspace_id = ? AND (? = '' OR id < ?) "
                          "AND (? = '' OR agent_id = ?) AND (? = '' OR status = ?) AND (? = '' OR campaign_id = ?) "
                          "AND (? = '' OR direction = ?) AND (? = 0 OR created_at >= ?) AND (? = 0 OR created_at < ?) "
                          "ORDER BY id DESC LIMIT ?",
                          read_call, limit, ws, req.cursor, req.cursor, f.agent_id, f.agent_id, f.status, f.status,
                          f.campaign_id, f.campaign_id, f.direction, f.direction, f.created_after, f.created_after,
                          f.created_before, f.created_before, limit + 1);
    }
    Status update_call(const Call& c) override {
        return write_one("UPDATE calls SET agent_id = ?, phone_id = ?, campaign_id = ?, direction = ?, channel = ?, "
                         "from_number = ?, to_number = ?, status = ?, provider_call_id = ?, end_reason = ?, "
                         "metrics = ?, started_at = ?, answered_at = ?, ended_at = ?, duration_s = ? "
                         "WHERE workspace_id = ? AND id = ?",
                         "call", "", Nullable{c.agent_id}, Nullable{c.phone_id}, Nullable{c.campaign_id}, c.direction,
                         c.channel, c.from_number, c.to_number, c.status, Nullable{c.provider_call_id}, c.end_reason,
                         c.metrics.empty() ? "{}" : c.metrics, c.started_at, c.answered_at, c.ended_at, c.duration_s,
                         c.workspace_id, c.id);
    }
    Status set_call_analysis(const std::string& call_id, const std::string& outcome, const std::string& summary,
                             const std::string& analysis) override {
        return write_one("UPDATE calls SET outcome = ?, summary = ?, analysis = ? WHERE id = ?", "call", "", outcome,
                         summary, analysis.empty() ? "{}" : analysis, call_id);
    }
    Status set_provider_call_id(const std::string& call_id, const std::string& provider_call_id) override {
        return write_one("UPDATE calls SET provider_call_id = ? WHERE id = ?", "call", "", provider_call_id, call_id);
    }
    Status end_open_call(const std::string& call_id, const std::string& status, const std::string& end_reason,
                         std::int64_t ended_at, double duration_s) override {
        return run(
            "UPDATE calls SET status = ?, end_reason = ?, ended_at = ?, "
            "duration_s = CASE WHEN ? >= 0 THEN ? ELSE duration_s END WHERE id = ? AND ended_at = 0",
            [&](Statement& s) -> Status {
                if (auto st = finish_write(s, ""); !st) return st;
                if (s.changes() == 0) return make_error(ErrorCode::conflict, "the call has already ended, or is unknown");
                return Ok{};
            },
            status, end_reason, ended_at, duration_s, duration_s, call_id);
    }
    Result<std::vector<Call>> list_open_calls(const std::string& instance_id) override {
        return rows<Call>("SELECT " CALL_COLS " FROM calls WHERE instance_id = ? AND ended_at = 0 ORDER BY id",
                          read_call, instance_id);
    }
    Status heartbeat_instance(const Instance& i) override {
        return write("INSERT INTO instances (" INSTANCE_COLS ") VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                     "base_url = excluded.base_url, heartbeat_at = excluded.heartbeat_at",
                     "instance already exists", i.id, i.base_url, i.started_at, i.heartbeat_at);
    }
    Result<std::vector<Instance>> list_instances() override {
        return rows<Instance>("SELECT " INSTANCE_COLS " FROM instances ORDER BY id", read_instance);
    }
    Status remove_instance(const std::string& id) override {
        return write("DELETE FROM instances WHERE id = ?", "", id);
    }
    Result<std::string> claim_idempotency_key(const std::string& ws, const std::string& key, const std::string& call_id,
                                              std::int64_t at) override {
        return transaction<std::string>([&](Connection& conn) -> Result<std::string> {
            auto existing = run_on(
                conn, "SELECT call_id FROM idempotency_keys WHERE workspace_id = ? AND key = ?",
                [](Statement& s) -> Result<std::string> {
                    auto row = s.step();
                    if (!row) return row.take_error();
                    return *row ? s.text(0) : std::string();
                },
                ws, key);
            if (!existing) return existing.take_error();
            if (!existing->empty()) return *existing;
            auto inserted = run_on(
                conn, "INSERT INTO idempotency_keys (workspace_id, key, call_id, created_at) VALUES (?, ?, ?, ?)",
                [](Statement& s) { return finish_write(s, "idempotency key already used"); }, ws, key, call_id, at);
            if (!inserted) return inserted.take_error();
            return call_id;
        });
    }
    // --- jobs ---------------------------------------------------------------------------------------------------

    Result<Job> enqueue_job(const Job& j) override {
        return transaction<Job>([&](Connection& conn) -> Result<Job> {
            if (!j.idempotency_key.empty()) {
                auto existing = run_on(
                    conn, "SELECT " JOB_COLS " FROM jobs WHERE idempotency_key = ?",
                    [](Statement& s) -> Result<std::optional<Job>> {
                        auto row = s.step();
                        if (!row) return row.take_error();
                        if (!*row) return std::optional<Job>();
                        return std::optional<Job>(read_job(s));
                    },
                    j.idempotency_key);
                if (!existing) return existing.take_error();
                if (*existing) return **existing;
            }
            auto inserted = run_on(
                conn,
                "INSERT INTO jobs (id, queue, payload, state, priority, attempts, max_attempts, run_at, locked_by, "
                "locked_until, last_error, idempotency_key, created_at, updated_at) "
                "VALUES (?, ?, ?, 'queued', ?, 0, ?, ?, '', 0, '', ?, ?, ?)",
                [](Statement& s) { return finish_write(s, "job already exists"); }, j.id, j.type,
                j.payload.empty() ? "{}" : j.payload, j.priority, j.max_attempts, j.run_after,
                Nullable{j.idempotency_key}, j.created_at, j.created_at);
            if (!inserted) return inserted.take_error();
            Job stored = j;
            stored.state = "queued";
            stored.attempts = 0;
            stored.updated_at = j.created_at;
            return stored;
        });
    }
    Result<std::vector<Job>> claim_jobs(const std::vector<std::string>& types, const std::string& owner, std::int64_t now,
                                        std::int64_t lease_until, int limit) override {
        if (types.empty() || limit <= 0) return std::vector<Job>{};
        // The types are the daemon's own identifiers, quoted as SQL literals so each query can walk its index.
        std::string in;
        for (const auto& t : types) {
            std::string quoted;
            for (char c : t) quoted += c == '\'' ? std::string("''") : std::string(1, c);
            in += (in.empty() ? "'" : ",'") + quoted + "'";
        }
        auto read_all = [](Statement& s) { return collect<Job>(s, read_job); };
        // Each statement selects and leases atomically under SQLite's write lock. Leases that ran out (a worker
        // died) first, then due jobs by priority.
        std::string expired = "UPDATE jobs SET state = 'running', locked_by = ?, locked_until = ?, attempts = attempts + 1, "
                              "updated_at = ? WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND locked_until < ? "
                              "AND queue IN (" + in + ") LIMIT ?) RETURNING " JOB_COLS;
        auto reclaimed = run(expired.c_str(), read_all, owner, lease_until, now, now, limit);
        if (!reclaimed) return reclaimed.take_error();
        std::vector<Job> jobs = std::move(*reclaimed);
        if (int(jobs.size()) < limit) {
            std::string due = "UPDATE jobs SET state = 'running', locked_by = ?, locked_until = ?, attempts = attempts + 1, "
                              "updated_at = ? WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND queue IN (" + in +
                              ") AND run_at <= ? ORDER BY priority DESC, run_at, id LIMIT ?) RETURNING " JOB_COLS;
            auto claimed = run(due.c_str(), read_all, owner, lease_until, now, now, limit - int(jobs.size()));
            if (!claimed) return claimed.take_error();
            for (auto& j : *claimed) jobs.push_back(std::move(j));
        }
        std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
            return a.priority != b.priority ? a.priority > b.priority : a.run_after < b.run_after;
        });
        return jobs;
    }
    // A write by the lease holder: zero rows means the lease is gone (or the job is), which the caller must know.
    template <class... Args>
    Status write_leased(const char* sql, const std::string& id, const Args&... args) {
        return run(
            sql,
            [&](Statement& s) -> Status {
                if (auto st = finish_write(s, ""); !st) return st;
                if (s.changes() == 0) return make_error(ErrorCode::conflict, "job " + id + " is not leased to this worker");
                return Ok{};
            },
            args...);
    }
    Status renew_job_lease(const std::string& id, const std::string& owner, std::int64_t lease_until) override {
        return write_leased("UPDATE jobs SET locked_until = ? WHERE id = ? AND locked_by = ? AND state = 'running'", id,
                            lease_until, id, owner);
    }
    Status complete_job(const std::string& id, const std::string& owner, std::int64_t at) override {
        return write_leased("UPDATE jobs SET state = 'done', locked_by = '', locked_until = 0, updated_at = ? "
                            "WHERE id = ? AND locked_by = ? AND state = 'running'",
                            id, at, id, owner);
    }
    Status fail_job(const std::string& id, const std::string& owner, const std::string& error, std::int64_t run_after,
                    bool dead, std::int64_t at) override {
        return write_leased("UPDATE jobs SET state = ?, run_at = ?, last_error = ?, locked_by = '', locked_until = 0, "
                            "updated_at = ? WHERE id = ? AND locked_by = ? AND state = 'running'",
                            id, dead ? "dead" : "queued", run_after, error, at, id, owner);
    }
    Status release_job(const std::string& id, const std::string& owner, std::int64_t at) override {
        return write_leased("UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), locked_by = '', "
                            "locked_until = 0, updated_at = ? WHERE id = ? AND locked_by = ? AND state = 'running'",
                            id, at, id, owner);
    }
    Result<Job> get_job(const std::string& id) override {
        return one<Job>("SELECT " JOB_COLS " FROM jobs WHERE id = ?", read_job, "job", id);
    }
    Result<Page<Job>> list_jobs(const std::string& state, const std::string& type, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<Job>("SELECT " JOB_COLS " FROM jobs WHERE (? = '' OR id < ?) AND (? = '' OR state = ?) "
                         "AND (? = '' OR queue = ?) ORDER BY id DESC LIMIT ?",
                         read_job, limit, req.cursor, req.cursor, state, state, type, type, limit + 1);
    }

    // --- webhooks -----------------------------------------------------------------------------------------------

    Status create_webhook_endpoint(const WebhookEndpoint& e) override {
        return write("INSERT INTO webhook_endpoints (" ENDPOINT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     "webhook endpoint already exists", e.id, e.workspace_id, e.url, e.secret, e.events, e.description,
                     e.enabled, e.created_at);
    }
    Result<WebhookEndpoint> get_webhook_endpoint(const std::string& ws, const std::string& id) override {
        return one<WebhookEndpoint>("SELECT " ENDPOINT_COLS " FROM webhook_endpoints WHERE workspace_id = ? AND id = ?",
                                    read_endpoint, "webhook endpoint", ws, id);
    }
    Result<WebhookEndpoint> find_webhook_endpoint(const std::string& id) override {
        return one<WebhookEndpoint>("SELECT " ENDPOINT_COLS " FROM webhook_endpoints WHERE id = ?", read_endpoint,
                                    "webhook endpoint", id);
    }
    Result<Page<WebhookEndpoint>> list_webhook_endpoints(const std::string& ws, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<WebhookEndpoint>("SELECT " ENDPOINT_COLS " FROM webhook_endpoints WHERE workspace_id = ? AND "
                                     "(? = '' OR id < ?) ORDER BY id DESC LIMIT ?",
                                     read_endpoint, limit, ws, req.cursor, req.cursor, limit + 1);
    }
    Status delete_webhook_endpoint(const std::string& ws, const std::string& id) override {
        return write_one("DELETE FROM webhook_endpoints WHERE workspace_id = ? AND id = ?", "webhook endpoint", "", ws, id);
    }
    Status create_webhook_delivery(const WebhookDelivery& d) override {
        return write("INSERT INTO webhook_deliveries (" DELIVERY_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "delivery already exists", d.id, d.endpoint_id, d.event_type, d.payload, d.state, d.attempts,
                     d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at);
    }
    Result<WebhookDelivery> get_webhook_delivery(const std::string& id) override {
        return one<WebhookDelivery>("SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE id = ?", read_delivery,
                                    "delivery", id);
    }
    Status update_webhook_delivery(const WebhookDelivery& d) override {
        return write_one("UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, "
                         "last_error = ?, delivered_at = ? WHERE id = ?",
                         "delivery", "", d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error,
                         d.delivered_at, d.id);
    }
    Result<Page<WebhookDelivery>> list_webhook_deliveries(const std::string& endpoint_id, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<WebhookDelivery>("SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE endpoint_id = ? AND "
                                     "(? = '' OR id < ?) ORDER BY id DESC LIMIT ?",
                                     read_delivery, limit, endpoint_id, req.cursor, req.cursor, limit + 1);
    }

    // --- campaigns ----------------------------------------------------------------------------------------------

    Status create_campaign(const Campaign& c) override {
        return write("INSERT INTO campaigns (" CAMPAIGN_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "campaign already exists", c.id, c.workspace_id, c.agent_id, Nullable{c.phone_id}, c.name, c.status,
                     c.config, c.created_at, c.updated_at, c.started_at, c.finished_at);
    }
    Result<Campaign> get_campaign(const std::string& ws, const std::string& id) override {
        return one<Campaign>("SELECT " CAMPAIGN_COLS " FROM campaigns WHERE workspace_id = ? AND id = ?", read_campaign,
                             "campaign", ws, id);
    }
    Result<Campaign> find_campaign(const std::string& id) override {
        return one<Campaign>("SELECT " CAMPAIGN_COLS " FROM campaigns WHERE id = ?", read_campaign, "campaign", id);
    }
    Result<Page<Campaign>> list_campaigns(const std::string& ws, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<Campaign>("SELECT " CAMPAIGN_COLS " FROM campaigns WHERE workspace_id = ? AND (? = '' OR id < ?) "
                              "ORDER BY id DESC LIMIT ?",
                              read_campaign, limit, ws, req.cursor, req.cursor, limit + 1);
    }
    Result<std::vector<Campaign>> list_campaigns_by_status(const std::string& status) override {
        return rows<Campaign>("SELECT " CAMPAIGN_COLS " FROM campaigns WHERE status = ? ORDER BY id", read_campaign,
                              status);
    }
    Result<Campaign> update_campaign(const Campaign& c) override {
        return one<Campaign>("UPDATE campaigns SET name = ?, agent_id = ?, phone_id = ?, config = ?, updated_at = ? "
                             "WHERE workspace_id = ? AND id = ? RETURNING " CAMPAIGN_COLS,
                             read_campaign, "campaign", c.name, c.agent_id, Nullable{c.phone_id}, c.config, now_ms(),
                             c.workspace_id, c.id);
    }
    Result<Campaign> transition_campaign(const std::string& id, const std::vector<std::string>& from,
                                         const std::string& to, std::int64_t at) override {
        std::string allowed = ",";
        for (const auto& f : from) allowed += f + ",";
        auto moved = one<Campaign>(
            "UPDATE campaigns SET status = ?, updated_at = ?, "
            "started_at = CASE WHEN ? = 'running' AND started_at = 0 THEN ? ELSE started_at END, "
            "finished_at = CASE WHEN ? IN ('completed', 'canceled') THEN ? ELSE finished_at END "
            "WHERE id = ? AND instr(?, ',' || status || ',') > 0 RETURNING " CAMPAIGN_COLS,
            read_campaign, "campaign", to, at, to, at, to, at, id, allowed);
        if (moved || moved.error().code != ErrorCode::not_found) return moved;
        auto current = find_campaign(id);
        if (!current) return current.take_error();
        return make_error(ErrorCode::conflict, "the campaign is " + current->status);
    }

    Result<std::int64_t> add_campaign_contacts(const std::vector<CampaignContact>& contacts) override {
        return transaction<std::int64_t>([&](Connection& conn) -> Result<std::int64_t> {
            std::int64_t added = 0;
            for (const auto& c : contacts) {
                auto existed = run_on(
                    conn, "SELECT 1 FROM campaign_contacts WHERE campaign_id = ? AND phone = ?",
                    [](Statement& s) { return s.step(); }, c.campaign_id, c.phone);
                if (!existed) return existed.take_error();
                auto stored = run_on(
                    conn,
                    "INSERT INTO campaign_contacts (" CONTACT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (campaign_id, phone) DO UPDATE SET "
                    "variables = json_patch(campaign_contacts.variables, excluded.variables), "
                    "timezone = CASE WHEN excluded.timezone != '' THEN excluded.timezone ELSE campaign_contacts.timezone END, "
                    "updated_at = excluded.updated_at",
                    [](Statement& s) { return finish_write(s, ""); }, c.id, c.campaign_id, c.workspace_id, c.phone,
                    c.timezone, c.variables, c.state, c.attempts, Nullable{c.last_call_id}, c.last_outcome,
                    c.next_attempt_at, c.created_at, c.updated_at);
                if (!stored) return stored.take_error();
                if (!*existed) ++added;
            }
            return added;
        });
    }
    Result<CampaignContact> get_campaign_contact(const std::string& id) override {
        return one<CampaignContact>("SELECT " CONTACT_COLS " FROM campaign_contacts WHERE id = ?", read_contact,
                                    "contact", id);
    }
    Result<Page<CampaignContact>> list_campaign_contacts(const std::string& campaign_id, const std::string& state,
                                                         const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<CampaignContact>("SELECT " CONTACT_COLS " FROM campaign_contacts WHERE campaign_id = ? AND "
                                     "(? = '' OR state = ?) AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?",
                                     read_contact, limit, campaign_id, state, state, req.cursor, req.cursor, limit + 1);
    }
    Result<ContactCounts> count_campaign_contacts(const std::string& campaign_id) override {
        return run(
            "SELECT state, COUNT(*), COALESCE(SUM(attempts), 0) FROM campaign_contacts WHERE campaign_id = ? "
            "GROUP BY state",
            [](Statement& s) -> Result<ContactCounts> {
                ContactCounts counts;
                while (true) {
                    auto row = s.step();
                    if (!row) return row.take_error();
                    if (!*row) break;
                    counts.by_state[s.text(0)] = s.integer(1);
                    counts.total += s.integer(1);
                    counts.attempts += s.integer(2);
                }
                return counts;
            },
            campaign_id);
    }
    Result<std::vector<CampaignContact>> claim_campaign_contacts(const std::string& campaign_id, int concurrency,
                                                                 std::int64_t now, int limit) override {
        using Contacts = std::vector<CampaignContact>;
        return transaction<Contacts>([&](Connection& conn) -> Result<Contacts> {
            auto dialing = run_on(
                conn, "SELECT COUNT(*) FROM campaign_contacts WHERE campaign_id = ? AND state = 'dialing'",
                [](Statement& s) -> Result<std::int64_t> {
                    if (auto row = s.step(); !row) return row.take_error();
                    return s.integer(0);
                },
                campaign_id);
            if (!dialing) return dialing.take_error();
            std::int64_t room = std::min<std::int64_t>(limit, concurrency - *dialing);
            if (room <= 0) return Contacts{};
            return run_on(
                conn,
                "UPDATE campaign_contacts SET state = 'dialing', attempts = attempts + 1, last_call_id = NULL, "
                "updated_at = ? WHERE id IN (SELECT id FROM campaign_contacts WHERE campaign_id = ? AND "
                "state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?) RETURNING " CONTACT_COLS,
                [](Statement& s) { return collect<CampaignContact>(s, read_contact); }, now, campaign_id, now, room);
        });
    }
    Result<std::string> set_contact_call(const std::string& contact_id, int attempt, const std::string& call_id) override {
        auto set = run(
            "UPDATE campaign_contacts SET last_call_id = ? WHERE id = ? AND state = 'dialing' AND attempts = ? AND "
            "last_call_id IS NULL",
            [](Statement& s) -> Result<int> {
                if (auto st = finish_write(s, ""); !st) return st.take_error();
                return s.changes();
            },
            call_id, contact_id, attempt);
        if (!set) return set.take_error();
        if (*set == 1) return call_id;
        auto contact = get_campaign_contact(contact_id);
        if (!contact) return contact.take_error();
        if (contact->state != "dialing" || contact->attempts != attempt || contact->last_call_id.empty())
            return make_error(ErrorCode::conflict, "the attempt is no longer in flight");
        return contact->last_call_id;
    }
    Status end_contact_attempt(const AttemptEnd& e) override {
        return run(
            "UPDATE campaign_contacts SET state = ?, attempts = attempts - ?, "
            "last_outcome = CASE WHEN ? = '' THEN last_outcome ELSE ? END, next_attempt_at = ?, updated_at = ? "
            "WHERE id = ? AND state = 'dialing' AND attempts = ?",
            [](Statement& s) -> Status {
                if (auto st = finish_write(s, ""); !st) return st;
                if (s.changes() == 0) return make_error(ErrorCode::conflict, "the attempt is no longer in flight");
                return Ok{};
            },
            e.state, e.uncount ? 1 : 0, e.outcome, e.outcome, e.next_attempt_at, e.at, e.contact_id, e.attempt);
    }
    Result<std::vector<CampaignContact>> list_dialing_contacts(const std::string& campaign_id) override {
        return rows<CampaignContact>("SELECT " CONTACT_COLS " FROM campaign_contacts WHERE campaign_id = ? AND "
                                     "state = 'dialing' ORDER BY id",
                                     read_contact, campaign_id);
    }
    Result<std::int64_t> cancel_pending_contacts(const std::string& campaign_id, std::int64_t at) override {
        return run(
            "UPDATE campaign_contacts SET state = 'canceled', updated_at = ? WHERE campaign_id = ? AND state = 'pending'",
            [](Statement& s) -> Result<std::int64_t> {
                if (auto st = finish_write(s, ""); !st) return st.take_error();
                return static_cast<std::int64_t>(s.changes());
            },
            at, campaign_id);
    }

    // --- do-not-call list ---------------------------------------------------------------------------------------

    Status add_dnc(const DncEntry& e) override {
        return write("INSERT INTO dnc_numbers (" DNC_COLS ") VALUES (?, ?, ?, ?, ?)",
                     e.phone + " is already on the do-not-call list", e.id, e.workspace_id, e.phone, e.reason,
                     e.created_at);
    }
    Status remove_dnc(const std::string& ws, const std::string& phone) override {
        return write_one("DELETE FROM dnc_numbers WHERE workspace_id = ? AND phone = ?", "do-not-call number", "", ws,
                         phone);
    }
    Result<bool> is_dnc(const std::string& ws, const std::string& phone) override {
        return run("SELECT 1 FROM dnc_numbers WHERE workspace_id = ? AND phone = ?",
                   [](Statement& s) { return s.step(); }, ws, phone);
    }
    Result<Page<DncEntry>> list_dnc(const std::string& ws, const PageRequest& req) override {
        int limit = clamp_limit(req.limit);
        return page<DncEntry>("SELECT " DNC_COLS " FROM dnc_numbers WHERE workspace_id = ? AND (? = '' OR id < ?) "
                              "ORDER BY id DESC LIMIT ?",
                              read_dnc, limit, ws, req.cursor, req.cursor, limit + 1);
    }

    // --- analytics ----------------------------------------------------------------------------------------------

    Result<bool> count_call(const std::string& call_id, const AnalyticsDay& key,
                            const std::function<void(AnalyticsDay&)>& update) override {
        return transaction<bool>([&](Connection& conn) -> Result<bool> {
            auto inserted = run_on(conn, "INSERT OR IGNORE INTO analytics_counted (call_id) VALUES (?)",
                                   [](Statement& s) -> Result<int> {
                                       if (auto r = s.step(); !r) return r.take_error();
                                       return s.changes();
                                   },
                                   call_id);
            if (!inserted) return inserted.take_error();
            if (*inserted == 0) return false;  // counted before (a job run twice)
            auto existing = run_on(
                conn, "SELECT stats FROM analytics_daily WHERE workspace_id = ? AND agent_id = ? AND day = ?",
                [](Statement& s) -> Result<std::string> {
                    auto row = s.step();
                    if (!row) return row.take_error();
                    return *row ? s.text(0) : std::string("{}");
                },
                key.workspace_id, key.agent_id, key.day);
            if (!existing) return existing.take_error();
            AnalyticsDay day = key;
            day.stats = *existing;
            update(day);
            auto stored = run_on(conn,
                                 "INSERT INTO analytics_daily (workspace_id, agent_id, day, stats) VALUES (?, ?, ?, ?) "
                                 "ON CONFLICT (workspace_id, agent_id, day) DO UPDATE SET stats = excluded.stats",
                                 [](Statement& s) { return finish_write(s, ""); }, day.workspace_id, day.agent_id, day.day,
                                 day.stats);
            if (!stored) return stored.take_error();
            return true;
        });
    }
    Result<std::vector<AnalyticsDay>> list_analytics(const std::string& ws, const std::string& agent_id,
                                                     const std::string& from_day, const std::string& to_day) override {
        return rows<AnalyticsDay>("SELECT workspace_id, agent_id, day, stats FROM analytics_daily WHERE workspace_id = ? "
                                  "AND (? = '' OR agent_id = ?) AND day >= ? AND day <= ? ORDER BY day, agent_id",
                                  [](const Statement& s) { return AnalyticsDay{s.text(0), s.text(1), s.text(2), s.text(3)}; },
                                  ws, agent_id, agent_id, from_day, to_day);
    }

    Result<CallTurn> append_turn(const CallTurn& turn) override {
        return transaction<CallTurn>([&](Connection& conn) -> Result<CallTurn> {
            CallTurn stored = turn;
            if (stored.seq == 0) {
                auto next = run_on(
                    conn, "SELECT COALESCE(MAX(seq), 0) + 1 FROM call_turns WHERE call_id = ?",
                    [](Statement& s) -> Result<std::int64_t> {
                        auto row = s.step();
                        if (!row) return row.take_error();
                        return s.integer(0);
                    },
                    turn.call_id);
                if (!next) return next.take_error();
                stored.seq = *next;
            }
            auto inserted = run_on(
                conn, "INSERT INTO call_turns (" TURN_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [](Statement& s) { return finish_write(s, "turn already exists"); }, stored.call_id, stored.seq,
                stored.role, stored.text, stored.started_ms, stored.ended_ms, stored.interrupted, stored.source);
            if (!inserted) {
                if (inserted.error().code == ErrorCode::invalid_request) return not_found("call");
                return inserted.take_error();
            }
            return stored;
        });
    }
    Result<std::vector<CallTurn>> list_turns(const std::string& call_id) override {
        return rows<CallTurn>("SELECT " TURN_COLS " FROM call_turns WHERE call_id = ? ORDER BY seq", read_turn, call_id);
    }

    Result<int> schema_version() override {
        return one<int>("SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                        [](const Statement& s) { return static_cast<int>(s.integer(0)); }, "schema version");
    }

private:
    std::vector<std::unique_ptr<Connection>> m_pool;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<Connection*> m_free;
};

Status migrate(Connection& conn) {
    if (auto s = conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                           "description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
        !s)
        return s;
    auto read_version = [&conn]() -> Result<int> {
        return SqliteStore::run_on(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                                   [](Statement& s) -> Result<int> {
                                       auto row = s.step();
                                       if (!row) return row.take_error();
                                       return static_cast<int>(s.integer(0));
                                   });
    };
    auto current = read_version();
    if (!current) return current.take_error();
    if (*current > sqlite_schema_version())
        return make_error(ErrorCode::unprocessable,
                          "database schema version " + std::to_string(*current) +
                              " is newer than this build supports (" + std::to_string(sqlite_schema_version()) +
                              "); upgrade voiceagentd");
    for (const auto& m : sqlite::migrations()) {
        if (m.version <= *current) continue;
        if (auto s = conn.exec("BEGIN IMMEDIATE"); !s) return s;
        // Another process may have migrated between our read and taking the write lock: look again under it.
        auto locked = read_version();
        if (!locked || *locked >= m.version) {
            (void)conn.exec("ROLLBACK");
            if (!locked) return locked.take_error();
            *current = *locked;
            continue;
        }
        Status applied = conn.exec(m.sql);
        if (applied) {
            applied = SqliteStore::run_on(
                conn, "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
                [](Statement& s) { return SqliteStore::finish_write(s, "migration already applied"); }, m.version,
                m.description, now_ms());
        }
        if (!applied) {
            (void)conn.exec("ROLLBACK");
            return make_error(ErrorCode::internal, "migration " + std::to_string(m.version) + " (" + m.description +
                                                       ") failed: " + applied.error().message);
        }
        if (auto s = conn.exec("COMMIT"); !s) return s;
    }
    return Ok{};
}

}  // namespace

int sqlite_schema_version() { return sqlite::migrations().back().version; }

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
    bool memory = options.path == ":memory:";
    int size = memory ? 1 : std::max(1, options.pool_size);  // each :memory: connection would be its own database
    std::vector<std::unique_ptr<Connection>> pool;
    for (int i = 0; i < size; ++i) {
        auto conn = open_connection(options);
        if (!conn) return conn.take_error();
        if (i == 0) {
            if (auto s = migrate(**conn); !s) return s.take_error();
        }
        pool.push_back(std::move(conn).value());
    }
    return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(pool)));
}

}  // namespace va
