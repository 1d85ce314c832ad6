#include "daemon/campaigns/campaign_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "core/util/guard.hpp"

namespace va {

using nlohmann::json;

namespace {

bool call_over(const Call& call) { return call.ended_at != 0; }

std::string slot_member(const CampaignContact& contact) { return contact.id + ":" + std::to_string(contact.attempts); }

constexpr std::int64_t kOrphanedClaimMs = 60'000;

// Another run of the same job, or the dispatcher, settled the attempt first: nothing is left to do.
Status settled_elsewhere_is_ok(Status s) {
    if (!s && s.error().code == ErrorCode::conflict) return Ok{};
    return s;
}

}  // namespace

Result<CampaignConfig> parse_campaign_config(const json& body, const CampaignConfig& base, int max_concurrency) {
    CampaignConfig config = base;
    if (body.contains("concurrency")) {
        const json& c = body["concurrency"];
        if (!c.is_number_integer() || c.get<std::int64_t>() < 1 || c.get<std::int64_t>() > max_concurrency)
            return invalid_field("concurrency", "must be an integer from 1 to " + std::to_string(max_concurrency));
        config.concurrency = c.get<int>();
    }
    if (body.contains("window")) {
        auto window = campaigns::parse_window(body["window"]);
        if (!window) return window.take_error();
        config.window = std::move(window).value();
    }
    if (body.contains("retry")) {
        auto retry = campaigns::parse_retry(body["retry"]);
        if (!retry) return retry.take_error();
        config.retry = std::move(retry).value();
    }
    return config;
}

json to_json(const CampaignConfig& config) {
    return {{"concurrency", config.concurrency},
            {"window", campaigns::to_json(config.window)},
            {"retry", campaigns::to_json(config.retry)}};
}

CampaignConfig campaign_config(const Campaign& campaign) {
    json stored = parse_json(campaign.config);
    if (!stored.is_object()) return {};
    auto config = parse_campaign_config(stored, {}, 1'000'000);
    return config ? std::move(config).value() : CampaignConfig{};
}

CampaignRunner::CampaignRunner(Store& store, EventBus& events, JobQueue& jobs, CallManager& calls, Carriers& carriers,
                               CampaignSettings settings)
    : m_store(store), m_events(events), m_jobs(jobs), m_calls(calls), m_carriers(carriers), m_settings(settings) {
    // A campaign call that ends frees a slot: look at once rather than at the next tick.
    m_subscription = m_events.subscribe(EventBus::kAllWorkspaces, "", [this](const CallEvent& event) {
        if (event.type == "call:ended") wake();
    });
}

CampaignRunner::~CampaignRunner() {
    m_events.unsubscribe(m_subscription);
    stop();
}

void CampaignRunner::start() {
    recover();
    m_thread = std::thread([this] { run_loop_guarded("campaigns: runner", [this] { loop(); }); });
}

void CampaignRunner::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void CampaignRunner::wake() {
    {
        std::lock_guard lock(m_mutex);
        m_woken = true;
    }
    m_cv.notify_all();
}

void CampaignRunner::loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        m_woken = false;
        lock.unlock();
        try {
            tick();
        } catch (const std::exception& e) {
            spdlog::error("campaigns: dispatcher: {}", e.what());
        }
        lock.lock();
        m_cv.wait_for(lock, std::chrono::milliseconds(m_settings.tick_ms), [this] { return m_woken || m_stopping; });
    }
}

