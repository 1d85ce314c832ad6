// MongoDB Store: calls and their turns, daemon instances, Idempotency-Keys and the daily analytics.
#include "core/store/mongo_store_impl.hpp"

#include "core/util/time.hpp"

namespace va::mongo {

// --- calls ---------------------------------------------------------------------------------------------------------

Status MongoStore::create_call(const Call& c) {
    if (auto st = require(kWorkspaces, id_is(c.workspace_id)); !st) return st;
    return insert(kCalls, to_doc(c), "call already exists");
}
Result<Call> MongoStore::get_call(const std::string& ws, const std::string& id) {
    return get<Call>(kCalls, in_workspace(ws, id), call_from, "call");
}
Result<Call> MongoStore::find_call(const std::string& id) { return get<Call>(kCalls, id_is(id), call_from, "call"); }

Result<Page<Call>> MongoStore::list_calls(const std::string& ws, const CallFilter& f, const PageRequest& req) {
    Bson filter = Bson().add("workspace_id", ws);
    if (!f.agent_id.empty()) filter.add("agent_id", f.agent_id);
    if (!f.status.empty()) filter.add("status", f.status);
    if (!f.campaign_id.empty()) filter.add("campaign_id", f.campaign_id);
    if (!f.direction.empty()) filter.add("direction", f.direction);
    if (f.created_after != 0 || f.created_before != 0) {
        Bson range;
        if (f.created_after != 0) range.add("$gte", f.created_after);
        if (f.created_before != 0) range.add("$lt", f.created_before);
        filter.add("created_at", range);
    }
    return page<Call>(kCalls, std::move(filter), req, call_from);
}

Status MongoStore::update_call(const Call& c) {
    // Every mutable field but the post-call analysis (outcome, summary, analysis), which has its own write.
    auto updated = update_one(kCalls, in_workspace(c.workspace_id, c.id),
                              set_of(Bson()
                                      .add("agent_id", c.agent_id)
                                      .add("phone_id", c.phone_id)
                                      .add("campaign_id", c.campaign_id)
                                      .add("direction", c.direction)
                                      .add("channel", c.channel)
                                      .add("from_number", c.from_number)
                                      .add("to_number", c.to_number)
                                      .add("status", c.status)
                                      .add("provider_call_id", c.provider_call_id)
                                      .add("end_reason", c.end_reason)
                                      .add("metrics", or_empty_object(c.metrics))
                                      .add("started_at", c.started_at)
                                      .add("answered_at", c.answered_at)
                                      .add("ended_at", c.ended_at)
                                      .add("duration_s", c.duration_s)));
    if (!updated) return updated.take_error();
    if (updated->matched == 0) return not_found("call");
    return Ok{};
}

Status MongoStore::set_call_analysis(const std::string& call_id, const std::string& outcome, const std::string& summary,
                                     const std::string& analysis) {
    auto updated = update_one(kCalls, id_is(call_id),
                              set_of(Bson()
                                      .add("outcome", outcome)
                                      .add("summary", summary)
                                      .add("analysis", or_empty_object(analysis))));
    if (!updated) return updated.take_error();
    if (updated->matched == 0) return not_found("call");
    return Ok{};
}

Status MongoStore::set_provider_call_id(const std::string& call_id, const std::string& provider_call_id) {
    auto updated = update_one(kCalls, id_is(call_id), set_of(Bson().add("provider_call_id", provider_call_id)));
    if (!updated) return updated.take_error();
    if (updated->matched == 0) return not_found("call");
    return Ok{};
}

Status MongoStore::end_open_call(const std::string& call_id, const std::string& status, const std::string& end_reason,
                                 std::int64_t ended_at, double duration_s) {
    // The filter's ended_at = 0 makes this a compare-and-set: of several daemons settling one call, one matches.
    Bson fields = Bson().add("status", status).add("end_reason", end_reason).add("ended_at", ended_at);
    if (duration_s >= 0) fields.add("duration_s", duration_s);
    auto ended = update_one(kCalls, id_is(call_id).add("ended_at", std::int64_t{0}), set_of(std::move(fields)));
    if (!ended) return ended.take_error();
    if (ended->matched == 0) return make_error(ErrorCode::conflict, "the call has already ended, or is unknown");
    return Ok{};
}

Result<std::vector<Call>> MongoStore::list_open_calls(const std::string& instance_id) {
    FindOptions options;
    options.sort.add("_id", 1);
    return all<Call>(kCalls, Bson().add("instance_id", instance_id).add("ended_at", std::int64_t{0}), call_from,
                     std::move(options));
}

// --- instances -----------------------------------------------------------------------------------------------------

Status MongoStore::heartbeat_instance(const Instance& i) {
    // Upsert: base_url and heartbeat_at renewed, started_at only set by the first.
    Bson update = Bson()
                      .add("$set", Bson().add("base_url", i.base_url).add("heartbeat_at", i.heartbeat_at))
                      .add("$setOnInsert", Bson().add("started_at", i.started_at));
    auto beat = update_one(kInstances, id_is(i.id), update, "", true);
    // Two upserts of one new id at once: one inserts, the other hits its _id and updates on the retry.
    if (!beat && beat.error().code == ErrorCode::conflict) beat = update_one(kInstances, id_is(i.id), update, "", true);
    if (!beat) return beat.take_error();
    return Ok{};
}

Result<std::vector<Instance>> MongoStore::list_instances() {
    FindOptions options;
    options.sort.add("_id", 1);
    return all<Instance>(kInstances, Bson(), instance_from, std::move(options));
}

Status MongoStore::remove_instance(const std::string& id) {
    auto removed = delete_one(kInstances, id_is(id));
    if (!removed) return removed.take_error();
    return Ok{};
}

// --- idempotency keys ----------------------------------------------------------------------------------------------

Result<std::string> MongoStore::claim_idempotency_key(const std::string& ws, const std::string& key,
                                                      const std::string& call_id, std::int64_t at) {
    // Insert first and let the unique (workspace_id, key) index decide between racing requests; the loser reads
    // the winner's call.
    Bson doc = Bson().add("workspace_id", ws).add("key", key).add("call_id", call_id).add("created_at", at);
    auto claimed = insert(kIdempotency, doc, "idempotency key already used");
    if (claimed) return call_id;
    if (claimed.error().code != ErrorCode::conflict) return claimed.take_error();
    auto first = find_one(kIdempotency, Bson().add("workspace_id", ws).add("key", key));
    if (!first) return first.take_error();
    if (!*first) return claimed.take_error();
    return get_string((*first)->get(), "call_id");
}

// --- turns ---------------------------------------------------------------------------------------------------------

Result<CallTurn> MongoStore::append_turn(const CallTurn& turn) {
    // The call document keeps the highest seq handed out (turn_seq). SQLite computes MAX(seq) + 1 inside a
    // transaction; here $inc on that counter is the atomic step, and $max keeps it above an explicit seq. The same
    // findAndModify tells a missing call (not_found, as SQLite's foreign key does).
    Bson fields = Bson().add("turn_seq", 1);
    CallTurn stored = turn;
    if (stored.seq != 0) {
        auto counter = find_and_modify(kCalls, id_is(turn.call_id), Bson().add("$max", Bson().add("turn_seq", stored.seq)),
                                       nullptr, "", &fields);
        if (!counter) return counter.take_error();
        if (!*counter) return not_found("call");
        auto inserted = insert(kTurns, to_doc(stored), "turn already exists");
        if (!inserted) return inserted.take_error();
        return stored;
    }
    for (int race = 0; race < kMaxRaces; ++race) {
        auto counter = find_and_modify(kCalls, id_is(turn.call_id),
                                       Bson().add("$inc", Bson().add("turn_seq", std::int64_t{1})), nullptr, "", &fields);
        if (!counter) return counter.take_error();
        if (!*counter) return not_found("call");
        stored.seq = get_int((*counter)->get(), "turn_seq");
        auto inserted = insert(kTurns, to_doc(stored), "turn already exists");
        if (inserted) return stored;
        // An explicit seq written between our $inc and our insert took the number: draw the next one.
        if (inserted.error().code != ErrorCode::conflict) return inserted.take_error();
    }
    return make_error(ErrorCode::unavailable, "could not number the turn: too many concurrent writers");
}

Result<std::vector<CallTurn>> MongoStore::list_turns(const std::string& call_id) {
    FindOptions options;
    options.sort.add("seq", 1);
    return all<CallTurn>(kTurns, Bson().add("call_id", call_id), turn_from, std::move(options));
}

// --- analytics -----------------------------------------------------------------------------------------------------

Result<bool> MongoStore::count_call(const std::string& call_id, const AnalyticsDay& key,
                                    const std::function<void(AnalyticsDay&)>& update) {
    // Two writes where SQLite has one transaction. First the call's marker: its _id is the call id, so a second
    // count of the call stops here. Then the day's document, by compare-and-set on its revision (`update` is a
    // pure function of the stats, so it may run again after a lost race). Should the second write fail, the marker
    // is taken back so that the job's retry counts the call; only a crash between the two loses the call's count,
    // which errs on the side SQLite's atomicity does not need to: never counting a call twice.
    auto marked = insert(kAnalyticsCounted, Bson().add("_id", call_id).add("counted_at", now_ms()), "counted");
    if (!marked) {
        if (marked.error().code == ErrorCode::conflict) return false;
        return marked.take_error();
    }
    Bson filter = Bson().add("workspace_id", key.workspace_id).add("agent_id", key.agent_id).add("day", key.day);
    auto add_to_day = [&]() -> Status {
        for (int race = 0; race < kMaxRaces; ++race) {
            auto found = find_one(kAnalyticsDaily, filter);
            if (!found) return found.take_error();
            AnalyticsDay day = key;
            day.stats = *found ? get_string((*found)->get(), "stats") : std::string("{}");
            std::int64_t rev = *found ? get_int((*found)->get(), "rev") : 0;
            update(day);
            if (!*found) {
                Bson doc = Bson()
                               .add("workspace_id", key.workspace_id)
                               .add("agent_id", key.agent_id)
                               .add("day", key.day)
                               .add("stats", day.stats)
                               .add("rev", std::int64_t{1});
                auto inserted = insert(kAnalyticsDaily, doc, "");
                if (inserted) return Ok{};
                if (inserted.error().code != ErrorCode::conflict) return inserted;
                continue;  // another call of the same day created it first
            }
            Bson same_rev = Bson::copy_of(filter.get());
            same_rev.add("rev", rev);
            auto stored = update_one(kAnalyticsDaily, same_rev,
                                     Bson()
                                         .add("$set", Bson().add("stats", day.stats))
                                         .add("$inc", Bson().add("rev", std::int64_t{1})));
            if (!stored) return stored.take_error();
            if (stored->matched == 1) return Ok{};
        }
        return make_error(ErrorCode::unavailable, "analytics day changed too often to update");
    };
    if (auto st = add_to_day(); !st) {
        (void)delete_one(kAnalyticsCounted, id_is(call_id));
        return st.take_error();
    }
    return true;
}

Result<std::vector<AnalyticsDay>> MongoStore::list_analytics(const std::string& ws, const std::string& agent_id,
                                                             const std::string& from_day, const std::string& to_day) {
    Bson filter = Bson().add("workspace_id", ws);
    if (!agent_id.empty()) filter.add("agent_id", agent_id);
    filter.add("day", Bson().add("$gte", from_day).add("$lte", to_day));
    FindOptions options;
    options.sort.add("day", 1).add("agent_id", 1);
    return all<AnalyticsDay>(kAnalyticsDaily, filter, analytics_from, std::move(options));
}

}  // namespace va::mongo
