// The TCB rules of evaluate(): REPORTED_TCB <= CURRENT_TCB, COMMITTED against CURRENT (TCB and
// firmware version), per-product minimums for the reported, committed and launch TCB, and the
// minimum firmware build and version. TCB values compare component-wise in the product's layout
// (snp/tcb.h), as go-sev-guest's validate does.
#include <tuple>

#include "policy/claims.h"

namespace cvm::policy::detail {

namespace {

using snp::TcbVersion;

std::string version(uint8_t major, uint8_t minor, uint8_t build)
{
    return num(major) + "." + num(minor) + "." + num(build);
}

void minimum(Claims& c, const char* name, const char* field, const std::map<snp::Product, TcbVersion>& mins,
             uint64_t raw, snp::Product product)
{
    TcbVersion have = TcbVersion::decode(raw, product);
    auto min = mins.find(product);
    if (min != mins.end())
        c.add(name, have.at_least(min->second), have.to_string(product), ">= " + min->second.to_string(product),
              std::string(field) + " below the minimum for this product");
    else if (!mins.empty())
        c.add(name, false, std::string(snp::product_name(product)), "a product the policy lists",
              std::string("the policy sets no minimum ") + field + " for this product");
    else
        c.any(name, have.to_string(product));
}

}  // namespace

void tcb(Claims& c, const Policy& p, const snp::AttestationReport& r, snp::Product product)
{
    TcbVersion current = TcbVersion::decode(r.current_tcb, product);
    TcbVersion reported = TcbVersion::decode(r.reported_tcb, product);
    TcbVersion committed = TcbVersion::decode(r.committed_tcb, product);
    std::string cur = current.to_string(product);

    c.add("reported_tcb", current.at_least(reported), reported.to_string(product), "<= CURRENT_TCB " + cur,
          "REPORTED_TCB is above CURRENT_TCB: no firmware reports a TCB newer than it runs");

    bool provisional = p.permit_provisional_firmware;
    c.add("committed_tcb", provisional ? current.at_least(committed) : committed == current,
          committed.to_string(product), (provisional ? "<= CURRENT_TCB " : "= CURRENT_TCB ") + cur,
          provisional ? "COMMITTED_TCB is above CURRENT_TCB"
                      : "the running firmware is not committed (it can be rolled back); "
                        "permit_provisional_firmware = true accepts that");

    auto cur_v = std::tuple(r.current_major, r.current_minor, r.current_build);
    auto com_v = std::tuple(r.committed_major, r.committed_minor, r.committed_build);
    std::string cur_text = version(r.current_major, r.current_minor, r.current_build);
    c.add("committed_version", provisional ? com_v <= cur_v : com_v == cur_v,
          version(r.committed_major, r.committed_minor, r.committed_build),
          (provisional ? "<= current " : "= current ") + cur_text,
          provisional ? "the committed firmware version is above the current one"
                      : "the running firmware version is not committed; "
                        "permit_provisional_firmware = true accepts that");

    minimum(c, "min_tcb", "REPORTED_TCB", p.min_tcb, r.reported_tcb, product);
    minimum(c, "min_committed_tcb", "COMMITTED_TCB", p.min_committed_tcb, r.committed_tcb, product);
    minimum(c, "min_launch_tcb", "LAUNCH_TCB", p.min_launch_tcb, r.launch_tcb, product);

    if (p.min_build)
        c.add("min_build", r.current_build >= *p.min_build, num(r.current_build), ">= " + num(*p.min_build),
              "CURRENT_BUILD of the firmware too low");
    else
        c.any("min_build", num(r.current_build));
    std::string have = num(r.current_major) + "." + num(r.current_minor);
    if (p.min_version)
        c.add("min_version", std::pair(r.current_major, r.current_minor) >= *p.min_version, have,
              ">= " + num(p.min_version->first) + "." + num(p.min_version->second),
              "CURRENT_MAJOR.CURRENT_MINOR of the firmware too low");
    else
        c.any("min_version", have);
}

}  // namespace cvm::policy::detail
