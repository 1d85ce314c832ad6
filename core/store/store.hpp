// The Store interface: every durable record of the product (workspaces, users, credentials, agents, numbers,
// calls and their turns, campaigns and their contacts, the do-not-call list, jobs, webhooks, analytics) behind one
// abstract class, so SQLite
// (the embedded default) and later MongoDB implement the same contract (tests/unit/core/store/store_contract.hpp).
//
// Tenancy: every workspace-owned record is read and written through its workspace id; a lookup with the wrong
// workspace id behaves exactly like a missing record (ErrorCode::not_found), which is what keeps one workspace
// from learning of another's objects.
//
// Thread-safety: implementations are safe to call from any number of threads at once. Calls block (they do I/O).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace va {

// --- records -----------------------------------------------------------------------------------------------------
// Times are epoch milliseconds. JSON-valued columns are kept as serialized JSON text: the store does not interpret
// them.

struct Workspace {
    std::string id;
    std::string name;
    std::int64_t created_at = 0;
};

struct User {
    std::string id;
    std::string workspace_id;
    std::string email;          // unique across the instance, stored lower-case
    std::string name;
    std::string role;           // owner | admin | member | viewer
    std::string password_hash;  // Argon2id string; empty for users that cannot log in with a password
    bool disabled = false;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

struct ApiKey {
    std::string id;
    std::string workspace_id;
    std::string user_id;        // creator; may be empty (the bootstrap owner key)
    std::string name;
    std::string role;           // role granted to requests using this key
    std::string prefix;         // first characters of the key, shown in listings
    std::string key_hash;       // hex SHA-256 of the whole key
    std::int64_t created_at = 0;
    std::int64_t last_used_at = 0;
    std::int64_t revoked_at = 0;  // 0 = active
};

struct RefreshToken {
    std::string id;
    std::string family_id;      // all rotations of one login share a family
    std::string user_id;
    std::string token_hash;     // hex SHA-256 of the token
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
    std::int64_t revoked_at = 0;  // set when rotated (replaced_by set) or revoked
    std::string replaced_by;      // id of the token that replaced this one on rotation
};

struct Agent {
    std::string id;
    std::string workspace_id;
    std::string name;             // unique within a workspace
    std::string definition;       // JSON text of the whole agent definition (validated by the API)
    std::int64_t version = 1;     // incremented on every update
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::string updated_by;       // who writes it (user or API key id; may be empty): kept in its version only
};

// One version of an agent as a create or an update wrote it; the store keeps the last kAgentVersionsKept.
struct AgentVersion {
    std::string agent_id;
    std::string workspace_id;
    std::int64_t version = 1;
    std::string name;
    std::string definition;
    std::int64_t updated_at = 0;
    std::string updated_by;       // empty when the writer was not known
};
inline constexpr std::int64_t kAgentVersionsKept = 50;

struct PhoneNumber {
    std::string id;
    std::string workspace_id;
    std::string number;           // E.164, unique across the instance (inbound routing needs one owner)
    std::string provider;         // exotel | twilio
    std::string agent_id;         // may be empty
    std::string label;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

struct Call {
    std::string id;
    std::string workspace_id;
    std::string agent_id;
    std::string phone_id;
    std::string campaign_id;
    std::string direction;        // inbound | outbound
    std::string channel;          // exotel | twilio | local | chat
    std::string from_number;
    std::string to_number;
    std::string status;           // queued ringing in-progress completed busy no-answer failed canceled
    std::string provider_call_id;
    std::string end_reason;
    std::string summary;
    std::string metrics;          // JSON text
    // answered | voicemail | no-answer | busy | failed | completed-goal; empty until the call has ended
    std::string outcome;
    std::string analysis = "{}";  // JSON text: {fields, ...} from post-call analysis
    std::string instance_id;      // the daemon that owns its session (server.instance_id); set at creation
    std::int64_t created_at = 0;
    std::int64_t started_at = 0;
    std::int64_t answered_at = 0;
    std::int64_t ended_at = 0;
    double duration_s = 0;
};

// A daemon sharing the store with others. It renews heartbeat_at while it runs; one whose heartbeat has lapsed is
// taken for dead, and its open calls are settled by another.
struct Instance {
    std::string id;
    std::string base_url;
    std::int64_t started_at = 0;
    std::int64_t heartbeat_at = 0;
};

struct CallTurn {
    std::string call_id;
    std::int64_t seq = 0;         // order within the call, from 1; assigned by the store when 0
    std::string role;             // user | agent | system | tool
    std::string text;
    std::int64_t started_ms = 0;  // offsets from the start of the call
    std::int64_t ended_ms = 0;
    bool interrupted = false;
    std::string source;           // e.g. "stt", "simulated", "llm"; empty when not relevant
};

// A unit of background work (core/jobs). States: queued (waiting for run_after), running (leased to a worker until
// lease_expires), done, dead (out of attempts, kept for inspection).
struct Job {
    std::string id;
    std::string type;
    std::string payload = "{}";   // JSON text
    std::string state = "queued";
    int priority = 0;             // higher first
    int attempts = 0;             // claims so far (a lease that ran out counts)
    int max_attempts = 5;
    std::int64_t run_after = 0;
    std::string lease_owner;
    std::int64_t lease_expires = 0;
    std::string last_error;
    std::string idempotency_key;  // empty: none; otherwise unique across jobs
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

// A user's endpoint for call and campaign events, and each delivery to it (the delivery log).
struct WebhookEndpoint {
    std::string id;
    std::string workspace_id;
    std::string url;
    std::string secret;           // signs deliveries (HMAC-SHA256); shown to the user once
    std::string events = "[]";    // JSON array of event types
    std::string description;
    bool enabled = true;
    std::int64_t created_at = 0;
};

struct WebhookDelivery {
    std::string id;
    std::string endpoint_id;
    std::string event_type;
    std::string payload;          // the event as sent (JSON text)
    std::string state = "pending";  // pending | delivered | failed (gave up)
    int attempts = 0;
    std::int64_t next_attempt_at = 0;
    int last_status = 0;          // the endpoint's last HTTP status (0: no answer)
    std::string last_error;
    std::int64_t created_at = 0;
    std::int64_t delivered_at = 0;
};

// An outbound campaign. status: draft (being filled) | running | paused | completed (every contact settled) |
// canceled. The daemon validates `config` and owns its shape: {concurrency, window, retry}.
struct Campaign {
    std::string id;
    std::string workspace_id;
    std::string agent_id;
    std::string phone_id;         // the workspace number the calls come from
    std::string name;
    std::string status = "draft";
    std::string config = "{}";    // JSON text
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::int64_t started_at = 0;  // first start
    std::int64_t finished_at = 0; // completed or canceled
};

// A person a campaign calls. state: pending (waiting for next_attempt_at) | dialing (an attempt in flight; it holds
// one of the campaign's concurrency slots, which is what keeps the limit across restarts) | done (answered) |
// failed (out of attempts, or not retried) | dnc (on the do-not-call list at dial time) | canceled.
struct CampaignContact {
    std::string id;
    std::string campaign_id;
    std::string workspace_id;
    std::string phone;            // E.164, unique within the campaign
    std::string timezone;         // IANA; empty: the campaign window's
    std::string variables = "{}"; // JSON object text: the agent's placeholders for this person
    std::string state = "pending";
    int attempts = 0;             // attempts started (the one in flight included)
    std::string last_call_id;     // the current or last attempt's call; empty until the dial creates it
    std::string last_outcome;     // answered | busy | no-answer | failed | canceled | dnc ...
    std::int64_t next_attempt_at = 0;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
};

// How contacts of one campaign stand: how many are in each state, and attempts started in all.
struct ContactCounts {
    std::map<std::string, std::int64_t> by_state;
    std::int64_t total = 0;
    std::int64_t attempts = 0;
};

// The end of a contact's attempt `attempt`, applied only while that attempt is the one in flight (so a settlement
// that runs twice, or late, changes nothing).
struct AttemptEnd {
    std::string contact_id;
    int attempt = 0;
    std::string state;             // the contact's new state
    std::string outcome;           // stored as last_outcome (unchanged when empty)
    std::int64_t next_attempt_at = 0;
    bool uncount = false;          // the attempt never dialled (paused, outside the window): not counted
    std::int64_t at = 0;
};

// A number of the workspace's do-not-call list: campaigns check it at dial time.
struct DncEntry {
    std::string id;
    std::string workspace_id;
    std::string phone;            // E.164, unique within the workspace
    std::string reason;
    std::int64_t created_at = 0;
};

// One agent's day (UTC) of calls: the running aggregates, as JSON text the analytics code owns.
struct AnalyticsDay {
    std::string workspace_id;
    std::string agent_id;
    std::string day;              // YYYY-MM-DD
    std::string stats = "{}";
};

// --- queries -----------------------------------------------------------------------------------------------------

// Newest first; `cursor` is the id of the last item of the previous page (ids sort by creation time).
struct PageRequest {
    int limit = 50;
    std::string cursor;
};

template <class T>
struct Page {
    std::vector<T> items;
    std::string next_cursor;  // empty when there is no further page
};

struct CallFilter {
    std::string agent_id;
    std::string status;
    std::string campaign_id;
    std::string direction;
    std::int64_t created_after = 0;   // inclusive, 0 = no bound
    std::int64_t created_before = 0;  // exclusive, 0 = no bound
};

// --- the interface -----------------------------------------------------------------------------------------------

// The durable job queue's records: the Store keeps them (the embedded default), or Redis streams when several
// daemons share one queue (core/jobs/redis_job_store.hpp). Both pass the same contract.
class JobStore {
public:
    virtual ~JobStore() = default;

