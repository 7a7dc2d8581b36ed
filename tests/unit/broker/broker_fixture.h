// A temporary directory holding what a broker configuration points at: a signing key, a nonce
// key, secret and volume key files. Removed with its contents on destruction.
#pragma once

#include <string>

#include "base/bytes.h"
#include "proto/keys.h"

namespace cvm::test {

class BrokerFiles {
public:
    BrokerFiles();
    ~BrokerFiles();
    BrokerFiles(const BrokerFiles&) = delete;
    BrokerFiles& operator=(const BrokerFiles&) = delete;

    const std::string& dir() const { return m_dir; }
    const proto::Ed25519PublicKey& broker_key() const { return m_public; }
    std::string write(const std::string& name, std::string_view contents) const;  // returns the path

private:
    std::string m_dir;
    proto::Ed25519PublicKey m_public{};
};

// A measurement the tests' policies accept ("aa" x 48) and one they do not ("bb" x 48).
inline const std::string GOOD_MEASUREMENT(96, 'a');
inline const std::string OTHER_MEASUREMENT(96, 'b');

// A complete configuration text: listen 127.0.0.1:0, secrets "db" (file, env DB_PASSWORD) and
// "token" (value) and volume "data", all for GOOD_MEASUREMENT; `extra_policy` lines are added to
// [policy]; `extra_top` lines before it; unless they have a [kds] table, an offline [kds] whose
// cache directory is empty (revocation is on, and AMD's CRLs come from KDS).
std::string broker_config_text(const std::string& extra_policy = "", const std::string& extra_top = "");

}  // namespace cvm::test
