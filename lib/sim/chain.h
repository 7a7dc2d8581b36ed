// The simulated AMD platform: an ARK -> ASK -> VCEK chain with the shapes of AMD's, made with
// mbedTLS, and the VCEK private key that a real part keeps inside its Secure Processor.
//
// SIMULATED: nothing here is AMD's, and no verifier trusts it unless told to (the verify layer's
// VerifierOptions::trusted_roots, `cvm verify --trusted-root`, a broker's allow_simulated). It
// proves plumbing, never confidentiality. Every name says so: the ARK and ASK subjects are
// "SIMULATED-ARK-<Product> (cvm sim, not AMD)" and "SIMULATED-ASK-<Product> ...", O is "cvminit
// simulated platform - NOT AMD", and every CHIP_ID starts with the ASCII bytes "CVMSIM".
//
// Shapes (as tests/unit/verify/data/make_sim_chain.sh and AMD's certificates):
//   ARK   X.509 v3, serial 0x10000, self-signed RSA-4096; basicConstraints critical CA:TRUE,
//         keyUsage critical keyCertSign|cRLSign, subjectKeyIdentifier
//   ASK   serial 0x10001, RSA-4096 signed by the ARK; basicConstraints critical CA:TRUE
//         pathlen 0, keyUsage critical keyCertSign, subjectKeyIdentifier, authorityKeyIdentifier
//   VCEK  serial 0, CN "SEV-VCEK", EC P-384 signed by the ASK; AMD's extensions only (KDS spec
//         57230 Table 8): structVersion, productName, blSPL, teeSPL, spl4-7 (0), snpSPL, ucodeSPL,
//         fmcSPL on Turin, hwID (raw CHIP_ID bytes: 64 on Milan/Genoa, 8 on Turin)
//   every signature RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48 (see x509_builder.h);
//   validity from not_before (default: one day before now, for guests whose clock lags) for 25
//   years.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>

#include "base/bytes.h"
#include "base/result.h"
#include "base/secret.h"
#include "snp/tcb.h"

namespace cvm::sim {

inline constexpr size_t CHIP_ID_SIZE = 64;
using ChipId = std::array<uint8_t, CHIP_ID_SIZE>;

// The first bytes of every generated CHIP_ID, so a simulated chip is recognisable in any log.
inline constexpr std::string_view CHIP_ID_MARKER = "CVMSIM";

// The serial numbers of the simulated certificates (the shapes above); a CRL revokes by them.
inline constexpr uint64_t SIM_ARK_SERIAL = 0x10000, SIM_ASK_SERIAL = 0x10001, SIM_VCEK_SERIAL = 0;

// The TCB a simulated part of `product` reports unless told otherwise.
snp::TcbVersion default_tcb(snp::Product product);

struct PlatformOptions {
    snp::Product product{snp::Product::Genoa};
    std::optional<snp::TcbVersion> tcb;  // default_tcb(product); fmc must be 0 off Turin
    // Default: "CVMSIM" then random bytes; on Turin only CHIP_ID[0..8) is the chip's (the rest
    // is zero, as the 8-byte hwID requires). A given one must be non-zero, and zero past 8 bytes
    // on Turin.
    std::optional<ChipId> chip_id;
    std::optional<std::time_t> not_before;
};

// A simulated platform. Move-only: it holds the VCEK private key.
struct Platform {
    snp::Product product{snp::Product::Genoa};
    snp::TcbVersion tcb;
    ChipId chip_id{};
    Bytes ark_der, ask_der, vcek_der;
    SecretBytes vcek_key_der;  // SEC1 DER of the VCEK private key (P-384): a simulator secret
    // PKCS#1 DER of the ARK's RSA-4096 private key, to sign CRLs later (sim/crl.h). Host-only:
    // empty in a platform assembled for a guest (fw_cfg) or read from a directory without it.
    SecretBytes ark_key_der;
};

// Generates the three keys and certificates: two RSA-4096 key generations, a few seconds.
// Errc::Config for inconsistent options, Errc::Crypto when mbedTLS fails.
Result<Platform> create_platform(const PlatformOptions& options);

// A Platform from its parts as they travel (platform directory, fw_cfg): product, TCB and chip
// id are read from the VCEK certificate's AMD extensions, the one place they are defined, and
// `vcek_key` (DER or PEM) must be the private key of the VCEK's public key. Errc::Format naming
// the certificate or key that does not parse or does not match. The chain itself is not
// verified here: that is the verifier's job, with the ARK as a trusted root.
Result<Platform> assemble_platform(Bytes ark_der, Bytes ask_der, Bytes vcek_der, ByteView vcek_key);

}  // namespace cvm::sim
