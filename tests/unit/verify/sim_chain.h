// Self-made ("simulated") chains and reports for the verify tests: fixtures from data/ (see
// data/make_sim_chain.sh) and reports signed at run time with the fixture VEK key.
#pragma once

#include <string>

#include "base/bytes.h"
#include "snp/report.h"
#include "verify/certificate.h"

namespace cvm::test {

// The bytes of tests/unit/verify/data/<name>; a missing fixture fails the test.
Bytes read_testdata(const std::string& name);

// The fixture certificate data/<name> (DER or PEM); fails the test when it does not parse.
verify::Certificate testdata_cert(const std::string& name);

// A well-formed Milan v2 report matching sim_vcek.der: REPORTED_TCB bl=3 tee=0 snp=8 ucode=115,
// CHIP_ID 64 x 0x11, SIGNING_KEY VCEK. Unsigned until sign_report().
snp::AttestationReport sim_report();

// Signs `report` with data/sim_vek_key.pem (ECDSA P-384, SHA-384 over [0, 0x2A0)) and returns
// its 1184 bytes.
Bytes sign_report(snp::AttestationReport report);

}  // namespace cvm::test
