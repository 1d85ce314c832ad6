// MongoDB Store: the job queue, campaigns and their contacts, and the do-not-call list: the records several daemons
// compete for. Every claim is a findAndModify whose filter re-checks, atomically on one document, what made the
// record claimable; nothing relies on a multi-document transaction (a standalone server has none).
//
// Campaign slots. SQLite counts a campaign's dialing contacts and claims inside one write transaction. Here the
// limit is held by the database itself: a dialing contact carries a slot number 0..concurrency-1, and a unique
// index on (campaign_id, slot), partial on state = "dialing", lets no two dialing contacts of a campaign hold the
// same slot. A claimer picks slots it saw free and moves a due contact to dialing with one of them; when a
// concurrent claimer took that slot first, the update fails with a duplicate key and changes nothing, and the
// claimer tries its next slot. So however many dispatchers race, at most `concurrency` contacts dial at once.
// Ending an attempt moves the contact out of "dialing", out of the partial index, which frees its slot in the same
// single-document write: no counter can drift from the contacts, and a dispatcher that dies between two writes
// leaves nothing to repair. Rejected alternatives: a per-campaign counter with a conditional $inc (a second
// document to keep in step with the contacts, out of step after any crash between the two writes) and a lock
// document with a lease (a stalled holder past its lease lets two claimers in).
// Caveat: slots are numbered under the concurrency of the claim; when a campaign's concurrency is lowered while
// contacts dial on higher slots, claims first count the dialing contacts (as SQLite does) and take only the room
// left, which two claimers racing on those counts can overrun by the number of high-slot holders until they end.
#include "core/store/mongo_store_impl.hpp"

#include <algorithm>
#include <set>

#include "core/util/time.hpp"

namespace va::mongo {

// --- jobs ----------------------------------------------------------------------------------------------------------

Result<Job> MongoStore::enqueue_job(const Job& j) {
    auto by_key = [&]() -> Result<std::optional<Job>> {
        auto found = find_one(kJobs, Bson().add("idempotency_key", j.idempotency_key));
        if (!found) return found.take_error();
        if (!*found) return std::optional<Job>();
        return std::optional<Job>(job_from((*found)->get()));
    };
    if (!j.idempotency_key.empty()) {
        auto existing = by_key();
        if (!existing) return existing.take_error();
        if (*existing) return **existing;
    }
    Job stored = j;
    stored.state = "queued";
    stored.attempts = 0;
    stored.updated_at = j.created_at;
    Job doc = stored;  // as SQLite inserts it: no lease, no error
    doc.lease_owner.clear();
    doc.lease_expires = 0;
    doc.last_error.clear();
    auto inserted = insert(kJobs, to_doc(doc), "job already exists");
    if (inserted) return stored;
    // Two enqueues of one key at once: the unique index let one in; the other returns that one.
    if (inserted.error().code == ErrorCode::conflict && !j.idempotency_key.empty()) {
        auto existing = by_key();
        if (!existing) return existing.take_error();
        if (*existing) return **existing;
    }
    return inserted.take_error();
}

Result<std::optional<Job>> MongoStore::claim_one_job(const Bson& query, const Bson* sort, const std::string& owner,
                                                     std::int64_t now, std::int64_t lease_until) {
    Bson update = Bson()
                      .add("$set", Bson()
                                       .add("state", "running")
                                       .add("lease_owner", owner)
                                       .add("lease_expires", lease_until)
                                       .add("updated_at", now))
                      .add("$inc", Bson().add("attempts", 1));
    auto claimed = find_and_modify(kJobs, query, update, sort);
    if (!claimed) return claimed.take_error();
    if (!*claimed) return std::optional<Job>();
    return std::optional<Job>(job_from((*claimed)->get()));
}

Result<std::vector<Job>> MongoStore::claim_jobs(const std::vector<std::string>& types, const std::string& owner,
                                                std::int64_t now, std::int64_t lease_until, int limit) {
    if (types.empty() || limit <= 0) return std::vector<Job>{};
    // One findAndModify per job: its filter (queued and due, or running with a lapsed lease) is evaluated and the
    // lease written in one atomic step on that document, so two workers never lease the same job.
    std::vector<Job> jobs;
    auto take = [&](const Bson& query, const Bson& sort) -> Status {
        while (static_cast<int>(jobs.size()) < limit) {
            auto one = claim_one_job(query, &sort, owner, now, lease_until);
            if (!one) return one.take_error();
            if (!*one) break;
            jobs.push_back(std::move(**one));
        }
        return Ok{};
    };
    // Leases that ran out (a worker died) first, then due jobs by priority, due time and age, as SQLite does.
    Bson expired = Bson()
                       .add("state", "running")
                       .add("type", Bson().add("$in", types))
                       .add("lease_expires", Bson().add("$lt", now));
    Bson due = Bson()
                   .add("state", "queued")
                   .add("type", Bson().add("$in", types))
                   .add("run_after", Bson().add("$lte", now));
    Status taken = take(expired, Bson().add("lease_expires", 1));
    if (taken) taken = take(due, Bson().add("priority", -1).add("run_after", 1).add("_id", 1));
    // Jobs leased before a failure are the caller's now: handing them back beats leaving them leased to a worker
    // that never heard of them until the lease runs out.
    if (!taken && jobs.empty()) return taken.take_error();
    std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
        return a.priority != b.priority ? a.priority > b.priority : a.run_after < b.run_after;
    });
    return jobs;
}

