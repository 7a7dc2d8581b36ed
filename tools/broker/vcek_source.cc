#include "vcek_source.h"

namespace cvm::broker {

Result<Bytes> VcekSource::vcek_for(const snp::AttestationReport& report)
{
    Key key{report.chip_id, report.reported_tcb};
    {
        std::lock_guard lock(m_mutex);
        auto it = m_cache.find(key);
        if (it != m_cache.end()) {
            m_metrics.vcek_cache(true);
            return it->second;
        }
    }
    m_metrics.vcek_cache(false);
    kds::VcekId id = TRY(kds::vcek_id(report, std::nullopt));
    kds::Fetched fetched = TRY(m_kds->vcek(id));
    m_metrics.kds_fetch(kds::source_name(fetched.source));
    std::lock_guard lock(m_mutex);
    if (m_cache.size() >= m_capacity)
        m_cache.erase(m_cache.begin());  // any entry: a miss costs one KDS (or disk cache) lookup
    m_cache[key] = fetched.data;
    return std::move(fetched.data);
}

}  // namespace cvm::broker
