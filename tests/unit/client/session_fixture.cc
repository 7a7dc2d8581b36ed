#include "session_fixture.h"

#include <doctest.h>

#include <algorithm>

#include "snp/report.h"
#include "vectors.h"

namespace cvm::test {

client::KbsOptions kbs_options(const std::string& url)
{
    client::KbsOptions o;
    o.url = url;
    o.http.connect_timeout_ms = 1000;
    o.http.io_timeout_ms = 2000;
    o.http.total_timeout_ms = 5000;
    return o;
}

Bytes vector_report(const std::array<uint8_t, 64>& report_data)
{
    Bytes report = read_vector("snp-reports/trustee_milan_vlek_v3/report.bin");
    REQUIRE(report.size() == snp::REPORT_SIZE);
    std::copy(report_data.begin(), report_data.end(), report.begin() + snp::REPORT_DATA_OFFSET);
    return report;
}

std::vector<snp::CertEntry> vector_certs()
{
    auto certs = snp::parse_cert_table(read_vector("snp-reports/trustee_milan_vlek_v3/certs_table_SYNTH.bin"));
    REQUIRE(certs.ok());
    REQUIRE_FALSE(certs->empty());
    return certs.release_value();
}

std::string member_names(yyjson_val* object)
{
    if (!yyjson_is_obj(object))
        return "<not an object>";
    std::string out;
    yyjson_obj_iter it = yyjson_obj_iter_with(object);
    while (yyjson_val* key = yyjson_obj_iter_next(&it))
        out += (out.empty() ? "" : ",") + std::string(yyjson_get_str(key), yyjson_get_len(key));
    return out;
}

std::string string_at(yyjson_val* object, const char* key)
{
    yyjson_val* v = yyjson_obj_get(object, key);
    return yyjson_is_str(v) ? std::string(yyjson_get_str(v), yyjson_get_len(v)) : "<not a string>";
}

}  // namespace cvm::test
