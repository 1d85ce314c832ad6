#include "providers/builtin_carriers.hpp"

#include <stdexcept>

#include "providers/exotel/carrier.hpp"
#include "providers/twilio/carrier.hpp"

namespace va {

void register_builtin_carriers(CarrierRegistry& registry) {
    if (!registry.all().empty()) return;
    // The order is the order names are listed in messages ("must be twilio or exotel").
    for (auto add : {twilio::register_carrier, exotel::register_carrier})
        if (auto s = add(registry); !s) throw std::logic_error(s.error().message);  // a start-up bug
}

}  // namespace va