namespace {

Error lease_lost(const std::string& id) {
    return make_error(ErrorCode::conflict, "job " + id + " is not leased to this worker");
}

Bson leased(const std::string& id, const std::string& owner) {
    return Bson().add("_id", id).add("lease_owner", owner).add("state", "running");
}

}  // namespace

Status MongoStore::renew_job_lease(const std::string& id, const std::string& owner, std::int64_t lease_until) {
    auto renewed = update_one(kJobs, leased(id, owner), set_of(Bson().add("lease_expires", lease_until)));
    if (!renewed) return renewed.take_error();
    if (renewed->matched == 0) return lease_lost(id);
    return Ok{};
}

Status MongoStore::complete_job(const std::string& id, const std::string& owner, std::int64_t at) {
    auto done = update_one(kJobs, leased(id, owner),
                           set_of(Bson()
                                      .add("state", "done")
                                      .add("lease_owner", "")
                                      .add("lease_expires", std::int64_t{0})
                                      .add("updated_at", at)));
    if (!done) return done.take_error();
    if (done->matched == 0) return lease_lost(id);
    return Ok{};
}

Status MongoStore::fail_job(const std::string& id, const std::string& owner, const std::string& error,
                            std::int64_t run_after, bool dead, std::int64_t at) {
    auto failed = update_one(kJobs, leased(id, owner),
                             set_of(Bson()
                                        .add("state", dead ? "dead" : "queued")
                                        .add("run_after", run_after)
                                        .add("last_error", error)
                                        .add("lease_owner", "")
                                        .add("lease_expires", std::int64_t{0})
                                        .add("updated_at", at)));
    if (!failed) return failed.take_error();
    if (failed->matched == 0) return lease_lost(id);
    return Ok{};
}

Status MongoStore::release_job(const std::string& id, const std::string& owner, std::int64_t at) {
    // attempts = MAX(attempts - 1, 0) without an update pipeline: decrement where there is an attempt to take
    // back, else just requeue. Each of the two is conditional on the lease, so a lost lease still answers conflict.
    Bson requeue = Bson()
                       .add("state", "queued")
                       .add("lease_owner", "")
                       .add("lease_expires", std::int64_t{0})
                       .add("updated_at", at);
    Bson with_attempt = leased(id, owner).add("attempts", Bson().add("$gt", 0));
    auto released = update_one(kJobs, with_attempt,
                               Bson().add("$set", requeue).add("$inc", Bson().add("attempts", -1)));
    if (!released) return released.take_error();
    if (released->matched == 1) return Ok{};
    released = update_one(kJobs, leased(id, owner), set_of(std::move(requeue)));
    if (!released) return released.take_error();
    if (released->matched == 0) return lease_lost(id);
    return Ok{};
}

Result<Job> MongoStore::get_job(const std::string& id) { return get<Job>(kJobs, id_is(id), job_from, "job"); }

