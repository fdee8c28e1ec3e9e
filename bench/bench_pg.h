/* bench_pg.h - a thin libpq layer for the PostgreSQL baselines: connect,
 * run SQL, bulk-load with COPY, prepared queries. Every failure is fatal
 * (bench_fail): a baseline that half-loaded is no baseline.
 *
 * The cluster itself (a throw-away initdb on a Unix socket in a temporary
 * directory) is made by bench/pg_cluster.sh; the programs get a conninfo
 * string such as "host=/tmp/jmbench.X dbname=bench user=bench". */
#ifndef BENCH_PG_H
#define BENCH_PG_H

#include <libpq-fe.h>

typedef struct bench_pg bench_pg;

bench_pg *bench_pg_connect(const char *conninfo);
void bench_pg_close(bench_pg *pg);

/* Runs one or more statements without parameters. */
void bench_pg_exec(bench_pg *pg, const char *sql);

/* COPY table (columns) FROM STDIN in text format; rows are tab-separated
 * fields ending in '\n', buffered and sent in large chunks. */
void bench_pg_copy_begin(bench_pg *pg, const char *table_columns);
void bench_pg_copy_row(bench_pg *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bench_pg_copy_end(bench_pg *pg);

/* Prepares sql under name, with nparams text parameters. */
void bench_pg_prepare(bench_pg *pg, const char *name, const char *sql,
                      int nparams);

/* Runs a prepared statement; caller owns the result (PQclear). */
PGresult *bench_pg_run(bench_pg *pg, const char *name, int nparams,
                       const char *const *params);

/* The server's version string ("PostgreSQL 15.x ..."). Caller frees. */
char *bench_pg_version(bench_pg *pg);

#endif
