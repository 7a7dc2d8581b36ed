// The identity rules of evaluate(): what was launched and by whom (MEASUREMENT, the host's and
// the ID block's values, the key digests, GUEST_SVN).
#include <algorithm>

#include "policy/claims.h"

namespace cvm::policy::detail {

void identity(Claims& c, const Policy& p, const snp::AttestationReport& r)
{
    if (p.is_baseline)
        c.any("measurement", to_hex(r.measurement));
    else if (p.measurements.empty())  // a policy that names no measurement accepts none
        c.add("measurement", false, to_hex(r.measurement), "a listed measurement (none listed)",
              "the policy lists no MEASUREMENT");
    else
        c.one_of("measurement", p.measurements, r.measurement, "MEASUREMENT is not allowed");
    c.exact("report_data", p.report_data, r.report_data);
    c.exact("host_data", p.host_data, r.host_data);
    c.exact("family_id", p.family_id, r.family_id);
    c.exact("image_id", p.image_id, r.image_id);
    c.exact("report_id_ma", p.report_id_ma, r.report_id_ma);
    c.one_of("id_key_digest", p.id_key_digests, r.id_key_digest, "ID key is not trusted");
    if (p.author_key_digests.empty()) {
        c.any("author_key_digest", r.author_key_en ? to_hex(r.author_key_digest) : "AUTHOR_KEY_EN=0");
    } else {
        bool listed = std::find(p.author_key_digests.begin(), p.author_key_digests.end(), r.author_key_digest) !=
                      p.author_key_digests.end();
        std::string expected;
        for (const auto& d : p.author_key_digests)
            expected += (expected.empty() ? "" : " | ") + to_hex(d);
        c.add("author_key_digest", r.author_key_en && listed,
              r.author_key_en ? to_hex(r.author_key_digest) : "AUTHOR_KEY_EN=0", expected, "author key is not trusted");
    }
    if (p.min_guest_svn)
        c.add("guest_svn", r.guest_svn >= p.min_guest_svn, num(r.guest_svn), ">= " + num(p.min_guest_svn),
              "GUEST_SVN too low");
    else
        c.any("guest_svn", num(r.guest_svn));
}

}  // namespace cvm::policy::detail
