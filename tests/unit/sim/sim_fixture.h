// Shared by the sim tests: platforms generated once per test executable (RSA-4096 key generation
// takes seconds), a verifier that trusts a platform's ARK, and temporary directories.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/chain.h"
#include "sim/crl.h"
#include "sim/psp.h"
#include "verify/verification.h"
#include "verify/verifier.h"

namespace cvm::test {

// A Genoa platform with the default TCB and a generated chip id.
const sim::Platform& genoa();
// A second, independent Genoa platform with a low TCB (bl 1, tee 0, snp 1, ucode 1): another
// chain for mix-ups, and a platform below any sensible policy minimum.
const sim::Platform& low_tcb_genoa();
inline constexpr snp::TcbVersion LOW_TCB{0, 1, 0, 1, 1};

// A copy of a platform (Platform is move-only because of its key).
sim::Platform copy(const sim::Platform& p);

// A Verifier trusting the ARKs of `trusted` in addition to AMD's; fails the test if it cannot be
// created.
std::unique_ptr<verify::Verifier> verifier_trusting(const std::vector<const sim::Platform*>& trusted);

// Evidence: `report` with the certificates of `table` (a GUID cert table), without a CRL.
verify::Evidence evidence(const Bytes& report, const Bytes& table);
// The same with the CRL of `crl_from` (crl_of), as a verifier checking revocation needs.
verify::Evidence evidence(const Bytes& report, const Bytes& table, const sim::Platform& crl_from);

// The platform's CRL with nothing revoked (sim::make_crl defaults), made once per platform.
const Bytes& crl_of(const sim::Platform& platform);

// A PSP of `platform` for a launch with `measurement` filled with `fill`.
sim::SimulatedPsp psp_for(const sim::Platform& platform, uint8_t fill = 0x5A);

std::array<uint8_t, 64> report_data(uint8_t fill);

// "name pass|FAIL found=... expected=... detail=..." per claim.
std::string dump(const verify::Verification& v);
std::vector<std::string> failing(const verify::Verification& v);

// A fresh empty directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return m_path; }
    std::string operator/(const std::string& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

// Writes `data` to `path`, creating parent directories; fails the test on error.
void write_bytes(const std::string& path, ByteView data);
Bytes read_bytes(const std::string& path);

}  // namespace cvm::test