// A call of a campaign that was in flight when an earlier run of this daemon stopped has no session here and never
// will: it is failed (the retry policy decides whether the contact is called again), which frees its slot.
void CampaignRunner::recover() {
    for (const char* status : {"running", "paused", "canceled"}) {
        auto campaigns = m_store.list_campaigns_by_status(status);
        if (!campaigns) {
            spdlog::error("campaigns: cannot list {} campaigns: {}", status, campaigns.error().message);
            continue;
        }
        for (const auto& campaign : *campaigns) {
            auto dialing = m_store.list_dialing_contacts(campaign.id);
            if (!dialing) continue;
            for (const auto& contact : *dialing) {
                if (contact.last_call_id.empty()) {
                    // Claimed, but the daemon may have stopped before it queued the dial: queue it (a job already
                    // there is kept, by its key).
                    if (auto job = queue_dial(contact); !job)
                        spdlog::error("campaign {}: cannot queue the dial of {}: {}", campaign.id, contact.phone,
                                      job.error().message);
                    continue;
                }
                auto call = m_store.find_call(contact.last_call_id);
                if (!call || call_over(*call) || m_calls.is_live(call->id)) continue;
                // Another live daemon's call is its own; a dead one's is settled by the instance monitor.
                if (!call->instance_id.empty() && call->instance_id != m_calls.instance()) continue;
                m_calls.settle(call->id, "failed", -1, "interrupted: the daemon stopped during the call");
                spdlog::warn("campaign {}: call {} to {} was in flight when the daemon stopped; marked failed",
                             campaign.id, call->id, contact.phone);
            }
            settle(campaign, config_of(campaign));
            std::lock_guard lock(m_mutex);
            // A campaign whose last attempt ended just before the stop completes at the first look.
            m_attempt_ended.insert(campaign.id);
            if (campaign.status == "canceled" && !dialing->empty()) m_winding_down.insert(campaign.id);
        }
    }
}

void CampaignRunner::tick() {
    std::set<std::string> winding_down;
    {
        std::lock_guard lock(m_mutex);
        winding_down = m_winding_down;
    }
    for (const auto& id : winding_down) {
        auto campaign = m_store.find_campaign(id);
        if (campaign) settle(*campaign, config_of(*campaign));
        auto dialing = m_store.list_dialing_contacts(id);
        if (campaign && dialing && !dialing->empty()) continue;
        if (campaign) publish_finished(*campaign);
        std::lock_guard lock(m_mutex);
        m_winding_down.erase(id);
    }
    for (const char* status : {"running", "paused"}) {
        auto campaigns = m_store.list_campaigns_by_status(status);
        if (!campaigns) {
            spdlog::error("campaigns: cannot list {} campaigns: {}", status, campaigns.error().message);
            continue;
        }
        for (const auto& campaign : *campaigns) {
            const CampaignConfig& config = config_of(campaign);
            std::size_t in_flight = settle(campaign, config);
            if (campaign.status != "running") continue;
            // Only a campaign with nothing in flight and nothing to dial now can be done: count only then.
            if (dispatch(campaign, config) == 0 && in_flight == 0) finish_if_done(campaign);
        }
    }
}

Status CampaignRunner::end_attempt(const CampaignContact& contact, std::string state, std::string outcome,
                                   std::int64_t next_attempt_at, bool uncount) {
    AttemptEnd end;
    end.contact_id = contact.id;
    end.attempt = contact.attempts;
    end.state = std::move(state);
    end.outcome = std::move(outcome);
    end.next_attempt_at = next_attempt_at;
    end.uncount = uncount;
    end.at = now();
    auto ended = m_store.end_contact_attempt(end);
    if (ended) {
        if (m_slots) m_slots->release(contact.campaign_id, slot_member(contact));
        std::lock_guard lock(m_mutex);
        m_attempt_ended.insert(contact.campaign_id);
    }
    return ended;
}

bool CampaignRunner::take_slot(const CampaignContact& contact, int limit) {
    if (!m_slots) return true;
    auto taken = m_slots->acquire(contact.campaign_id, slot_member(contact), limit);
    if (!taken) {
        if (!m_slots_failing.exchange(true))
            spdlog::warn("campaigns: shared slots unreachable, going by the database's count alone: {}",
                         taken.error().message);
        return true;
    }
    if (m_slots_failing.exchange(false)) spdlog::info("campaigns: shared slots reachable again");
    return *taken;
}

const CampaignConfig& CampaignRunner::config_of(const Campaign& campaign) {
    auto it = m_configs.find(campaign.id);
    if (it == m_configs.end() || it->second.first != campaign.updated_at)
        it = m_configs.insert_or_assign(campaign.id, std::pair{campaign.updated_at, campaign_config(campaign)}).first;
    return it->second.second;
}

