// Runs outbound campaigns: a dispatcher thread moves due contacts of running campaigns into dialing (never more
// than the campaign's concurrency: the dialing contacts in the Store are the slots, so the limit holds across
// restarts and across daemons sharing the database), and queues one `campaign.dial` job per attempt. The job
// checks the campaign is still running and the number is not on the do-not-call list at dial time, records the
// attempt's call id before dialling (a job run twice finds it and never dials again for that attempt), and dials.
// When the call ends, the contact settles by the retry policy and its slot frees. Calling windows are applied per
// contact (its own time zone, else the campaign's): a contact claimed outside its window goes back, uncounted, to
// wait for the window to open.
// Thread-safety: all public methods are safe from any thread; the dispatcher runs on a thread of its own and dials
// run on the job queue's workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/campaigns/campaign_rules.hpp"
#include "core/jobs/job_queue.hpp"
#include "core/store/store.hpp"
#include "core/util/time.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/carriers.hpp"
#include "daemon/calls/event_bus.hpp"
#include "daemon/campaigns/campaign_slots.hpp"

namespace va {

// What a campaign's `config` holds, validated.
struct CampaignConfig {
    int concurrency = 1;
    campaigns::CallingWindow window;
    campaigns::RetryPolicy retry;
};

// Reads {concurrency, window, retry} from a campaign body (members absent: `base`'s); errors name the member.
Result<CampaignConfig> parse_campaign_config(const nlohmann::json& body, const CampaignConfig& base, int max_concurrency);
nlohmann::json to_json(const CampaignConfig& config);
CampaignConfig campaign_config(const Campaign& campaign);  // the stored config (defaults where unreadable)

struct CampaignSettings {
    int tick_ms = 200;
    int max_concurrency = 100;
    // The runner's clock (ms since the epoch) for every decision it makes: due contacts, calling windows, backoff.
    // Empty: the wall clock. Tests inject one to cross a window's opening without waiting for it. Called from the
    // dispatcher and the job workers: it must be thread-safe.
    std::function<std::int64_t()> now;
};

class CampaignRunner {
public:
    static constexpr const char* kDialJob = "campaign.dial";

    CampaignRunner(Store& store, EventBus& events, JobQueue& jobs, CallManager& calls, Carriers& carriers,
                   CampaignSettings settings);
    ~CampaignRunner();
    CampaignRunner(const CampaignRunner&) = delete;
    CampaignRunner& operator=(const CampaignRunner&) = delete;

    const CampaignSettings& settings() const { return m_settings; }
    // Slots shared with other daemons (Redis), taken before each dial on top of the Store's own count. Before start().
    void set_slots(std::shared_ptr<CampaignSlots> slots) { m_slots = std::move(slots); }

    // Settles what a previous run of the daemon left in flight, then starts the dispatcher.
    void start();
    void stop();

    // start (draft -> running), pause (running -> paused), resume (paused -> running), cancel (draft, running or
    // paused -> canceled: pending contacts are canceled; calls in flight finish). Conflict from any other status.
    Result<Campaign> control(const std::string& workspace_id, const std::string& id, const std::string& action);

    // {status, total, counts {state: n}, attempts, answered, answer_rate, rate_per_min, eta_s}.
    Result<nlohmann::json> progress(const Campaign& campaign) const;

    // The job handler: one dial attempt for one contact.
    Status dial(JobContext& ctx);

    void wake();

private:
    std::int64_t now() const { return m_settings.now ? m_settings.now() : now_ms(); }
    void loop();
    void tick();
    void recover();
    // Contacts whose calls have ended settle by the retry policy; returns how many are still in flight.
    std::size_t settle(const Campaign& campaign, const CampaignConfig& config);
    // Claims due contacts up to the limit and queues their dials; returns how many it claimed.
    std::size_t dispatch(const Campaign& campaign, const CampaignConfig& config);
    // Completes a running campaign with no contact left to call; counts only when an attempt ended since its last
    // look (an idle campaign waiting out a backoff or a closed window costs no query per tick).
    void finish_if_done(const Campaign& campaign);
    void publish_finished(const Campaign& campaign);
    // The campaign's parsed config, kept while its updated_at stays the same (dispatcher thread only).
    const CampaignConfig& config_of(const Campaign& campaign);
    // Queues the dial of the contact's current attempt; a job already queued for it (same key) is kept.
    Result<Job> queue_dial(const CampaignContact& contact);
    Status end_attempt(const CampaignContact& contact, std::string state, std::string outcome,
                       std::int64_t next_attempt_at, bool uncount);
    // Takes (or keeps) the attempt's shared slot; true without shared slots, or while they cannot be reached (the
    // Store's claim still holds the limit).
    bool take_slot(const CampaignContact& contact, int limit);

    Store& m_store;
    EventBus& m_events;
    JobQueue& m_jobs;
    CallManager& m_calls;
    Carriers& m_carriers;
    CampaignSettings m_settings;
    std::shared_ptr<CampaignSlots> m_slots;
    std::atomic<bool> m_slots_failing{false};
    std::uint64_t m_subscription = 0;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::set<std::string> m_winding_down;  // canceled campaigns with calls still in flight
    std::set<std::string> m_attempt_ended;  // campaigns where an attempt ended since finish_if_done last counted
    // Dispatcher thread only:
    std::map<std::string, std::pair<std::int64_t, CampaignConfig>> m_configs;  // id -> (updated_at, config)
    std::map<std::string, std::int64_t> m_orphans_checked_at;
    bool m_woken = false;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace va
