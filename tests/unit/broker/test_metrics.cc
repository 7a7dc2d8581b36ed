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

TEST_CASE("metrics: the process's own families, kept apart from the protocol's")
{
    Metrics m;
    std::string empty = m.render({0, 0});
    // Families are declared before any event, so a dashboard's queries find them at once.
    CHECK(empty.find("# TYPE cvm_broker_reloads_total counter\n") != std::string::npos);
    CHECK(empty.find("# TYPE cvm_broker_store_duration_seconds histogram\n") != std::string::npos);
    CHECK(empty.find("cvm_broker_config_generation 0\n") != std::string::npos);
    CHECK(empty.find("cvm_broker_build_info{version=\"\"} 1\n") != std::string::npos);

    m.build_info("1.0 \"rc\"\\x\n");  // a label value is escaped as the text format requires
    m.config_generation(7);
    m.reload(true);
    m.reload(false);
    m.reload(false);
    m.store_request("get", true, 0.0004);
    m.store_request("get", false, 0.3);
    m.store_request("set_if_absent", true, 0.002);
    std::string text = m.render({0, 0});
    CHECK(text.find("cvm_broker_build_info{version=\"1.0 \\\"rc\\\"\\\\x\\n\"} 1\n") != std::string::npos);
    CHECK(text.find("cvm_broker_config_generation 7\n") != std::string::npos);
    CHECK(text.find("cvm_broker_reloads_total{result=\"ok\"} 1\n") != std::string::npos);
    CHECK(text.find("cvm_broker_reloads_total{result=\"failed\"} 2\n") != std::string::npos);
    CHECK(text.find("cvm_broker_store_requests_total{op=\"get\",result=\"ok\"} 1\n") != std::string::npos);
    CHECK(text.find("cvm_broker_store_requests_total{op=\"get\",result=\"error\"} 1\n") != std::string::npos);
    CHECK(text.find("cvm_broker_store_duration_seconds_bucket{le=\"0.0005\"} 1\n") != std::string::npos);
    CHECK(text.find("cvm_broker_store_duration_seconds_bucket{le=\"0.0025\"} 2\n") != std::string::npos);
    CHECK(text.find("cvm_broker_store_duration_seconds_bucket{le=\"0.25\"} 2\n") != std::string::npos);
    CHECK(text.find("cvm_broker_store_duration_seconds_bucket{le=\"0.5\"} 3\n") != std::string::npos);
    CHECK(text.find("cvm_broker_store_duration_seconds_count 3\n") != std::string::npos);
    // The attest histogram is separate: no store call shows in it.
    CHECK(text.find("cvmkb_attest_duration_seconds_count 0\n") != std::string::npos);
}