Result<Page<Job>> MongoStore::list_jobs(const std::string& state, const std::string& type, const PageRequest& req) {
    Bson filter;
    if (!state.empty()) filter.add("state", state);
    if (!type.empty()) filter.add("type", type);
    return page<Job>(kJobs, std::move(filter), req, job_from);
}

// --- campaigns -----------------------------------------------------------------------------------------------------

Status MongoStore::create_campaign(const Campaign& c) {
    if (auto st = require(kWorkspaces, id_is(c.workspace_id)); !st) return st;
    return insert(kCampaigns, to_doc(c), "campaign already exists");
}
Result<Campaign> MongoStore::get_campaign(const std::string& ws, const std::string& id) {
    return get<Campaign>(kCampaigns, in_workspace(ws, id), campaign_from, "campaign");
}
Result<Campaign> MongoStore::find_campaign(const std::string& id) {
    return get<Campaign>(kCampaigns, id_is(id), campaign_from, "campaign");
}
Result<Page<Campaign>> MongoStore::list_campaigns(const std::string& ws, const PageRequest& req) {
    return page<Campaign>(kCampaigns, Bson().add("workspace_id", ws), req, campaign_from);
}
Result<std::vector<Campaign>> MongoStore::list_campaigns_by_status(const std::string& status) {
    FindOptions options;
    options.sort.add("_id", 1);
    return all<Campaign>(kCampaigns, Bson().add("status", status), campaign_from, std::move(options));
}
Result<Campaign> MongoStore::update_campaign(const Campaign& c) {
    auto updated = find_and_modify(kCampaigns, in_workspace(c.workspace_id, c.id),
                                   set_of(Bson()
                                              .add("name", c.name)
                                              .add("agent_id", c.agent_id)
                                              .add("phone_id", c.phone_id)
                                              .add("config", c.config)
                                              .add("updated_at", now_ms())));
    if (!updated) return updated.take_error();
    if (!*updated) return not_found("campaign");
    return campaign_from((*updated)->get());
}

Result<Campaign> MongoStore::transition_campaign(const std::string& id, const std::vector<std::string>& from,
                                                 const std::string& to, std::int64_t at) {
    // The status filter makes each move a compare-and-set. started_at is stamped only on the first start: that
    // case is its own findAndModify (filter started_at = 0) so the stamp and the move stay one atomic write.
    auto shift = [&](bool first_start) -> Result<std::optional<Bson>> {
        Bson query = id_is(id).add("status", Bson().add("$in", from));
        Bson fields = Bson().add("status", to).add("updated_at", at);
        if (first_start) {
            query.add("started_at", std::int64_t{0});
            fields.add("started_at", at);
        }
        if (to == "completed" || to == "canceled") fields.add("finished_at", at);
        return find_and_modify(kCampaigns, query, set_of(std::move(fields)));
    };
    Result<std::optional<Bson>> moved = std::optional<Bson>();
    if (to == "running") {
        moved = shift(true);
        if (!moved) return moved.take_error();
    }
    if (!*moved) moved = shift(false);
    if (!moved) return moved.take_error();
    if (*moved) return campaign_from((**moved).get());
    auto current = find_campaign(id);
    if (!current) return current.take_error();
    return make_error(ErrorCode::conflict, "the campaign is " + current->status);
}

// --- campaign contacts ---------------------------------------------------------------------------------------------

Result<bool> MongoStore::merge_contact(const CampaignContact& c) {
    // Read, merge in memory, write back only if the variables are still what was read (compare-and-set): a
    // concurrent import of the same person retries instead of losing one side's variables.
    Bson by_phone = Bson().add("campaign_id", c.campaign_id).add("phone", c.phone);
    for (int race = 0; race < kMaxRaces; ++race) {
        auto found = find_one(kContacts, by_phone);
        if (!found) return found.take_error();
        if (!*found) return false;
        std::string before = get_string((*found)->get(), "variables");
        auto merged = merge_json(before, c.variables);
        if (!merged) return make_error(ErrorCode::invalid_request, "contact " + c.phone + ": variables are not JSON");
        Bson fields = Bson().add("variables", *merged).add("updated_at", c.updated_at);
        if (!c.timezone.empty()) fields.add("timezone", c.timezone);
        Bson unchanged = Bson::copy_of(by_phone.get());
        unchanged.add("variables", before);
        auto stored = update_one(kContacts, unchanged, set_of(std::move(fields)));
        if (!stored) return stored.take_error();
        if (stored->matched == 1) return true;
    }
    return make_error(ErrorCode::unavailable, "contact " + c.phone + " changed too often to merge");
}

