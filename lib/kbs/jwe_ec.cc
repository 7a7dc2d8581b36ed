// EcKey: key generation, the public point and ECDH through mbedTLS's ecp/ecdh modules. Each
// operation loads its own group, so a const EcKey is safe to use from several threads (mbedTLS's
// group is written to during a multiplication).
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>

#include <cstdlib>

#include "kbs/jwe.h"

namespace cvm::kbs::jwe {
namespace {

constexpr size_t MAX_COORDINATE_SIZE = 66;   // P-521
constexpr uint8_t SEC1_UNCOMPRESSED = 0x04;  // SEC 1 v2 §2.3.3

struct Group {
    Group() { mbedtls_ecp_group_init(&g); }
    ~Group() { mbedtls_ecp_group_free(&g); }
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;
    mbedtls_ecp_group g;
};

// mbedtls_mpi_free zeroises the limbs, so a scalar or a shared secret held here is wiped.
struct Mpi {
    Mpi() { mbedtls_mpi_init(&m); }
    ~Mpi() { mbedtls_mpi_free(&m); }
    Mpi(const Mpi&) = delete;
    Mpi& operator=(const Mpi&) = delete;
    mbedtls_mpi m;
};

struct Point {
    Point() { mbedtls_ecp_point_init(&p); }
    ~Point() { mbedtls_ecp_point_free(&p); }
    Point(const Point&) = delete;
    Point& operator=(const Point&) = delete;
    mbedtls_ecp_point p;
};

mbedtls_ecp_group_id group_id(Curve curve)
{
    switch (curve) {
    case Curve::P256: return MBEDTLS_ECP_DP_SECP256R1;
    case Curve::P384: return MBEDTLS_ECP_DP_SECP384R1;
    case Curve::P521: return MBEDTLS_ECP_DP_SECP521R1;
    }
    abort();
}

Result<void> load(Group& group, Curve curve)
{
    int rc = mbedtls_ecp_group_load(&group.g, group_id(curve));
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, curve_name(curve));
    return {};
}

struct KeyParts {
    SecretBytes d;
    Bytes x;
    Bytes y;
};

// The scalar into wiping storage, and the affine coordinates of its public point.
Result<KeyParts> export_parts(Curve curve, const Group& group, const Mpi& d, const Point& q)
{
    size_t size = coordinate_size(curve);
    SecretBytes scalar(size);
    int rc = mbedtls_mpi_write_binary(&d.m, scalar.expose().data(), size);
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "EC private key");
    uint8_t point[1 + 2 * MAX_COORDINATE_SIZE];
    size_t length = 0;
    rc = mbedtls_ecp_point_write_binary(&group.g, &q.p, MBEDTLS_ECP_PF_UNCOMPRESSED, &length, point, sizeof point);
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "EC public key");
    if (length != 1 + 2 * size)
        return Error::make(Errc::Crypto, "%s public key: %zu bytes written, expected %zu (SEC 1 uncompressed)",
                           curve_name(curve), length, 1 + 2 * size);
    return KeyParts{std::move(scalar), Bytes(point + 1, point + 1 + size), Bytes(point + 1 + size, point + length)};
}

}  // namespace

namespace detail {

}  // namespace detail

const char* curve_name(Curve curve)
{
    switch (curve) {
    case Curve::P256: return "P-256";
    case Curve::P384: return "P-384";
    case Curve::P521: return "P-521";
    }
    abort();
}

size_t coordinate_size(Curve curve)
{
    switch (curve) {
    case Curve::P256: return 32;
    case Curve::P384: return 48;
    case Curve::P521: return 66;
    }
    abort();
}

EcKey::EcKey(Curve curve, SecretBytes d, Bytes x, Bytes y)
        : m_curve(curve), m_d(std::move(d)), m_x(std::move(x)), m_y(std::move(y))
{
}

Result<EcKey> EcKey::generate(Curve curve)
{
    Group group;
    TRY(load(group, curve));
    Mpi d;
    Point q;
    int rc = mbedtls_ecp_gen_keypair(&group.g, &d.m, &q.p, detail::random_bytes, nullptr);
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "EC key generation");
    KeyParts parts = TRY(export_parts(curve, group, d, q));
    return EcKey(curve, std::move(parts.d), std::move(parts.x), std::move(parts.y));
}

Result<EcKey> EcKey::from_private(Curve curve, ByteView d_bytes)
{
    if (d_bytes.size() != coordinate_size(curve))
        return Error::make(Errc::Format, "%s private key: %zu bytes, expected %zu", curve_name(curve), d_bytes.size(),
                           coordinate_size(curve));
    Group group;
    TRY(load(group, curve));
    Mpi d;
    Point q;
    int rc = mbedtls_mpi_read_binary(&d.m, d_bytes.data(), d_bytes.size());
    if (rc == 0)
        rc = mbedtls_ecp_check_privkey(&group.g, &d.m);
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Format, rc, "EC private key");
    rc = mbedtls_ecp_mul(&group.g, &q.p, &d.m, &group.g.G, detail::random_bytes, nullptr);
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "EC public key");
    KeyParts parts = TRY(export_parts(curve, group, d, q));
    return EcKey(curve, std::move(parts.d), std::move(parts.x), std::move(parts.y));
}

Result<SecretBytes> EcKey::agree(ByteView peer_x, ByteView peer_y, std::string_view what) const
{
    const int w = static_cast<int>(what.size());
    size_t size = coordinate_size(m_curve);
    // RFC 7518 §6.2.1.2/§6.2.1.3: "The length of this octet string MUST be the full size of a
    // coordinate for the curve specified in the "crv" parameter."
    if (peer_x.size() != size || peer_y.size() != size)
        return Error::make(Errc::Format, "%.*s: coordinates of %zu and %zu bytes, expected %zu for %s", w, what.data(),
                           peer_x.size(), peer_y.size(), size, curve_name(m_curve));
    Group group;
    TRY(load(group, m_curve));
    uint8_t encoded[1 + 2 * MAX_COORDINATE_SIZE];
    encoded[0] = SEC1_UNCOMPRESSED;
    std::copy(peer_x.begin(), peer_x.end(), encoded + 1);
    std::copy(peer_y.begin(), peer_y.end(), encoded + 1 + size);
    Point peer;
    int rc = mbedtls_ecp_point_read_binary(&group.g, &peer.p, encoded, 1 + 2 * size);
    // An invalid-curve point would let the sender learn the private key bit by bit: refuse
    // anything but a point of the curve's group (RFC 7518 §4.6 cites NIST SP 800-56A, whose
    // §5.6.2.3 requires this check of the other party's public key).
    if (rc == 0)
        rc = mbedtls_ecp_check_pubkey(&group.g, &peer.p);
    if (rc != 0)
        return Error::make(Errc::Format, "%.*s: (x, y) is not a point on %s, expected one", w, what.data(),
                           curve_name(m_curve));
    Mpi d;
    Mpi z;
    rc = mbedtls_mpi_read_binary(&d.m, m_d.expose().data(), m_d.size());
    if (rc == 0)
        rc = mbedtls_ecdh_compute_shared(&group.g, &z.m, &peer.p, &d.m, detail::random_bytes, nullptr);
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "ECDH");
    SecretBytes out(size);
    rc = mbedtls_mpi_write_binary(&z.m, out.expose().data(), size);  // left-padded to full size
    if (rc != 0)
        return detail::mbedtls_failure(Errc::Crypto, rc, "ECDH shared secret");
    return out;
}

}  // namespace cvm::kbs::jwe
