/* jm_test.h - the test harness: temporary directories, running a loop
 * until a condition holds (never sleeping), and closing a loop with the
 * check that no handle leaked.
 *
 * Tests include <cmocka.h> after the headers cmocka needs; this header does
 * that in the right order. */
#ifndef JM_TEST_H
#define JM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <uv.h>

#include "jm/bus.h"

/* Creates a fresh directory "jmtest-XXXXXX" under $TMPDIR (or /tmp) and
 * writes its path into buf. Fails the test on error. */
void jm_test_tmpdir(char *buf, size_t size);

/* Removes dir and everything below it (best effort). */
void jm_test_rmtree(const char *dir);

/* Writes text to path, replacing it (a config, an allow list). Fails the
 * test on error. */
void jm_test_write_file(const char *path, const char *text);

/* Runs the loop until pred(arg) is true or timeout_ms passed. Returns
 * pred's final value. A private timer bounds the wait, so the loop never
 * blocks forever, and is closed before returning. */
typedef bool (*jm_test_pred_fn)(void *arg);
bool jm_test_run_until(uv_loop_t *loop, jm_test_pred_fn pred, void *arg,
                       unsigned timeout_ms);

/* Whether the CURVE server at endpoint (public key server_key) admits the
 * client key pair public_key/secret_key: a throw-away DEALER (for a
 * ROUTER) or SUB (for a PUB, type JM_SOCK_SUB) on a bus of its own on loop
 * watches the handshake (jm_bus_curve_probe). Returns true if admitted,
 * false if refused; fails the test on anything else. */
bool jm_test_curve_admits(uv_loop_t *loop, const char *endpoint,
                          const char *server_key, jm_sock_type type,
                          const char *public_key, const char *secret_key);

/* Runs the loop until nothing is pending (bounded by timeout_ms), prints
 * the handles still open, and asserts uv_loop_close(loop) == 0. */
void jm_test_close_loop(uv_loop_t *loop, unsigned timeout_ms);

/* Fills buf with len random bytes (libuv's uv_random, no seeding). */
void jm_test_random(void *buf, size_t len);

/* Reads a whole file into a new NUL-terminated buffer (caller frees);
 * NULL on error. */
char *jm_test_read_file(const char *path, size_t *size_out);

#endif
