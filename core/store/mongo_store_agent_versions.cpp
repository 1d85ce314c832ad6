// MongoDB Store: agent version history (SQLite's agent_versions table). Unlike SQLite, the agent's write and its
// version are two writes, not one transaction: a failure between them leaves that version out of the history
// (never the agent's own record wrong). Not run against a server here (none in this environment's tests).
#include <utility>

#include "core/store/mongo_store_impl.hpp"

namespace va::mongo {

Status MongoStore::keep_agent_version(const Agent& stored, const std::string& by) {
    AgentVersion v;
    v.agent_id = stored.id;
    v.workspace_id = stored.workspace_id;
    v.version = stored.version;
    v.name = stored.name;
    v.definition = stored.definition;
    v.updated_at = stored.updated_at;
    v.updated_by = by;
    if (auto kept = insert(kAgentVersions, to_doc(v), "agent version already exists"); !kept) return kept;
    auto pruned = delete_many(kAgentVersions, Bson().add("agent_id", v.agent_id).add(
                                                  "version", Bson().add("$lte", v.version - kAgentVersionsKept)));
    if (!pruned) return pruned.take_error();
    return Ok{};
}

Result<Page<AgentVersion>> MongoStore::list_agent_versions(const std::string& ws, const std::string& agent_id,
                                                           const PageRequest& req) {
    auto before = agent_version_cursor(req.cursor);
    if (!before) return before.take_error();
    int limit = std::clamp(req.limit, 1, 500);
    Bson filter = Bson().add("workspace_id", ws).add("agent_id", agent_id);
    if (*before > 0) filter.add("version", Bson().add("$lt", *before));
    FindOptions options;
    options.sort.add("version", -1);
    options.limit = limit + 1;
    auto items = all<AgentVersion>(kAgentVersions, filter, agent_version_from, std::move(options));
    if (!items) return items.take_error();
    return agent_version_page(std::move(*items), limit);
}

Result<AgentVersion> MongoStore::get_agent_version(const std::string& ws, const std::string& agent_id,
                                                   std::int64_t version) {
    return get<AgentVersion>(kAgentVersions,
                             Bson().add("workspace_id", ws).add("agent_id", agent_id).add("version", version),
                             agent_version_from, "agent version");
}

}  // namespace va::mongo