    // Jobs (instance-wide). A job with an idempotency key already used is not added again: the existing job comes
    // back instead.
    virtual Result<Job> enqueue_job(const Job& job) = 0;
    // Atomically leases up to `limit` jobs of `types` to `owner` until `lease_until`: queued ones due by `now`, and
    // running ones whose lease ran out before `now` (their worker died); by priority, then due time. Each claim
    // counts an attempt.
    virtual Result<std::vector<Job>> claim_jobs(const std::vector<std::string>& types, const std::string& owner,
                                                std::int64_t now, std::int64_t lease_until, int limit) = 0;
    // The lease holder's calls; a job whose lease was lost (claimed by another worker) answers conflict.
    virtual Status renew_job_lease(const std::string& id, const std::string& owner, std::int64_t lease_until) = 0;
    virtual Status complete_job(const std::string& id, const std::string& owner, std::int64_t at) = 0;
    // Failed: queued again for `run_after`, or dead when `dead` (the error is kept either way).
    virtual Status fail_job(const std::string& id, const std::string& owner, const std::string& error,
                            std::int64_t run_after, bool dead, std::int64_t at) = 0;
    // Handed back unfinished (shutdown): queued again at once, the attempt not counted.
    virtual Status release_job(const std::string& id, const std::string& owner, std::int64_t at) = 0;
    virtual Result<Job> get_job(const std::string& id) = 0;
    // Jobs in `state` (any when empty), of `type` (any when empty), newest first.
    virtual Result<Page<Job>> list_jobs(const std::string& state, const std::string& type, const PageRequest& page) = 0;
};

class Store : public JobStore {
public:
    virtual ~Store() = default;

