// Fuzzes the contacts import of campaigns (core/campaigns/campaign_rules: parse_contacts_csv, and
// parse_contacts_json on the same bytes as JSON): uploaded files are outside input. Every kept contact has a
// normalised E.164 phone, no phone appears twice, and the result can be stored (its variables dump as JSON).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/campaigns/campaign_rules.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "core/util/json.hpp"

namespace {
void check(const va::campaigns::ImportResult& result) {
    std::set<std::string> phones;
    for (const auto& c : result.contacts) {
        auto again = va::campaigns::normalize_e164(c.phone);
        FUZZ_CHECK(again && *again == c.phone);
        FUZZ_CHECK(phones.insert(c.phone).second);
        FUZZ_CHECK(c.variables.is_object());
        (void)c.variables.dump();  // throws (and so fails) on strings that are not UTF-8
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    check(va::campaigns::parse_contacts_csv(text));
    auto json = va::parse_json(text);
    if (!json.is_discarded()) check(va::campaigns::parse_contacts_json(json));
    return 0;
}