std::size_t CampaignRunner::settle(const Campaign& campaign, const CampaignConfig& config) {
    auto dialing = m_store.list_dialing_contacts(campaign.id);
    if (!dialing) {
        spdlog::error("campaign {}: cannot read contacts in flight: {}", campaign.id, dialing.error().message);
        return 1;  // unknown: assume something is
    }
    std::size_t in_flight = 0;
    std::int64_t now = this->now();
    // Claimed long ago and still not dialled: whoever claimed it may have died before queueing the dial (at most
    // once a minute per campaign, as a dial waiting out a carrier's backoff looks the same).
    bool look_for_orphans = false;
    if (auto& last = m_orphans_checked_at[campaign.id]; now - last > kOrphanedClaimMs) {
        look_for_orphans = true;
        last = now;
    }
    for (const auto& contact : *dialing) {
        ++in_flight;
        if (contact.last_call_id.empty()) {
            if (look_for_orphans && now - contact.updated_at > kOrphanedClaimMs) (void)queue_dial(contact);
            continue;
        }
        auto call = m_store.find_call(contact.last_call_id);
        if (!call || !call_over(*call)) continue;
        std::string outcome = campaigns::attempt_outcome(call->status);
        auto next = campaigns::after_attempt(config.retry, outcome, contact.attempts, now);
        // A canceled campaign calls nobody again.
        if (campaign.status == "canceled" && next.state == "pending") next.state = "canceled";
        if (end_attempt(contact, next.state, outcome, next.next_attempt_at, false)) --in_flight;
    }
    return in_flight;
}

std::size_t CampaignRunner::dispatch(const Campaign& campaign, const CampaignConfig& config) {
    std::int64_t now = this->now();
    auto claimed = m_store.claim_campaign_contacts(campaign.id, config.concurrency, now, config.concurrency);
    if (!claimed) {
        spdlog::error("campaign {}: cannot claim contacts: {}", campaign.id, claimed.error().message);
        return 1;
    }
    bool queued = false;
    for (const auto& contact : *claimed) {
        std::int64_t open = campaigns::next_window_open(config.window, contact.timezone, now);
        if (open > now) {
            // Outside this person's calling hours: back to waiting, until they open, without counting an attempt.
            (void)end_attempt(contact, "pending", "", open, true);
            continue;
        }
        if (!take_slot(contact, config.concurrency)) {
            // Another daemon's calls fill the campaign's slots: try again shortly, the attempt not counted.
            (void)end_attempt(contact, "pending", "", now + 1000, true);
            continue;
        }
        if (auto job = queue_dial(contact); !job) {
            spdlog::error("campaign {}: cannot queue the dial of {}: {}", campaign.id, contact.phone, job.error().message);
            (void)end_attempt(contact, "pending", "", now + 1000, true);
            continue;
        }
        queued = true;
    }
    if (queued) m_jobs.wake();
    return claimed->size();
}

Result<Job> CampaignRunner::queue_dial(const CampaignContact& contact) {
    EnqueueOptions options;
    options.priority = 10;  // a person is waiting on the line sooner than a webhook receiver is
    options.max_attempts = 5;
    options.idempotency_key = "campaign-dial:" + contact.id + ":" + std::to_string(contact.attempts);
    json payload{{"contact_id", contact.id}, {"attempt", contact.attempts}};
    return m_jobs.enqueue(kDialJob, payload.dump(), options);
}

void CampaignRunner::finish_if_done(const Campaign& campaign) {
    {
        std::lock_guard lock(m_mutex);
        if (m_attempt_ended.erase(campaign.id) == 0) return;
    }
    auto counts = m_store.count_campaign_contacts(campaign.id);
    if (!counts || counts->total == 0) return;
    auto in = [&](const char* state) {
        auto it = counts->by_state.find(state);
        return it == counts->by_state.end() ? std::int64_t(0) : it->second;
    };
    if (in("pending") > 0 || in("dialing") > 0) return;
    auto done = m_store.transition_campaign(campaign.id, {"running"}, "completed", now());
    if (!done) return;  // paused or canceled meanwhile
    spdlog::info("campaign {} ({}) completed", campaign.id, campaign.name);
    publish_finished(*done);
}

