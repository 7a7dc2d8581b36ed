#include "broker_fixture.h"

#include <doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/file.h"

namespace cvm::test {

BrokerFiles::BrokerFiles()
{
    std::string pattern = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/cvm_broker_XXXXXX";
    REQUIRE(mkdtemp(pattern.data()));
    m_dir = pattern;
    proto::Ed25519KeyPair key = proto::Ed25519KeyPair::generate();
    m_public = key.public_key();
    SecretBytes pem = proto::ed25519_private_pem(key);
    REQUIRE(write_file_atomic(m_dir + "/broker.key", pem.expose(), 0600).ok());
    write("nonce.key", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n");
    write("db.secret", "s3cret-db-password");
    write("data.key", std::string(64, 'k'));
}

BrokerFiles::~BrokerFiles()
{
    std::filesystem::remove_all(m_dir);
}

std::string BrokerFiles::write(const std::string& name, std::string_view contents) const
{
    std::string path = m_dir + "/" + name;
    REQUIRE(write_file_atomic(path, {reinterpret_cast<const uint8_t*>(contents.data()), contents.size()}, 0600).ok());
    return path;
}

std::string broker_config_text(const std::string& extra_policy, const std::string& extra_top)
{
    return "listen = \"127.0.0.1:0\"\n"
           "signing_key = \"broker.key\"\n"
           "nonce_key = \"nonce.key\"\n" +
           extra_top +
           // Revocation is on, so AMD's CRLs need a [kds]: an offline one, so no test reaches a network.
           (extra_top.find("[kds]") == std::string::npos ? "[kds]\noffline = true\ncache_dir = \"kds-offline\"\n"
                                                         : "") +
           "\n[policy]\n"
           "measurements = [\"" +
           GOOD_MEASUREMENT + "\", \"" + std::string(96, 'c') + "\"]\n" + extra_policy +
           "\n[[secret]]\nname = \"db\"\nfile = \"db.secret\"\nenv = \"DB_PASSWORD\"\nmeasurements = [\"" +
           GOOD_MEASUREMENT +
           "\"]\n"
           "\n[[secret]]\nname = \"token\"\nvalue = \"tok-123\"\nmeasurements = [\"" +
           GOOD_MEASUREMENT + "\", \"" + std::string(96, 'c') +
           "\"]\n"
           // Without rollback protection: the tests of these resources send no volume states
           // (test_volume_generations.cc has the protected volumes).
           "\n[[volume]]\nname = \"data\"\nkey_file = \"data.key\"\nrollback_protection = false\n"
           "measurements = [\"" +
           GOOD_MEASUREMENT + "\"]\n";
}

}  // namespace cvm::test