    // Workspaces (instance-wide objects).
    virtual Status create_workspace(const Workspace& ws) = 0;
    virtual Result<Workspace> get_workspace(const std::string& id) = 0;
    virtual Result<Page<Workspace>> list_workspaces(const PageRequest& page) = 0;
    virtual Result<std::int64_t> count_users() = 0;  // across the instance: zero means "not bootstrapped"

    // Users. Emails are unique instance-wide (login is by email alone): conflict on a duplicate.
    virtual Status create_user(const User& user) = 0;
    virtual Result<User> get_user(const std::string& workspace_id, const std::string& id) = 0;
    virtual Result<User> get_user_by_id(const std::string& id) = 0;  // instance-wide, for token validation
    virtual Result<User> find_user_by_email(const std::string& email) = 0;
    virtual Result<Page<User>> list_users(const std::string& workspace_id, const PageRequest& page) = 0;
    virtual Status update_user(const User& user) = 0;  // by (workspace_id, id); sets updated_at
    virtual Status delete_user(const std::string& workspace_id, const std::string& id) = 0;

    // API keys.
    virtual Status create_api_key(const ApiKey& key) = 0;
    virtual Result<ApiKey> find_api_key_by_hash(const std::string& key_hash) = 0;  // instance-wide
    virtual Result<Page<ApiKey>> list_api_keys(const std::string& workspace_id, const PageRequest& page) = 0;
    virtual Status revoke_api_key(const std::string& workspace_id, const std::string& id, std::int64_t at) = 0;
    virtual Status touch_api_key(const std::string& id, std::int64_t at) = 0;  // last_used_at

