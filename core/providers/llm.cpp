#include "core/providers/llm.hpp"

namespace va {

std::string fill_placeholders(const std::string& text, const nlohmann::json& variables) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto open = text.find("{{", pos);
        if (open == std::string::npos) break;
        auto close = text.find("}}", open + 2);
        if (close == std::string::npos) break;
        out.append(text, pos, open - pos);
        std::string name = text.substr(open + 2, close - open - 2);
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        if (variables.is_object() && variables.contains(name)) {
            const auto& v = variables[name];
            out += v.is_string() ? v.get<std::string>() : v.dump();
        } else {
            out.append(text, open, close + 2 - open);
        }
        pos = close + 2;
    }
    out.append(text, pos, std::string::npos);
    return out;
}

}  // namespace va