void CampaignRunner::publish_finished(const Campaign& campaign) {
    m_configs.erase(campaign.id);
    m_orphans_checked_at.erase(campaign.id);
    auto progress_now = progress(campaign);
    if (!progress_now) return;
    CallEvent event{"campaign:finished", "", campaign.workspace_id, now_ms(),
                    json{{"campaign_id", campaign.id}, {"name", campaign.name}, {"status", campaign.status},
                         {"progress", *progress_now}}};
    m_events.publish(event);
}

Result<Campaign> CampaignRunner::control(const std::string& workspace_id, const std::string& id,
                                         const std::string& action) {
    auto campaign = m_store.get_campaign(workspace_id, id);
    if (!campaign) return campaign.take_error();
    std::int64_t now = this->now();
    Result<Campaign> moved = make_error(ErrorCode::invalid_request, "unknown action " + action);
    if (action == "start") {
        auto counts = m_store.count_campaign_contacts(id);
        if (!counts) return counts.take_error();
        if (counts->total == 0) return make_error(ErrorCode::conflict, "the campaign has no contacts: import some first");
        moved = m_store.transition_campaign(id, {"draft"}, "running", now);
    } else if (action == "pause") {
        moved = m_store.transition_campaign(id, {"running"}, "paused", now);
    } else if (action == "resume") {
        moved = m_store.transition_campaign(id, {"paused"}, "running", now);
    } else if (action == "cancel") {
        moved = m_store.transition_campaign(id, {"draft", "running", "paused"}, "canceled", now);
        if (moved) {
            if (auto n = m_store.cancel_pending_contacts(id, now); !n)
                spdlog::error("campaign {}: cannot cancel its contacts: {}", id, n.error().message);
            // Finished (campaign:finished) once the calls in flight have ended.
            std::lock_guard lock(m_mutex);
            m_winding_down.insert(id);
        }
    }
    if (moved) {
        spdlog::info("campaign {} ({}): {} -> {}", id, moved->name, campaign->status, moved->status);
        {
            std::lock_guard lock(m_mutex);
            m_attempt_ended.insert(id);  // look again: every contact may have settled while it was paused
        }
        wake();
    }
    return moved;
}

Result<json> CampaignRunner::progress(const Campaign& campaign) const {
    auto counts = m_store.count_campaign_contacts(campaign.id);
    if (!counts) return counts.take_error();
    json by_state = json::object();
    for (const char* state : {"pending", "dialing", "done", "failed", "dnc", "canceled"}) by_state[state] = 0;
    for (const auto& [state, n] : counts->by_state) by_state[state] = n;
    std::int64_t dialing = by_state["dialing"].get<std::int64_t>();
    std::int64_t answered = by_state["done"].get<std::int64_t>();
    std::int64_t settled = answered + by_state["failed"].get<std::int64_t>() + by_state["dnc"].get<std::int64_t>() +
                           by_state["canceled"].get<std::int64_t>();
    std::int64_t remaining = by_state["pending"].get<std::int64_t>() + dialing;
    // Attempts that have ended: each settled or retried contact's, not the ones in flight.
    std::int64_t finished_attempts = counts->attempts - dialing;
    json out{{"campaign_id", campaign.id},
             {"status", campaign.status},
             {"total", counts->total},
             {"counts", by_state},
             {"dialing_now", dialing},
             {"attempts", counts->attempts},
             {"answered", answered},
             {"answer_rate", finished_attempts > 0 ? double(answered) / double(finished_attempts) : 0.0},
             {"rate_per_min", nullptr},
             {"eta_s", nullptr}};
    std::int64_t end = campaign.finished_at ? campaign.finished_at : now();
    if (campaign.started_at > 0 && end > campaign.started_at) {
        double minutes = double(end - campaign.started_at) / 60000.0;
        double rate = double(settled) / minutes;
        out["rate_per_min"] = rate;
        if (campaign.status == "completed" || campaign.status == "canceled") out["eta_s"] = 0;
        else if (rate > 0) out["eta_s"] = std::int64_t(double(remaining) / rate * 60.0);
    }
    return out;
}

