/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sweep's facts database (SQLite, WAL; schema in docs/sweep-db.md): per
 * TU its key (a hash of the tool, the rules, the command and the content of
 * every file it read), its result, findings and function facts. A TU whose
 * key is unchanged is not analysed again; every TU is committed as it ends,
 * so a killed sweep resumes where it stopped.
 */
#ifndef RTCHECK_SWEEP_DB_H
#define RTCHECK_SWEEP_DB_H

#include "sweep.h"

#include <sqlite3.h>

/* Opens (creating) the database at path; NULL with err. */
sqlite3 *db_open(const char *path, char *err, size_t errlen);
void db_close(sqlite3 *db);

/* A key/value of the meta table; value NULL removes it. */
int db_set_meta(sqlite3 *db, const char *key, const char *value);
/* The value (malloc'ed) or NULL. */
char *db_get_meta(sqlite3 *db, const char *key);

/*
 * Marks every TU of list whose stored result is still valid (same key, from
 * the current content of the files it read) as TU_OK with cached = 1 and its
 * stored figures; returns how many.
 */
size_t db_mark_cached(struct sweep *sw, struct tu_list *list);

/* Stores the result of a TU that just ended (its OUT/tu files); 0 or -1 with err. */
int db_store_tu(struct sweep *sw, const struct tu *tu, char *err, size_t errlen);

/* The stored findings of a TU, as rtcheck-clang wrote them; malloc'ed or NULL. */
enum tu_output { TU_JSONL, TU_TEXT, TU_SARIF };
char *db_tu_output(sqlite3 *db, const char *rel, enum tu_output kind);

/* Copies every TU of the shard databases into db (a later shard wins); 0 or -1. */
int db_merge(sqlite3 *db, char *const shards[], size_t n, char *err, size_t errlen);

/* The TUs stored in db, in path order, as a list (for sweep merge). */
int db_list_tus(sqlite3 *db, const char *src, struct tu_list *list, char *err, size_t errlen);

/* A TU's key from the tool, rules, its command and the files it read (one per line). */
void db_tu_key(struct sweep *sw, const struct tu *tu, const char *includes, char out[17]);

/* 64-bit FNV-1a of len bytes, continuing h (start with FNV_OFFSET). */
#define FNV_OFFSET 1469598103934665603ull
unsigned long long fnv1a(unsigned long long h, const void *p, size_t len);

#endif