    // Refresh tokens.
    virtual Status create_refresh_token(const RefreshToken& token) = 0;
    virtual Result<RefreshToken> find_refresh_token_by_hash(const std::string& token_hash) = 0;
    // Atomically marks `old_id` rotated (revoked_at, replaced_by = next.id) and inserts `next`, only if `old_id`
    // is still active; conflict if it was already rotated or revoked (the caller then revokes the family).
    virtual Status rotate_refresh_token(const std::string& old_id, const RefreshToken& next, std::int64_t at) = 0;
    virtual Status revoke_refresh_family(const std::string& family_id, std::int64_t at) = 0;
    virtual Status revoke_user_refresh_tokens(const std::string& user_id, std::int64_t at) = 0;

    // Agents. Names are unique within a workspace: conflict on a duplicate. Creating and updating also keep the
    // written version (older than the last kAgentVersionsKept pruned); deleting an agent deletes its versions.
    virtual Status create_agent(const Agent& agent) = 0;
    virtual Result<Agent> get_agent(const std::string& workspace_id, const std::string& id) = 0;
    virtual Result<Agent> find_agent_by_name(const std::string& workspace_id, const std::string& name) = 0;
    virtual Result<Page<Agent>> list_agents(const std::string& workspace_id, const PageRequest& page) = 0;
    // Replaces name and definition, increments version, sets updated_at; returns the stored record.
    virtual Result<Agent> update_agent(const Agent& agent) = 0;
    virtual Status delete_agent(const std::string& workspace_id, const std::string& id) = 0;
    // Newest first; the cursor is a version number (invalid_request when it is not one).
    virtual Result<Page<AgentVersion>> list_agent_versions(const std::string& workspace_id, const std::string& agent_id,
                                                           const PageRequest& page) = 0;
    virtual Result<AgentVersion> get_agent_version(const std::string& workspace_id, const std::string& agent_id,
                                                   std::int64_t version) = 0;

    // Phone numbers. Numbers are unique instance-wide: conflict on a duplicate.
    virtual Status create_phone(const PhoneNumber& phone) = 0;
    virtual Result<PhoneNumber> get_phone(const std::string& workspace_id, const std::string& id) = 0;
    virtual Result<PhoneNumber> find_phone_by_number(const std::string& number) = 0;  // instance-wide, for routing
    virtual Result<Page<PhoneNumber>> list_phones(const std::string& workspace_id, const PageRequest& page) = 0;
    virtual Result<PhoneNumber> update_phone(const PhoneNumber& phone) = 0;
    virtual Status delete_phone(const std::string& workspace_id, const std::string& id) = 0;

