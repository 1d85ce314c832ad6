#include "core/store/sqlite_migrations.hpp"

namespace va::sqlite {

namespace {

// Times are epoch milliseconds (INTEGER); JSON columns are TEXT. Workspace-owned rows cascade with their
// workspace. Calls keep agent_id as plain text (no foreign key) so history survives an agent's deletion.
constexpr const char* kInitial = R"SQL(
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX users_workspace ON users(workspace_id, id);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  user_id TEXT,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_workspace ON api_keys(workspace_id, id);
CREATE TABLE refresh_tokens (
  id TEXT PRIMARY KEY,
  family_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  replaced_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  definition TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);
CREATE INDEX agents_workspace ON agents(workspace_id, id);
CREATE TABLE phone_numbers (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  number TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
  label TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX phone_numbers_workspace ON phone_numbers(workspace_id, id);
CREATE TABLE calls (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  agent_id TEXT,
  phone_id TEXT,
  campaign_id TEXT,
  direction TEXT NOT NULL,
  channel TEXT NOT NULL,
  from_number TEXT NOT NULL DEFAULT '',
  to_number TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  provider_call_id TEXT,
  end_reason TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT '',
  metrics TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL DEFAULT 0,
  answered_at INTEGER NOT NULL DEFAULT 0,
  ended_at INTEGER NOT NULL DEFAULT 0,
  duration_s REAL NOT NULL DEFAULT 0
);
CREATE INDEX calls_workspace ON calls(workspace_id, id);
CREATE INDEX calls_agent ON calls(workspace_id, agent_id, id);
CREATE INDEX calls_campaign ON calls(campaign_id, id);
CREATE INDEX calls_provider ON calls(provider_call_id);
CREATE TABLE call_turns (
  call_id TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL,
  text TEXT NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  ended_ms INTEGER NOT NULL DEFAULT 0,
  interrupted INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (call_id, seq)
);
CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  agent_id TEXT NOT NULL,
  phone_id TEXT,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX campaigns_workspace ON campaigns(workspace_id, id);
CREATE TABLE campaign_contacts (
  id TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  phone TEXT NOT NULL,
  variables TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_call_id TEXT,
  last_outcome TEXT NOT NULL DEFAULT '',
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (campaign_id, phone)
);
CREATE INDEX campaign_contacts_state ON campaign_contacts(campaign_id, state, next_attempt_at);
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 5,
  run_at INTEGER NOT NULL,
  locked_by TEXT NOT NULL DEFAULT '',
  locked_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT UNIQUE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs(queue, state, run_at);
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  events TEXT NOT NULL DEFAULT '[]',
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
)SQL";

// Idempotency-Key of POST /calls/outbound: a retried request finds the call its first attempt created.
constexpr const char* kIdempotency = R"SQL(
CREATE TABLE idempotency_keys (
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  call_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, key)
);
)SQL";

// The job queue: a priority (higher first), and the index its claims walk (ready jobs of some types, by priority
// then due time; running ones whose lease ran out).
constexpr const char* kJobQueue = R"SQL(
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs(state, queue, priority DESC, run_at);
CREATE INDEX jobs_leases ON jobs(state, locked_until);
)SQL";

// Outbound webhooks: what a delivery's last attempt said, when it got through, and a note per endpoint.
constexpr const char* kWebhooks = R"SQL(
ALTER TABLE webhook_endpoints ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN delivered_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints(workspace_id, id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
)SQL";

// Post-call analysis: how the call turned out, and what the LLM made of it (summary and extracted fields).
constexpr const char* kAnalysis = R"SQL(
ALTER TABLE calls ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN analysis TEXT NOT NULL DEFAULT '{}';
)SQL";

// Analytics per workspace, agent and UTC day, kept up to date as each call is analysed (never by scanning calls on
// a request); a call is counted once (analytics_counted).
constexpr const char* kAnalytics = R"SQL(
CREATE TABLE analytics_daily (
  workspace_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  day TEXT NOT NULL,
  stats TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (workspace_id, agent_id, day)
);
CREATE TABLE analytics_counted (call_id TEXT PRIMARY KEY);
)SQL";

// Campaigns: when they started and finished, the dispatcher's look-up of running ones, each contact's own time zone,
// contact listings, and the workspace's do-not-call list.
constexpr const char* kCampaigns = R"SQL(
ALTER TABLE campaigns ADD COLUMN started_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN finished_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX campaigns_status ON campaigns(status);
ALTER TABLE campaign_contacts ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
CREATE INDEX campaign_contacts_list ON campaign_contacts(campaign_id, id);
CREATE TABLE dnc_numbers (
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  phone TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, phone)
);
)SQL";

// Several daemons on one store: the daemon that owns each call's session, and each daemon's heartbeat, so the
// others can tell when it has died and settle its calls.
constexpr const char* kInstances = R"SQL(
ALTER TABLE calls ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_open_by_instance ON calls(instance_id, ended_at);
CREATE TABLE instances (
  id TEXT PRIMARY KEY,
  base_url TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
)SQL";

// Agent version history (the last versions of each agent, pruned on write by the store). An agent that exists
// already gets its current version as its first entry, so every agent has at least one.
constexpr const char* kAgentVersions = R"SQL(
CREATE TABLE agent_versions (
  agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  workspace_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  definition TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (agent_id, version)
);
INSERT INTO agent_versions (agent_id, workspace_id, version, name, definition, updated_at)
  SELECT id, workspace_id, version, name, definition, updated_at FROM agents;
)SQL";

constexpr Migration kMigrations[] = {
    {1, "initial schema", kInitial},
    {2, "idempotency keys", kIdempotency},
    {3, "job queue priority", kJobQueue},
    {4, "webhook delivery log", kWebhooks},
    {5, "call outcome and analysis", kAnalysis},
    {6, "daily analytics", kAnalytics},
    {7, "campaigns", kCampaigns},
    {8, "daemon instances and call owners", kInstances},
    {9, "agent version history", kAgentVersions},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace va::sqlite
