// The Store::compare_and_set contract (store.h), checked the same way on every store: the
// memory and file stores (test_file_store.cc) and Redis (test_redis_store.cc).
#pragma once

#include <doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "store.h"

namespace cvm::test {

inline ByteView b(std::string_view s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string str(const std::optional<Bytes>& v)
{
    return v ? std::string(v->begin(), v->end()) : "<none>";
}

// The compare-and-set contract, the same on every store.
inline void check_compare_and_set(broker::Store& s)
{
    // Absent expected: set once; a second caller expecting absence loses.
    CHECK(s.compare_and_set("cvmkb:volume:a", std::nullopt, b("v1 1 aa")).value());
    CHECK_FALSE(s.compare_and_set("cvmkb:volume:a", std::nullopt, b("v1 1 bb")).value());
    CHECK(str(s.get("cvmkb:volume:a").value()) == "v1 1 aa");
    // The expected value: replaced; a stale expectation (or a prefix of the value) changes nothing.
    CHECK(s.compare_and_set("cvmkb:volume:a", b("v1 1 aa"), b("v1 2 aa")).value());
    CHECK_FALSE(s.compare_and_set("cvmkb:volume:a", b("v1 1 aa"), b("v1 9 aa")).value());
    CHECK_FALSE(s.compare_and_set("cvmkb:volume:a", b("v1 2 a"), b("v1 9 aa")).value());
    CHECK_FALSE(s.compare_and_set("cvmkb:volume:a", b(""), b("v1 9 aa")).value());
    CHECK(str(s.get("cvmkb:volume:a").value()) == "v1 2 aa");
    // Deleting: only with the value it has; expecting a value of a missing key fails.
    CHECK_FALSE(s.compare_and_set("cvmkb:volume:a", b("v1 1 aa"), std::nullopt).value());
    CHECK(s.compare_and_set("cvmkb:volume:a", b("v1 2 aa"), std::nullopt).value());
    CHECK_FALSE(s.get("cvmkb:volume:a").value());
    CHECK_FALSE(s.compare_and_set("cvmkb:volume:a", b("v1 2 aa"), b("x")).value());
    CHECK(s.compare_and_set("cvmkb:volume:a", std::nullopt, std::nullopt).value());
    CHECK_FALSE(s.get("cvmkb:volume:a").value());
    // An empty value is a value.
    CHECK(s.compare_and_set("cvmkb:recover:a", std::nullopt, b("")).value());
    CHECK(str(s.get("cvmkb:recover:a").value()).empty());
    CHECK_FALSE(s.compare_and_set("cvmkb:recover:a", std::nullopt, b("x")).value());
    CHECK(s.compare_and_set("cvmkb:recover:a", b(""), std::nullopt).value());
}

// `threads` callers on each of `stores` (replicas of one store, or one store) each advance the
// counter under "cvmkb:volume:n" 20 times by compare-and-set: no advance is lost or doubled.
inline void check_concurrent_advances(std::vector<broker::Store*> stores, int threads)
{
    std::vector<std::thread> pool;
    for (broker::Store* s : stores) {
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([s] {
                for (int done = 0; done < 20;) {
                    auto current = s->get("cvmkb:volume:n").value();
                    int n = current ? std::stoi(std::string(current->begin(), current->end())) : 0;
                    std::string next = std::to_string(n + 1);
                    std::optional<ByteView> expected;
                    if (current)
                        expected = ByteView(*current);
                    if (s->compare_and_set("cvmkb:volume:n", expected, b(next)).value())
                        ++done;
                }
            });
        }
    }
    for (std::thread& t : pool)
        t.join();
    CHECK(str(stores[0]->get("cvmkb:volume:n").value()) == std::to_string(stores.size() * threads * 20));
}

}  // namespace cvm::test
