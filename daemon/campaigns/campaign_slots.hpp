// A campaign's concurrency slots held outside the Store, for daemons that share a queue through Redis: one slot per
// attempt in flight (member "contact:attempt"), taken before a dial and given back when the attempt ends. A slot
// is leased: the daemon holding it renews it while the call lasts, so a daemon that dies gives its slots back when
// the lease lapses. The Store's claim counts the contacts in flight too; the slots are a second, cross-daemon check
// that does not depend on the database's locking (docs/scale-out.md).
// Thread-safety: implementations are safe from any thread.
#pragma once

#include <string>

#include "core/util/result.hpp"

namespace va {

class CampaignSlots {
public:
    virtual ~CampaignSlots() = default;
    // True when `member` holds one of the campaign's `limit` slots now (taken now, or already held: renewed), false
    // when all are taken. An error when the slots cannot be reached.
    virtual Result<bool> acquire(const std::string& campaign_id, const std::string& member, int limit) = 0;
    virtual void release(const std::string& campaign_id, const std::string& member) = 0;
};

}  // namespace va
