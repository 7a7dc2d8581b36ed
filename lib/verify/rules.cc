#include "verify/rules.h"

#include <cstdio>

namespace cvm::verify {

Rules::Rules(std::string name, std::string found, std::string expected)
{
    m_claim.name = std::move(name);
    m_claim.pass = true;
    m_claim.found = std::move(found);
    m_claim.expected = std::move(expected);
}

bool Rules::need(bool ok, std::string found, std::string expected, std::string why)
{
    if (ok || !m_claim.pass)
        return ok;
    m_claim.pass = false;
    m_claim.found = std::move(found);
    m_claim.expected = std::move(expected);
    m_claim.detail = std::move(why);
    return false;
}

bool Rules::need(const Result<void>& result, std::string found, std::string expected)
{
    if (result.ok())
        return true;
    return need(false, std::move(found), std::move(expected), std::string(result.error().message()));
}

Claim Rules::finish(std::string detail_on_pass) &&
{
    if (m_claim.pass)
        m_claim.detail = std::move(detail_on_pass);
    return std::move(m_claim);
}

Claim make_claim(std::string name, bool pass, std::string found, std::string expected, std::string detail)
{
    return Claim{std::move(name), pass, std::move(found), std::move(expected), std::move(detail)};
}

Claim not_checked(std::string name, std::string expected, std::string why)
{
    return make_claim(std::move(name), false, "not checked", std::move(expected), std::move(why));
}

std::string printable(std::string_view text)
{
    constexpr size_t LIMIT = 80;
    std::string out;
    for (char ch : text) {
        if (out.size() >= LIMIT) {
            out += "...";
            break;
        }
        auto c = static_cast<uint8_t>(ch);
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out.push_back(ch);
        } else {
            char buf[5];
            snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

}  // namespace cvm::verify
