/* bench_pg.c - the libpq layer of the PostgreSQL baselines. */
#include "bench_pg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define COPY_CHUNK (1 << 20)

struct bench_pg {
    PGconn *conn;
    char *buf; /* COPY rows not yet sent */
    size_t len;
};

bench_pg *
bench_pg_connect(const char *conninfo)
{
    bench_pg *pg = calloc(1, sizeof(*pg));

    if (pg == NULL)
        bench_fail("out of memory");
    pg->conn = PQconnectdb(conninfo);
    if (PQstatus(pg->conn) != CONNECTION_OK)
        bench_fail("PostgreSQL at '%s': %s", conninfo,
                   PQerrorMessage(pg->conn));
    pg->buf = malloc(COPY_CHUNK);
    if (pg->buf == NULL)
        bench_fail("out of memory");
    return pg;
}

void
bench_pg_close(bench_pg *pg)
{
    if (pg == NULL)
        return;
    PQfinish(pg->conn);
    free(pg->buf);
    free(pg);
}

void
bench_pg_exec(bench_pg *pg, const char *sql)
{
    PGresult *res = PQexec(pg->conn, sql);
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        bench_fail("SQL failed: %s\n%s", PQerrorMessage(pg->conn), sql);
    PQclear(res);
}

void
bench_pg_copy_begin(bench_pg *pg, const char *table_columns)
{
    char sql[512];
    PGresult *res;

    (void) snprintf(sql, sizeof(sql), "COPY %s FROM STDIN", table_columns);
    res = PQexec(pg->conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        bench_fail("%s: %s", sql, PQerrorMessage(pg->conn));
    PQclear(res);
    pg->len = 0;
}

static void
copy_flush(bench_pg *pg)
{
    if (pg->len > 0 && PQputCopyData(pg->conn, pg->buf, (int) pg->len) != 1)
        bench_fail("COPY: %s", PQerrorMessage(pg->conn));
    pg->len = 0;
}

void
bench_pg_copy_row(bench_pg *pg, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (COPY_CHUNK - pg->len < 4096)
        copy_flush(pg);
    va_start(ap, fmt);
    n = vsnprintf(pg->buf + pg->len, COPY_CHUNK - pg->len - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= COPY_CHUNK - pg->len - 1)
        bench_fail("COPY row too long");
    pg->len += (size_t) n;
    pg->buf[pg->len++] = '\n';
}

void
bench_pg_copy_end(bench_pg *pg)
{
    PGresult *res;

    copy_flush(pg);
    if (PQputCopyEnd(pg->conn, NULL) != 1)
        bench_fail("COPY end: %s", PQerrorMessage(pg->conn));
    res = PQgetResult(pg->conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        bench_fail("COPY: %s", PQerrorMessage(pg->conn));
    PQclear(res);
    while ((res = PQgetResult(pg->conn)) != NULL)
        PQclear(res);
}

void
bench_pg_prepare(bench_pg *pg, const char *name, const char *sql, int nparams)
{
    PGresult *res = PQprepare(pg->conn, name, sql, nparams, NULL);

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        bench_fail("prepare %s: %s", name, PQerrorMessage(pg->conn));
    PQclear(res);
}

PGresult *
bench_pg_run(bench_pg *pg, const char *name, int nparams,
             const char *const *params)
{
    PGresult *res =
        PQexecPrepared(pg->conn, name, nparams, params, NULL, NULL, 0);

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        bench_fail("%s: %s", name, PQerrorMessage(pg->conn));
    return res;
}

char *
bench_pg_version(bench_pg *pg)
{
    PGresult *res = PQexec(pg->conn, "SELECT version()");
    char *v;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        bench_fail("version: %s", PQerrorMessage(pg->conn));
    v = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}
