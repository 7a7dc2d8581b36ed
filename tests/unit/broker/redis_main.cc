// main() of the Redis store tests: they need a real redis-server (redis_server.h), so without one
// they are skipped (exit 77) on a developer's machine and fail under CI=true.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest.h>

#include "redis_server.h"

int main(int argc, char** argv)
{
    if (auto status = cvm::test::redis_server_missing("test_redis_store"))
        return *status;
    doctest::Context context(argc, argv);
    return context.run();
}
