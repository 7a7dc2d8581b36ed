#include "api/provider_gate.h"

#include <cstring>

namespace cvm::agent::api {

ProviderGate::ProviderGate(ReportProvider& provider)
        : m_provider(provider), m_hardware(std::strcmp(provider.name(), PROVIDER_SIMULATED) != 0)
{
}

bool ProviderGate::closed() const
{
    std::lock_guard lock(m_mutex);
    return m_closed;
}

Result<Evidence> ProviderGate::get_report(const ReportData& report_data, GateFailure* failure)
{
    std::lock_guard lock(m_mutex);
    if (failure)
        *failure = GateFailure::None;
    if (m_closed) {
        if (failure)
            *failure = GateFailure::Closed;
        return Error::make(Errc::Unavailable,
                           "%s refused after an earlier firmware or host error (VMPCK may be wiped; only a reboot "
                           "helps): %s",
                           m_provider.name(), m_first_error.c_str());
    }
    auto got = m_provider.get_report(report_data);
    if (got.ok())
        return got;
    if (failure)
        *failure = GateFailure::Provider;
    Error e = got.release_error();
    if (m_hardware) {
        m_closed = true;
        m_first_error.assign(e.message());
    }
    // Unavailable would invite a retry; a provider error is never worth one (see the header).
    return Error::make(e.code() == Errc::Unavailable ? Errc::Io : e.code(), "%s report: %.*s", m_provider.name(),
                       static_cast<int>(e.message().size()), e.message().data());
}

}  // namespace cvm::agent::api
