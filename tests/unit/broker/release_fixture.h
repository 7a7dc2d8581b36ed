// Releases for the broker's tests: statements of a shape matrix, signed into Sigstore bundles
// with lib/release (the code `cvm release` uses), written into a BrokerFiles directory beside a
// configuration that trusts their key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker_fixture.h"
#include "release/keys.h"
#include "release/release.h"
#include "sim/psp.h"

namespace cvm::test {

// The 2 x 2 shape matrix of the tests' release: 1 and 2 vCPUs of EPYC-Milan and EPYC-Genoa,
// MEASUREMENTs 0x11.., 0x12.., 0x13.., 0x14.. (none of them GOOD_MEASUREMENT).
std::vector<release::ShapeMeasurement> matrix_shapes();

// A statement of `shapes`, built at `source_date_epoch`, valid until `not_after`.
release::Statement release_statement(std::vector<release::ShapeMeasurement> shapes, int64_t source_date_epoch,
                                     std::optional<int64_t> not_after,
                                     std::optional<std::array<uint8_t, 32>> host_data = std::nullopt);

// A simulated launch of `measurement` (and `host_data`).
sim::LaunchState launch_of(const release::Measurement& measurement, const std::array<uint8_t, 32>& host_data = {});

// The release key of the tests, made once (Ed25519), and another one no configuration trusts.
const release::SigningKey& release_key();
const release::SigningKey& other_release_key();

// Writes `statement` signed with `key` as releases/NAME (the directory made if needed).
void write_bundle(const BrokerFiles& files, const std::string& name, const release::Statement& statement,
                  const release::SigningKey& key = release_key());

// A broker configuration trusting release_key() (written as release.pub) as [[policy.release]]
// "prod" with `entry_lines` added to the entry, loading releases/ (made empty if absent); secret
// "db" (value "s3cret-db") for releases = ["prod"], with `secret_lines` added; `policy_lines` in
// [policy] (allow_simulated is set); the simulated root and CRL of simulated_top().
std::string release_config_text(const BrokerFiles& files, const std::string& entry_lines = "",
                                const std::string& secret_lines = "", const std::string& policy_lines = "");

}  // namespace cvm::test
