#include "providers/common/carrier_media.hpp"

namespace va {

bool CarrierMediaScan::media(std::string_view message) {
    if (!scan_json_fields(message, m_fields)) return false;
    if (m_fields[0].kind != JsonKind::string || m_fields[0].text != "media") return false;
    for (std::size_t i = 1; i < m_fields.size(); ++i) {
        auto& f = m_fields[i];
        if (f.kind == JsonKind::number) return false;  // json_text would print the number: rare, the full path's
        if (f.kind != JsonKind::string) f.text = {};   // absent, null, or not text: json_text gives ""
    }
    return true;
}

}  // namespace va
