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

Result<void> ProviderGate::check_open(GateFailure* failure) const
{
    if (!m_closed)
        return {};
    if (failure)
        *failure = GateFailure::Closed;
    return Error::make(Errc::Unavailable,
                       "%s refused after an earlier firmware or host error (VMPCK may be wiped; only a reboot "
                       "helps): %s",
                       m_provider.name(), m_first_error.c_str());
}

Error ProviderGate::provider_failed(Error e, const char* what, GateFailure* failure)
{
    if (failure)
        *failure = GateFailure::Provider;
    if (m_hardware) {
        m_closed = true;
        m_first_error.assign(e.message());
    }
    // Unavailable would invite a retry; a provider error is never worth one (see the header).
    return Error::make(e.code() == Errc::Unavailable ? Errc::Io : e.code(), "%s %s: %.*s", m_provider.name(), what,
                       static_cast<int>(e.message().size()), e.message().data());
}

Result<Evidence> ProviderGate::get_report(const ReportData& report_data, GateFailure* failure)
{
    std::lock_guard lock(m_mutex);
    if (failure)
        *failure = GateFailure::None;
    TRY(check_open(failure));
    auto got = m_provider.get_report(report_data);
    if (got.ok())
        return got;
    return provider_failed(got.release_error(), "report", failure);
}

Result<DerivedKey> ProviderGate::derive_key(const DerivedKeyRequest& request, GateFailure* failure)
{
    std::lock_guard lock(m_mutex);
    if (failure)
        *failure = GateFailure::None;
    TRY(check_open(failure));
    auto got = m_provider.derive_key(request);
    if (got.ok())
        return got;
    // Refused by name before MSG_KEY_REQ was sent, or a STATUS the firmware answered with
    // (derived_key_check.h): no VMPCK at stake.
    Errc code = got.error().code();
    if (code == Errc::Config || code == Errc::Unsupported || code == Errc::Policy)
        return got.release_error();
    return provider_failed(got.release_error(), "derived key", failure);
}

}  // namespace cvm::agent::api