Result<std::int64_t> MongoStore::add_campaign_contacts(const std::vector<CampaignContact>& contacts) {
    // Per contact rather than in one transaction: an import that fails half-way has stored its first part, and
    // importing the same file again merges those (merging variables with themselves changes nothing).
    std::set<std::string> campaigns_seen;
    std::int64_t added = 0;
    for (const auto& c : contacts) {
        if (campaigns_seen.insert(c.campaign_id).second)
            if (auto st = require(kCampaigns, id_is(c.campaign_id)); !st) return st.take_error();
        auto inserted = insert(kContacts, to_doc(c), "contact already exists");
        if (inserted) {
            ++added;
            continue;
        }
        if (inserted.error().code != ErrorCode::conflict) return inserted.take_error();
        auto merged = merge_contact(c);
        if (!merged) return merged.take_error();
        if (!*merged) return inserted.take_error();  // the duplicate was the contact's id, not its phone
    }
    return added;
}

Result<CampaignContact> MongoStore::get_campaign_contact(const std::string& id) {
    return get<CampaignContact>(kContacts, id_is(id), contact_from, "contact");
}

Result<Page<CampaignContact>> MongoStore::list_campaign_contacts(const std::string& campaign_id,
                                                                 const std::string& state, const PageRequest& req) {
    Bson filter = Bson().add("campaign_id", campaign_id);
    if (!state.empty()) filter.add("state", state);
    return page<CampaignContact>(kContacts, std::move(filter), req, contact_from);
}

Result<ContactCounts> MongoStore::count_campaign_contacts(const std::string& campaign_id) {
    std::vector<Bson> stages;
    stages.push_back(Bson().add("$match", Bson().add("campaign_id", campaign_id)));
    stages.push_back(Bson().add("$group", Bson()
                                              .add("_id", "$state")
                                              .add("n", Bson().add("$sum", 1))
                                              .add("attempts", Bson().add("$sum", "$attempts"))));
    ContactCounts counts;
    auto st = aggregate(kContacts, Bson().add("pipeline", stages), [&](const bson_t* d) {
        std::int64_t n = get_int(d, "n");
        counts.by_state[get_string(d, "_id")] = n;
        counts.total += n;
        counts.attempts += get_int(d, "attempts");
    });
    if (!st) return st.take_error();
    return counts;
}

Result<std::vector<CampaignContact>> MongoStore::claim_campaign_contacts(const std::string& campaign_id,
                                                                         int concurrency, std::int64_t now, int limit) {
    // See the top of this file for why slots hold the limit.
    using Contacts = std::vector<CampaignContact>;
    Bson dialing = Bson().add("campaign_id", campaign_id).add("state", "dialing");
    auto in_flight = count(kContacts, dialing);
    if (!in_flight) return in_flight.take_error();
    std::int64_t room = std::min<std::int64_t>(limit, std::int64_t{concurrency} - *in_flight);
    if (room <= 0) return Contacts{};

    std::set<std::int64_t> taken;
    FindOptions slots_only;
    slots_only.projection.add("slot", 1);
    auto seen = each(kContacts, dialing, slots_only, [&](const bson_t* d) {
        bson_iter_t it;
        // Numbered slots only: a contact imported already dialing holds its id as a slot, outside the numbers.
        if (bson_iter_init_find(&it, d, "slot") && (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)))
            taken.insert(bson_iter_as_int64(&it));
    });
    if (!seen) return seen.take_error();

    Bson due = Bson()
                   .add("campaign_id", campaign_id)
                   .add("state", "pending")
                   .add("next_attempt_at", Bson().add("$lte", now));
    Bson earliest = Bson().add("next_attempt_at", 1).add("_id", 1);
    Contacts claimed;
    for (int slot = 0; slot < concurrency && static_cast<std::int64_t>(claimed.size()) < room; ++slot) {
        if (taken.count(slot)) continue;
        Bson update = Bson()
                          .add("$set", Bson()
                                           .add("state", "dialing")
                                           .add("slot", slot)
                                           .add("last_call_id", "")
                                           .add("updated_at", now))
                          .add("$inc", Bson().add("attempts", 1));
        auto one = find_and_modify(kContacts, due, update, &earliest, "slot taken");
        if (!one) {
            if (one.error().code == ErrorCode::conflict) continue;  // another dispatcher took this slot first
            // Contacts claimed already are dialing and hold their slots: the caller must have them (the daemon
            // re-queues claimed contacts it never dialled, but only those it knows of).
            if (claimed.empty()) return one.take_error();
            break;
        }
        if (!*one) break;  // nothing more is due
        claimed.push_back(contact_from((*one)->get()));
    }
    return claimed;
}

