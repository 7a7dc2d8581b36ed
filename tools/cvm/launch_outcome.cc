#include "launch_outcome.h"

#include <string_view>

namespace cvm::cli {

namespace {

constexpr std::string_view AGENT_PREFIX = "cvminit: ";
constexpr std::string_view FATAL_PREFIX = "cvminit: FATAL ";
constexpr std::string_view WORKLOAD_PREFIX = "cvminit: workload ";
constexpr std::string_view WORKLOAD_SUFFIX = "; powering off";
constexpr std::string_view EXITED = " exited with status ";
constexpr std::string_view KILLED = " killed by signal ";

// The decimal number at `text`'s start, up to `max`; -1 if there is none.
int leading_number(std::string_view text, int max)
{
    int value = 0;
    size_t i = 0;
    for (; i < text.size() && i < 4 && text[i] >= '0' && text[i] <= '9'; ++i)
        value = value * 10 + (text[i] - '0');
    if (i == 0 || value > max)
        return -1;
    return value;
}

}  // namespace

void LaunchOutcome::feed(const char* data, size_t size)
{
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == '\n')
            end_line();
        else if (m_pending.size() < MAX_LINE)
            m_pending += data[i];
    }
}

void LaunchOutcome::finish()
{
    if (!m_pending.empty())
        end_line();
}

void LaunchOutcome::end_line()
{
    std::string line;
    line.swap(m_pending);
    while (!line.empty() && line.back() == '\r')
        line.pop_back();
    // A workload whose last output had no line end shares its line with the agent's final one
    // (one console): the agent's text starts at the last "cvminit: " of the line.
    size_t at = line.rfind(AGENT_PREFIX);
    if (at == std::string::npos)
        return;
    if (at > 0)
        line.erase(0, at);
    std::string_view l = line;
    if (l.starts_with(FATAL_PREFIX)) {
        m_kind = Kind::Fatal;
        m_line = line;
        return;
    }
    if (!l.starts_with(WORKLOAD_PREFIX) || !l.ends_with(WORKLOAD_SUFFIX))
        return;
    std::string_view body = l.substr(0, l.size() - WORKLOAD_SUFFIX.size());
    // The path may hold anything: the verdict is the last " exited ..." or " killed ...".
    size_t exited = body.rfind(EXITED);
    size_t killed = body.rfind(KILLED);
    int status = -1;
    if (exited != std::string_view::npos && (killed == std::string_view::npos || exited > killed)) {
        std::string_view n = body.substr(exited + EXITED.size());
        status = n.find_first_not_of("0123456789") == std::string_view::npos ? leading_number(n, 255) : -1;
    } else if (killed != std::string_view::npos) {
        int signal = leading_number(body.substr(killed + KILLED.size()), 127);
        status = signal > 0 ? 128 + signal : -1;
    }
    if (status < 0)
        return;
    m_kind = Kind::Workload;
    m_status = status;
    m_line = line;
}

int LaunchOutcome::exit_status() const
{
    switch (m_kind) {
    case Kind::Workload: return m_status;
    case Kind::Fatal: return LAUNCH_EXIT_FATAL;
    case Kind::None: break;
    }
    return LAUNCH_EXIT_NO_OUTCOME;
}

}  // namespace cvm::cli
