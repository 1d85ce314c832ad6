#include "core/providers/carrier.hpp"

namespace va {

std::string CarrierRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return {};
}

std::string CarrierRequest::param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
}

CarrierResponse carrier_json(int status, const nlohmann::json& body) {
    // Bodies may quote request data that is not UTF-8: replaced, never an exception.
    return CarrierResponse{status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

CarrierResponse carrier_xml(std::string xml) { return CarrierResponse{200, "text/xml", std::move(xml)}; }

CarrierResponse carrier_empty(int status) { return CarrierResponse{status, "", {}}; }

Status CarrierRegistry::add(CarrierInfo info) {
    if (info.name.empty() || !info.create) return make_error(ErrorCode::conflict, "a carrier needs a name and a factory");
    if (find(info.name)) return make_error(ErrorCode::conflict, "the carrier " + info.name + " is already registered");
    info.section.name = info.name;
    m_carriers.push_back(std::move(info));
    return Ok{};
}

const CarrierInfo* CarrierRegistry::find(std::string_view name) const {
    for (const auto& c : m_carriers)
        if (c.name == name) return &c;
    return nullptr;
}

std::vector<std::string> CarrierRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& c : m_carriers) out.push_back(c.name);
    return out;
}

CarrierRegistry& carrier_registry() {
    static CarrierRegistry registry;
    return registry;
}

std::string join_names(const std::vector<std::string>& names, const std::string& last_separator) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? last_separator : ", ";
        out += names[i];
    }
    return out;
}

}  // namespace va
