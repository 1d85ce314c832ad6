#include "core/providers/llm.hpp"

#include <algorithm>

namespace va {

std::string fill_placeholders(const std::string& text, const nlohmann::json& variables) {
    const std::size_t budget = std::max(text.size(), kMaxFilledBytes);
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
        auto found = variables.is_object() ? variables.find(name) : variables.end();
        std::string value;
        if (found != variables.end()) value = found->is_string() ? found->get<std::string>() : found->dump();
        // What is left of the text is appended in any case, so it counts against the budget now.
        std::size_t after = out.size() + value.size() + (text.size() - close - 2);
        if (found != variables.end() && after <= budget) out += value;
        else out.append(text, open, close + 2 - open);
        pos = close + 2;
    }
    out.append(text, pos, std::string::npos);
    return out;
}

}  // namespace va