    // Calls and their turns.
    virtual Status create_call(const Call& call) = 0;
    virtual Result<Call> get_call(const std::string& workspace_id, const std::string& id) = 0;
    // Instance-wide, for carrier webhooks and media sockets (which name a call, not a workspace).
    virtual Result<Call> find_call(const std::string& id) = 0;
    virtual Result<Page<Call>> list_calls(const std::string& workspace_id, const CallFilter& filter,
                                          const PageRequest& page) = 0;
    // Every mutable field but the post-call analysis (outcome, summary, analysis), by (workspace_id, id).
    virtual Status update_call(const Call& call) = 0;
    // Only the post-call analysis (instance-wide): it runs beside late carrier callbacks, whose writes of the rest
    // of the call must neither undo it nor be undone by it.
    virtual Status set_call_analysis(const std::string& call_id, const std::string& outcome, const std::string& summary,
                                     const std::string& analysis) = 0;
    // Only the carrier's id of a call (instance-wide): the carrier's answer to a dial may come after its status
    // callbacks, whose writes it must not undo.
    virtual Status set_provider_call_id(const std::string& call_id, const std::string& provider_call_id) = 0;
    // Ends a call that has not ended yet with `status` and `end_reason` at `ended_at` (and `duration_s` unless
    // negative). Conflict when it has already ended: several daemons may settle one call, and only one may.
    virtual Status end_open_call(const std::string& call_id, const std::string& status, const std::string& end_reason,
                                 std::int64_t ended_at, double duration_s) = 0;
    // Calls of `instance_id` that have not ended (any workspace), oldest first.
    virtual Result<std::vector<Call>> list_open_calls(const std::string& instance_id) = 0;

    // Daemon instances: heartbeat inserts or renews (started_at is kept from the first); remove forgets one.
    virtual Status heartbeat_instance(const Instance& instance) = 0;
    virtual Result<std::vector<Instance>> list_instances() = 0;
    virtual Status remove_instance(const std::string& id) = 0;
    // Records that `key` (an Idempotency-Key) created `call_id`; when the key is already taken, returns the call id
    // it was first used for (and records nothing).
    virtual Result<std::string> claim_idempotency_key(const std::string& workspace_id, const std::string& key,
                                                      const std::string& call_id, std::int64_t at) = 0;
    virtual Result<CallTurn> append_turn(const CallTurn& turn) = 0;  // assigns seq when 0; returns the stored turn
    virtual Result<std::vector<CallTurn>> list_turns(const std::string& call_id) = 0;  // ordered by seq

    // Outbound webhooks.
    virtual Status create_webhook_endpoint(const WebhookEndpoint& endpoint) = 0;
    virtual Result<WebhookEndpoint> get_webhook_endpoint(const std::string& workspace_id, const std::string& id) = 0;
    virtual Result<WebhookEndpoint> find_webhook_endpoint(const std::string& id) = 0;  // instance-wide (deliveries)
    virtual Result<Page<WebhookEndpoint>> list_webhook_endpoints(const std::string& workspace_id, const PageRequest& page) = 0;
    virtual Status delete_webhook_endpoint(const std::string& workspace_id, const std::string& id) = 0;
    virtual Status create_webhook_delivery(const WebhookDelivery& delivery) = 0;
    virtual Result<WebhookDelivery> get_webhook_delivery(const std::string& id) = 0;
    virtual Status update_webhook_delivery(const WebhookDelivery& delivery) = 0;  // state, attempts, status, times
    virtual Result<Page<WebhookDelivery>> list_webhook_deliveries(const std::string& endpoint_id, const PageRequest& page) = 0;

    // Campaigns. `transition_campaign` moves a campaign to `to` only from one of `from` (conflict otherwise, with
    // the status it is in), stamping started_at on the first start and finished_at on completed or canceled.
    virtual Status create_campaign(const Campaign& campaign) = 0;
    virtual Result<Campaign> get_campaign(const std::string& workspace_id, const std::string& id) = 0;
    virtual Result<Campaign> find_campaign(const std::string& id) = 0;  // instance-wide (the dispatcher, jobs)
    virtual Result<Page<Campaign>> list_campaigns(const std::string& workspace_id, const PageRequest& page) = 0;
    virtual Result<std::vector<Campaign>> list_campaigns_by_status(const std::string& status) = 0;  // instance-wide
    virtual Result<Campaign> update_campaign(const Campaign& campaign) = 0;  // name, agent, phone, config
    virtual Result<Campaign> transition_campaign(const std::string& id, const std::vector<std::string>& from,
                                                 const std::string& to, std::int64_t at) = 0;

