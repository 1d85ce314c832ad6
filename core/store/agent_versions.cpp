// What both stores share about agent versions: the cursor (a version number, not an id as elsewhere) and the page.
#include <charconv>

#include "core/store/store.hpp"

namespace va {

Result<std::int64_t> agent_version_cursor(const std::string& cursor) {
    if (cursor.empty()) return std::int64_t{0};
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), value);
    if (ec != std::errc() || end != cursor.data() + cursor.size() || value < 1)
        return invalid_field("cursor", "must be a version number");
    return value;
}

Page<AgentVersion> agent_version_page(std::vector<AgentVersion> rows, int limit) {
    Page<AgentVersion> page;
    page.items = std::move(rows);
    if (limit >= 0 && page.items.size() > static_cast<std::size_t>(limit)) {
        page.items.resize(static_cast<std::size_t>(limit));
        page.next_cursor = std::to_string(page.items.back().version);
    }
    return page;
}

}  // namespace va
