#include <doctest.h>

#include "metrics.h"

using namespace cvm::broker;

TEST_CASE("metrics: Prometheus text with outcomes, codes, a cumulative histogram and caches")
{
    Metrics m;
    m.challenge_issued();
    m.challenge_issued();
    m.attest(true, "OK", false, 0.0007);
    m.attest(false, "MEASUREMENT_MISMATCH", true, 0.02);
    m.attest(false, "MEASUREMENT_MISMATCH", true, 3.0);
    m.vcek_cache(true);
    m.vcek_cache(false);
    m.kds_fetch("network");
    std::string text = m.render({5, 2});
    CHECK(text.find("cvmkb_challenges_total 2\n") != std::string::npos);
    CHECK(text.find("cvmkb_attests_total{outcome=\"released\",code=\"OK\",simulated=\"false\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("cvmkb_attests_total{outcome=\"refused\",code=\"MEASUREMENT_MISMATCH\",simulated=\"true\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("cvmkb_attest_duration_seconds_bucket{le=\"0.0005\"} 0\n") != std::string::npos);
    CHECK(text.find("cvmkb_attest_duration_seconds_bucket{le=\"0.001\"} 1\n") != std::string::npos);
    CHECK(text.find("cvmkb_attest_duration_seconds_bucket{le=\"0.025\"} 2\n") != std::string::npos);
    CHECK(text.find("cvmkb_attest_duration_seconds_bucket{le=\"2.5\"} 2\n") != std::string::npos);
    CHECK(text.find("cvmkb_attest_duration_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
    CHECK(text.find("cvmkb_attest_duration_seconds_count 3\n") != std::string::npos);
    CHECK(text.find("cvmkb_vcek_cache_total{result=\"hit\"} 1\n") != std::string::npos);
    CHECK(text.find("cvmkb_kds_fetches_total{source=\"network\"} 1\n") != std::string::npos);
    CHECK(text.find("cvmkb_verifier_cache_hits_total 5\n") != std::string::npos);
    CHECK(text.find("# TYPE cvmkb_attest_duration_seconds histogram\n") != std::string::npos);
}