    // Campaign contacts. Adding merges by phone: a contact already in the campaign gets the new variables merged
    // over its own (and the new time zone when one is given); returns how many were new.
    virtual Result<std::int64_t> add_campaign_contacts(const std::vector<CampaignContact>& contacts) = 0;
    virtual Result<CampaignContact> get_campaign_contact(const std::string& id) = 0;
    // Newest first; of one state when `state` is not empty.
    virtual Result<Page<CampaignContact>> list_campaign_contacts(const std::string& campaign_id, const std::string& state,
                                                                 const PageRequest& page) = 0;
    virtual Result<ContactCounts> count_campaign_contacts(const std::string& campaign_id) = 0;
    // Atomically moves up to `limit` pending contacts due by `now` to dialing (attempts + 1, no call yet), never
    // letting the campaign's dialing contacts exceed `concurrency`; earliest due first.
    virtual Result<std::vector<CampaignContact>> claim_campaign_contacts(const std::string& campaign_id, int concurrency,
                                                                         std::int64_t now, int limit) = 0;
    // Records `call_id` as the call of attempt `attempt` unless that attempt already has one; returns the attempt's
    // call id either way. Conflict when the attempt is no longer in flight.
    virtual Result<std::string> set_contact_call(const std::string& contact_id, int attempt, const std::string& call_id) = 0;
    // Conflict when `end.attempt` is no longer the contact's attempt in flight.
    virtual Status end_contact_attempt(const AttemptEnd& end) = 0;
    virtual Result<std::vector<CampaignContact>> list_dialing_contacts(const std::string& campaign_id) = 0;
    // Pending contacts become canceled (a canceled campaign); returns how many.
    virtual Result<std::int64_t> cancel_pending_contacts(const std::string& campaign_id, std::int64_t at) = 0;

    // The do-not-call list. Adding a number already listed keeps the first entry (conflict).
    virtual Status add_dnc(const DncEntry& entry) = 0;
    virtual Status remove_dnc(const std::string& workspace_id, const std::string& phone) = 0;
    virtual Result<bool> is_dnc(const std::string& workspace_id, const std::string& phone) = 0;
    virtual Result<Page<DncEntry>> list_dnc(const std::string& workspace_id, const PageRequest& page) = 0;

    // Analytics. Adds call `call_id` to its day once: in one transaction, unless the call was counted before, the
    // day's row (a fresh one when there is none) is passed to `update` and stored. Returns whether it was counted now.
    virtual Result<bool> count_call(const std::string& call_id, const AnalyticsDay& key,
                                    const std::function<void(AnalyticsDay&)>& update) = 0;
    // Days of the workspace from `from_day` to `to_day` (inclusive, YYYY-MM-DD), of one agent when agent_id is set.
    virtual Result<std::vector<AnalyticsDay>> list_analytics(const std::string& workspace_id, const std::string& agent_id,
                                                             const std::string& from_day, const std::string& to_day) = 0;

    // Schema version currently applied.
    virtual Result<int> schema_version() = 0;
};

struct SqliteOptions {
    std::string path;               // ":memory:" is accepted (tests), otherwise a file
    int busy_timeout_ms = 5000;
    int pool_size = 8;              // connections kept open for concurrent readers
};

// The agent versions' cursor (a version number; 0 when empty), invalid_request naming the cursor otherwise; and
// their page of `limit` from up to limit + 1 rows, newest first, shared by the stores.
Result<std::int64_t> agent_version_cursor(const std::string& cursor);
Page<AgentVersion> agent_version_page(std::vector<AgentVersion> rows, int limit);

// Opens (creating if needed) the SQLite database, enables WAL and foreign keys, applies pending migrations.
// A database whose schema version is newer than this build knows is refused with a message saying so.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

// The schema version this build migrates to.
int sqlite_schema_version();

}  // namespace va