Result<std::string> MongoStore::set_contact_call(const std::string& contact_id, int attempt, const std::string& call_id) {
    auto set = update_one(kContacts,
                          id_is(contact_id).add("state", "dialing").add("attempts", attempt).add("last_call_id", ""),
                          set_of(Bson().add("last_call_id", call_id)));
    if (!set) return set.take_error();
    if (set->matched == 1) return call_id;
    auto contact = get_campaign_contact(contact_id);
    if (!contact) return contact.take_error();
    if (contact->state != "dialing" || contact->attempts != attempt || contact->last_call_id.empty())
        return make_error(ErrorCode::conflict, "the attempt is no longer in flight");
    return contact->last_call_id;
}

Status MongoStore::end_contact_attempt(const AttemptEnd& e) {
    Bson fields = Bson().add("state", e.state).add("next_attempt_at", e.next_attempt_at).add("updated_at", e.at);
    if (!e.outcome.empty()) fields.add("last_outcome", e.outcome);
    Bson update = Bson().add("$set", fields);
    if (e.uncount) update.add("$inc", Bson().add("attempts", -1));
    if (e.state != "dialing") update.add("$unset", Bson().add("slot", ""));  // tidy: the index ignores it anyway
    auto ended = update_one(kContacts, id_is(e.contact_id).add("state", "dialing").add("attempts", e.attempt), update);
    if (!ended) return ended.take_error();
    if (ended->matched == 0) return make_error(ErrorCode::conflict, "the attempt is no longer in flight");
    return Ok{};
}

Result<std::vector<CampaignContact>> MongoStore::list_dialing_contacts(const std::string& campaign_id) {
    FindOptions options;
    options.sort.add("_id", 1);
    return all<CampaignContact>(kContacts, Bson().add("campaign_id", campaign_id).add("state", "dialing"), contact_from,
                                std::move(options));
}

Result<std::int64_t> MongoStore::cancel_pending_contacts(const std::string& campaign_id, std::int64_t at) {
    return update_many(kContacts, Bson().add("campaign_id", campaign_id).add("state", "pending"),
                       set_of(Bson().add("state", "canceled").add("updated_at", at)));
}

// --- do-not-call list ----------------------------------------------------------------------------------------------

Status MongoStore::add_dnc(const DncEntry& e) {
    if (auto st = require(kWorkspaces, id_is(e.workspace_id)); !st) return st;
    return insert(kDnc, to_doc(e), e.phone + " is already on the do-not-call list");
}
Status MongoStore::remove_dnc(const std::string& ws, const std::string& phone) {
    auto removed = delete_one(kDnc, Bson().add("workspace_id", ws).add("phone", phone));
    if (!removed) return removed.take_error();
    if (*removed == 0) return not_found("do-not-call number");
    return Ok{};
}
Result<bool> MongoStore::is_dnc(const std::string& ws, const std::string& phone) {
    FindOptions options;
    options.projection.add("_id", 1);
    auto found = find_one(kDnc, Bson().add("workspace_id", ws).add("phone", phone), options);
    if (!found) return found.take_error();
    return found->has_value();
}
Result<Page<DncEntry>> MongoStore::list_dnc(const std::string& ws, const PageRequest& req) {
    return page<DncEntry>(kDnc, Bson().add("workspace_id", ws), req, dnc_from);
}

}  // namespace va::mongo