Status CampaignRunner::dial(JobContext& ctx) {
    json payload = parse_json(ctx.job.payload);
    if (!payload.is_object() || !payload.contains("contact_id") || !payload["contact_id"].is_string() ||
        !payload.contains("attempt") || !payload["attempt"].is_number_integer())
        return make_error(ErrorCode::invalid_request, "campaign.dial: payload needs contact_id and attempt");
    auto contact = m_store.get_campaign_contact(payload["contact_id"].get<std::string>());
    if (!contact) return contact.error().code == ErrorCode::not_found ? Status(Ok{}) : contact.take_error();
    if (contact->state != "dialing" || contact->attempts != payload["attempt"].get<int>()) return Ok{};  // settled
    auto campaign = m_store.find_campaign(contact->campaign_id);
    if (!campaign) return campaign.error().code == ErrorCode::not_found ? Status(Ok{}) : campaign.take_error();

    // Checked at dial time, not at claim time: a pause, a cancel or a do-not-call entry since then wins.
    if (campaign->status == "paused" || campaign->status == "draft")
        return settled_elsewhere_is_ok(end_attempt(*contact, "pending", "", contact->next_attempt_at, true));
    if (campaign->status != "running") return settled_elsewhere_is_ok(end_attempt(*contact, "canceled", "canceled", 0, true));
    auto dnc = m_store.is_dnc(contact->workspace_id, contact->phone);
    if (!dnc) return dnc.take_error();
    if (*dnc) {
        spdlog::info("campaign {}: {} is on the do-not-call list; not dialled", campaign->id, contact->phone);
        return settled_elsewhere_is_ok(end_attempt(*contact, "dnc", "dnc", 0, true));
    }

    // The job may run on another daemon than the one that claimed the contact, or after a restart: the slot is
    // taken again (kept when still held) by the daemon about to place the call, which renews it from now on. A run
    // that finds the attempt's call id recorded has placed the call already and goes on below to see it exists.
    if (contact->last_call_id.empty() && !take_slot(*contact, campaign_config(*campaign).concurrency))
        return settled_elsewhere_is_ok(end_attempt(*contact, "pending", "", now() + 1000, true));

    // The attempt's call id is recorded before the dial: a second run of this job finds it and does not dial again.
    auto call_id = m_store.set_contact_call(contact->id, contact->attempts, new_id("call"));
    if (!call_id) return call_id.error().code == ErrorCode::conflict ? Status(Ok{}) : call_id.take_error();
    if (auto existing = m_store.find_call(*call_id); existing) return Ok{};
    else if (existing.error().code != ErrorCode::not_found) return existing.take_error();

    auto give_up = [&](const std::string& why) -> Status {
        spdlog::warn("campaign {}: cannot call {}: {}", campaign->id, contact->phone, why);
        return settled_elsewhere_is_ok(end_attempt(*contact, "failed", "failed", 0, false));
    };
    auto agent = m_store.get_agent(campaign->workspace_id, campaign->agent_id);
    if (!agent) return give_up("its agent is gone");
    auto phone = m_store.get_phone(campaign->workspace_id, campaign->phone_id);
    if (!phone) return give_up("its caller number is gone");
    json variables = parse_json(contact->variables);
    if (!variables.is_object()) variables = json::object();
    variables.emplace("phone", contact->phone);

    Carriers::Dial request;
    request.call_id = *call_id;
    request.to = contact->phone;
    request.from = *phone;
    request.variables = std::move(variables);
    request.campaign_id = campaign->id;
    auto call = m_carriers.dial(*agent, request);
    if (!call) {
        // A call the carrier refused is stored as failed and settles like any ended call; one never created
        // (the agent cannot run, the carrier is not configured) ends the attempt here.
        if (m_store.find_call(*call_id)) return Ok{};
        return give_up(call.error().message);
    }
    return Ok{};
}

}  // namespace va
