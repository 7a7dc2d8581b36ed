// Evidence: the bytes a verifier is handed — a report and the certificates that came with it.
//
// Nothing here is trusted: Verifier decides which root vouches for which certificate. The
// certificates may come from the report's GUID certificate table (SNP_GET_EXT_REPORT, configfs-tsm
// `auxblob`), from the cvmkb/1 `certs` array, from files, or be absent — then the built-in AMD
// intermediates are used and the VEK must be supplied (AMD's KDS serves VCEKs; VLEKs only travel
// with the evidence).
#pragma once

#include <span>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace cvm::verify {

struct Evidence {
    Bytes report;  // raw ATTESTATION_REPORT (1184 bytes); empty: verify the chain only
    Bytes vek;     // the VCEK or VLEK certificate, DER or PEM; required
    Bytes ask;     // ASK or ASVK, DER or PEM; empty: the built-in one for the product
    Bytes ark;     // ARK, DER or PEM; empty: the trusted root the ASK's issuer names
    // The ARK-signed CRL of the product and key family (KDS /vcek|vlek/v1/{P}/crl), DER or PEM.
    // Untrusted like the rest: its signature, issuer and dates are checked (chain.revocation).
    // Empty with revocation checking on: chain.revocation fails, naming where to get one.
    Bytes crl;
};

// Evidence from a report and its GUID certificate table (snp::parse_cert_table). Takes the VCEK or
// VLEK entry — the one the report's SIGNING_KEY names when the table has both — and the ASK (also
// used for the ASVK) and ARK entries when present. Fails when the table does not parse or has no
// VCEK/VLEK entry. Entries of other GUIDs are ignored.
Result<Evidence> evidence_from_cert_table(ByteView report, ByteView table);

// Adds the certificates of a PEM bundle (KDS `cert_chain`: ASK then ARK, but any order is
// accepted): the self-issued certificate becomes `ark`, the other `ask`. Fails on more than two
// certificates, on two of one role, or when that role is already filled.
Result<void> add_chain_pem(Evidence& evidence, std::string_view pem);

// Evidence from a report and a list of DER certificates in any order (the cvmkb/1 `certs`
// member): the self-issued certificate is the ARK, another CA certificate the ASK/ASVK, the
// certificate that is no CA the VEK. The VEK may be absent (then evidence.vek stays empty for the
// caller to fill, e.g. from KDS). Fails on more than three certificates, on one that does not
// parse, or on two of one role.
Result<Evidence> evidence_from_cert_list(ByteView report, std::span<const Bytes> ders);

}  // namespace cvm::verify
