#include "core/jobs/redis_job_store.hpp"

#include <algorithm>

namespace va {

namespace {

// Shared by every script. Keys are built from the prefix (ARGV[1]) inside the scripts, which a single Redis (not a
// Redis Cluster) allows; a job's stream is named by its type and priority, so a higher priority is read first.
//   <p>:job:<id>              hash: the job
//   <p>:key:<idempotency key> the job id that took the key
//   <p>:stream:<type>:<prio>  stream of job ids, consumer group "workers"
//   <p>:prios:<type>          sorted set of the priorities that type has streams for
//   <p>:delayed               sorted set: job id -> run_after (not yet due)
//   <p>:leases                sorted set: job id -> lease expiry (running)
//   <p>:index                 sorted set of every job id, by id (listing, newest first)
//   <p>:dead                  stream: dead letters
constexpr const char* kPrelude = R"lua(
local p = ARGV[1]
local function jobkey(id) return p .. ':job:' .. id end
-- A due job goes to the end of its type and priority's stream.
local function push(id)
  local h = jobkey(id)
  local f = redis.call('HMGET', h, 'type', 'priority')
  local s = p .. ':stream:' .. f[1] .. ':' .. f[2]
  if redis.call('EXISTS', s) == 0 then redis.pcall('XGROUP', 'CREATE', s, 'workers', '0', 'MKSTREAM') end
  local e = redis.call('XADD', s, '*', 'id', id)
  redis.call('ZADD', p .. ':prios:' .. f[1], tonumber(f[2]), f[2])
  redis.call('HSET', h, 'state', 'queued', 'stream', s, 'entry', e)
end
-- The lease holder's operations start here: the job, or a reason it is not theirs.
local function held(id, owner)
  local f = redis.call('HMGET', jobkey(id), 'state', 'lease_owner', 'stream', 'entry')
  if not f[1] then return nil, 'missing' end
  if f[1] ~= 'running' or f[2] ~= owner then return nil, 'conflict' end
  return f, nil
end
-- Out of the group's pending list and the leases: the entry is finished with, whatever comes next.
local function settle(id, f)
  if f[3] and f[4] and f[4] ~= '' then
    redis.call('XACK', f[3], 'workers', f[4])
    redis.call('XDEL', f[3], f[4])
  end
  redis.call('ZREM', p .. ':leases', id)
end
)lua";

std::string script(const char* body) { return std::string(kPrelude) + body; }

// ARGV: p, id, type, payload, priority, max_attempts, run_after, idempotency key, created_at.
const RedisScript kEnqueue(script(R"lua(
local id, key, run_after, created = ARGV[2], ARGV[8], tonumber(ARGV[7]), ARGV[9]
if key ~= '' then
  local existing = redis.call('GET', p .. ':key:' .. key)
  if existing and redis.call('EXISTS', jobkey(existing)) == 1 then return redis.call('HGETALL', jobkey(existing)) end
end
local h = jobkey(id)
redis.call('HSET', h, 'id', id, 'type', ARGV[3], 'payload', ARGV[4], 'state', 'queued', 'priority', ARGV[5],
           'attempts', 0, 'max_attempts', ARGV[6], 'run_after', ARGV[7], 'lease_owner', '', 'lease_expires', 0,
           'last_error', '', 'idempotency_key', key, 'created_at', created, 'updated_at', created,
           'stream', '', 'entry', '')
if key ~= '' then redis.call('SET', p .. ':key:' .. key, id) end
redis.call('ZADD', p .. ':index', 0, id)
if run_after > tonumber(created) then
  redis.call('ZADD', p .. ':delayed', run_after, id)
else
  push(id)
end
return redis.call('HGETALL', h)
)lua"));

// ARGV: p, owner, now, lease_until, limit, types...
const RedisScript kClaim(script(R"lua(
local owner, now, lease_until, limit = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local wanted = {}
for i = 6, #ARGV do wanted[ARGV[i]] = true end
local out = {}
local function take(id)
  local h = jobkey(id)
  redis.call('HINCRBY', h, 'attempts', 1)
  redis.call('HSET', h, 'state', 'running', 'lease_owner', owner, 'lease_expires', lease_until, 'updated_at', ARGV[3])
  redis.call('ZADD', p .. ':leases', lease_until, id)
  out[#out + 1] = redis.call('HGETALL', h)
end
-- Delayed jobs that are due join their streams.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. ':delayed', '-inf', now, 'LIMIT', 0, 512)) do
  redis.call('ZREM', p .. ':delayed', id)
  if redis.call('EXISTS', jobkey(id)) == 1 then push(id) end
end
-- Leases that ran out (their worker died or stalled): the pending entry moves to this consumer.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. ':leases', '-inf', '(' .. now, 'LIMIT', 0, 1024)) do
  if #out >= limit then break end
  local f = redis.call('HMGET', jobkey(id), 'type', 'stream', 'entry', 'state')
  if not f[1] or f[4] ~= 'running' then
    redis.call('ZREM', p .. ':leases', id)
  elseif wanted[f[1]] then
    redis.call('XCLAIM', f[2], 'workers', owner, 0, f[3], 'JUSTID')
    take(id)
  end
end
-- New entries, higher priorities first.
local streams = {}
for t, _ in pairs(wanted) do
  for _, prio in ipairs(redis.call('ZRANGE', p .. ':prios:' .. t, 0, -1)) do
    streams[#streams + 1] = {tonumber(prio), p .. ':stream:' .. t .. ':' .. prio}
  end
end
table.sort(streams, function(a, b) return a[1] > b[1] end)
for _, s in ipairs(streams) do
  if #out >= limit then break end
  local r = redis.pcall('XREADGROUP', 'GROUP', 'workers', owner, 'COUNT', limit - #out, 'STREAMS', s[2], '>')
  if type(r) == 'table' and r[1] then
    for _, entry in ipairs(r[1][2]) do
      local id = entry[2][2]
      if redis.call('EXISTS', jobkey(id)) == 1 then
        take(id)
      else
        redis.call('XACK', s[2], 'workers', entry[1])
        redis.call('XDEL', s[2], entry[1])
      end
    end
  end
end
return out
)lua"));

// ARGV: p, id, owner, lease_until. Re-claiming the entry for ourselves also resets its idle time in the group.
const RedisScript kRenew(script(R"lua(
local id = ARGV[2]
local f, why = held(id, ARGV[3])
if not f then return why end
redis.call('HSET', jobkey(id), 'lease_expires', ARGV[4])
redis.call('ZADD', p .. ':leases', ARGV[4], id)
redis.call('XCLAIM', f[3], 'workers', ARGV[3], 0, f[4], 'JUSTID')
return 'ok'
)lua"));

// ARGV: p, id, owner, at, ttl_ms.
const RedisScript kComplete(script(R"lua(
local id, ttl = ARGV[2], tonumber(ARGV[5])
local f, why = held(id, ARGV[3])
if not f then return why end
settle(id, f)
local h = jobkey(id)
redis.call('HSET', h, 'state', 'done', 'lease_expires', 0, 'updated_at', ARGV[4], 'entry', '')
if ttl > 0 then
  redis.call('PEXPIRE', h, ttl)
  local key = redis.call('HGET', h, 'idempotency_key')
  if key and key ~= '' then redis.call('PEXPIRE', p .. ':key:' .. key, ttl) end
end
return 'ok'
)lua"));

// ARGV: p, id, owner, error, run_after, dead (0/1), at, dead letters max.
const RedisScript kFail(script(R"lua(
local id, err, run_after, at = ARGV[2], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[7])
local f, why = held(id, ARGV[3])
if not f then return why end
settle(id, f)
local h = jobkey(id)
if ARGV[6] == '1' then
  redis.call('HSET', h, 'state', 'dead', 'last_error', err, 'lease_expires', 0, 'updated_at', ARGV[7], 'entry', '')
  redis.call('XADD', p .. ':dead', 'MAXLEN', '~', ARGV[8], '*', 'id', id, 'type', redis.call('HGET', h, 'type'),
             'error', err, 'at', ARGV[7])
else
  redis.call('HSET', h, 'last_error', err, 'run_after', ARGV[5], 'lease_expires', 0, 'updated_at', ARGV[7])
  if run_after > at then
    redis.call('HSET', h, 'state', 'queued', 'entry', '')
    redis.call('ZADD', p .. ':delayed', run_after, id)
  else
    push(id)
  end
end
return 'ok'
)lua"));

// ARGV: p, id, owner, at.
const RedisScript kRelease(script(R"lua(
local id = ARGV[2]
local f, why = held(id, ARGV[3])
if not f then return why end
settle(id, f)
local h = jobkey(id)
redis.call('HINCRBY', h, 'attempts', -1)
redis.call('HSET', h, 'run_after', ARGV[4], 'lease_expires', 0, 'updated_at', ARGV[4])
push(id)
return 'ok'
)lua"));

// ARGV: p, state, type, cursor, limit. Walks the index newest first, dropping ids whose jobs expired; looks at a
// bounded number of ids per call, so a page may come back short with a cursor to go on from.
const RedisScript kList(script(R"lua(
local state, typ, cursor, limit = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local out = {}
local from = cursor == '' and '+' or '(' .. cursor
local scanned, last = 0, ''
while #out < limit and scanned < 5000 do
  local ids = redis.call('ZREVRANGEBYLEX', p .. ':index', from, '-', 'LIMIT', 0, 500)
  if #ids == 0 then last = ''; break end
  for _, id in ipairs(ids) do
    scanned = scanned + 1
    last = id
    local f = redis.call('HMGET', jobkey(id), 'state', 'type')
    if not f[1] then
      redis.call('ZREM', p .. ':index', id)
    elseif (state == '' or f[1] == state) and (typ == '' or f[2] == typ) then
      out[#out + 1] = redis.call('HGETALL', jobkey(id))
      if #out >= limit then break end
    end
  end
  from = '(' .. last
end
return {last, out}
)lua"));

std::int64_t number(const std::string& s) {
    try {
        return s.empty() ? 0 : std::stoll(s);
    } catch (...) {
        return 0;
    }
}

Job read_job(const RedisValue& hash) {
    Job j;
    for (std::size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
        const auto& k = hash.elements[i].str;
        const auto& v = hash.elements[i + 1].str;
        if (k == "id") j.id = v;
        else if (k == "type") j.type = v;
        else if (k == "payload") j.payload = v;
        else if (k == "state") j.state = v;
        else if (k == "priority") j.priority = int(number(v));
        else if (k == "attempts") j.attempts = int(number(v));
        else if (k == "max_attempts") j.max_attempts = int(number(v));
        else if (k == "run_after") j.run_after = number(v);
        else if (k == "lease_owner") j.lease_owner = v;
        else if (k == "lease_expires") j.lease_expires = number(v);
        else if (k == "last_error") j.last_error = v;
        else if (k == "idempotency_key") j.idempotency_key = v;
        else if (k == "created_at") j.created_at = number(v);
        else if (k == "updated_at") j.updated_at = number(v);
    }
    return j;
}

}  // namespace

RedisJobStore::RedisJobStore(std::shared_ptr<RedisPool> redis, RedisJobStoreOptions options)
    : m_redis(std::move(redis)), m_options(std::move(options)) {}

Result<Job> RedisJobStore::enqueue_job(const Job& j) {
    auto r = m_redis->eval(kEnqueue, {},
                           {m_options.prefix, j.id, j.type, j.payload, std::to_string(j.priority),
                            std::to_string(j.max_attempts), std::to_string(j.run_after), j.idempotency_key,
                            std::to_string(j.created_at)});
    if (!r) return r.take_error();
    return read_job(*r);
}

Result<std::vector<Job>> RedisJobStore::claim_jobs(const std::vector<std::string>& types, const std::string& owner,
                                                   std::int64_t now, std::int64_t lease_until, int limit) {
    if (types.empty() || limit <= 0) return std::vector<Job>{};
    std::vector<std::string> args{m_options.prefix, owner, std::to_string(now), std::to_string(lease_until),
                                  std::to_string(limit)};
    args.insert(args.end(), types.begin(), types.end());
    auto r = m_redis->eval(kClaim, {}, args);
    if (!r) return r.take_error();
    std::vector<Job> jobs;
    for (const auto& hash : r->elements) jobs.push_back(read_job(hash));
    std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
        return a.priority != b.priority ? a.priority > b.priority : a.run_after < b.run_after;
    });
    return jobs;
}

Status RedisJobStore::leased(const char* what, const std::string& id, Result<RedisValue> reply) {
    if (!reply) return reply.take_error();
    if (reply->str == "ok") return Ok{};
    return make_error(ErrorCode::conflict, std::string("cannot ") + what + " job " + id + ": it is not leased to this worker");
}

Status RedisJobStore::renew_job_lease(const std::string& id, const std::string& owner, std::int64_t lease_until) {
    return leased("renew", id, m_redis->eval(kRenew, {}, {m_options.prefix, id, owner, std::to_string(lease_until)}));
}

Status RedisJobStore::complete_job(const std::string& id, const std::string& owner, std::int64_t at) {
    return leased("complete", id,
                  m_redis->eval(kComplete, {},
                                {m_options.prefix, id, owner, std::to_string(at), std::to_string(m_options.done_ttl_ms)}));
}

Status RedisJobStore::fail_job(const std::string& id, const std::string& owner, const std::string& error,
                               std::int64_t run_after, bool dead, std::int64_t at) {
    return leased("fail", id,
                  m_redis->eval(kFail, {},
                                {m_options.prefix, id, owner, error, std::to_string(run_after), dead ? "1" : "0",
                                 std::to_string(at), std::to_string(m_options.dead_letters_max)}));
}

Status RedisJobStore::release_job(const std::string& id, const std::string& owner, std::int64_t at) {
    return leased("release", id, m_redis->eval(kRelease, {}, {m_options.prefix, id, owner, std::to_string(at)}));
}

Result<Job> RedisJobStore::get_job(const std::string& id) {
    auto r = m_redis->command({"HGETALL", m_options.prefix + ":job:" + id});
    if (!r) return r.take_error();
    if (r->elements.empty()) return make_error(ErrorCode::not_found, "job not found");
    return read_job(*r);
}

Result<Page<Job>> RedisJobStore::list_jobs(const std::string& state, const std::string& type, const PageRequest& req) {
    int limit = std::clamp(req.limit, 1, 500);
    auto r = m_redis->eval(kList, {}, {m_options.prefix, state, type, req.cursor, std::to_string(limit + 1)});
    if (!r) return r.take_error();
    Page<Job> page;
    if (r->elements.size() != 2) return make_error(ErrorCode::internal, "redis: unexpected reply listing jobs");
    for (const auto& hash : r->elements[1].elements) page.items.push_back(read_job(hash));
    if (int(page.items.size()) > limit) {
        page.items.resize(std::size_t(limit));
        page.next_cursor = page.items.back().id;
    } else if (!r->elements[0].str.empty()) {
        // The walk stopped at its bound before the page was full: go on from where it stopped.
        page.next_cursor = r->elements[0].str;
    }
    return page;
}

}  // namespace va
