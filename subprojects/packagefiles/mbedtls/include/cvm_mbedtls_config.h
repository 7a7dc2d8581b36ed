/* cvminit's changes to mbedTLS's default configuration, applied after mbedtls_config.h through
 * MBEDTLS_USER_CONFIG_FILE for the library and for every user of its headers alike. */

/* The broker and the tests verify and handshake on several threads at once: PSA crypto keeps
 * global state that needs mbedTLS's own locking. */
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD

/* Self-tests add unguarded global counters to ecp.c that race under concurrent ECC, and nothing
 * here runs them. */
#undef MBEDTLS_SELF_TEST
