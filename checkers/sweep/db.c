// SPDX-License-Identifier: GPL-2.0
/*
 * The facts database: opening it, the TU keys, storing a TU's result and
 * facts as it ends (one transaction per TU), merging shard databases.
 */
#include "db.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_VERSION "8"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS file(path TEXT PRIMARY KEY, mtime INTEGER, size INTEGER,"
	"  hash TEXT);"
	"CREATE TABLE IF NOT EXISTS tu(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL,"
	"  key TEXT, state TEXT, seconds REAL, retried INTEGER, reason TEXT, stderr_tail TEXT,"
	"  nfindings INTEGER, findings_jsonl TEXT, findings_text TEXT, findings_sarif TEXT,"
	"  includes TEXT);"
	"CREATE TABLE IF NOT EXISTS function(id INTEGER PRIMARY KEY,"
	"  tu INTEGER NOT NULL REFERENCES tu(id) ON DELETE CASCADE,"
	"  name TEXT, file TEXT, line INTEGER, static INTEGER, init INTEGER);"
	"CREATE INDEX IF NOT EXISTS function_tu ON function(tu);"
	"CREATE TABLE IF NOT EXISTS entry(function INTEGER REFERENCES function(id) ON DELETE CASCADE,"
	"  kind TEXT, note TEXT);"
	"CREATE TABLE IF NOT EXISTS sleep(function INTEGER REFERENCES function(id) ON DELETE CASCADE,"
	"  site_function TEXT, op TEXT, why TEXT, file TEXT, line INTEGER, depth INTEGER,"
	"  unless INTEGER, needs TEXT, last_ref TEXT);"
	"CREATE TABLE IF NOT EXISTS call(function INTEGER REFERENCES function(id) ON DELETE CASCADE,"
	"  callee TEXT, local INTEGER, file TEXT, line INTEGER, held TEXT, atomic TEXT,"
	"  atomic_file TEXT, atomic_line INTEGER, atomic_note TEXT,"
	"  serialised INTEGER, bh_file TEXT, bh_line INTEGER, bh_note TEXT, released INTEGER,"
	"  unless INTEGER, atomic_facts INTEGER, needs TEXT, args TEXT, last_ref TEXT);"
	"CREATE TABLE IF NOT EXISTS percpu_free(function INTEGER REFERENCES function(id)"
	"  ON DELETE CASCADE, object TEXT, use_function TEXT, file TEXT, line INTEGER, note TEXT,"
	"  calls TEXT, needs TEXT);"
	"CREATE INDEX IF NOT EXISTS percpu_free_f ON percpu_free(function);"
	"CREATE TABLE IF NOT EXISTS registration(tu INTEGER REFERENCES tu(id) ON DELETE CASCADE,"
	"  function TEXT, kind TEXT, note TEXT, file TEXT, line INTEGER);"
	"CREATE INDEX IF NOT EXISTS entry_f ON entry(function);"
	"CREATE INDEX IF NOT EXISTS sleep_f ON sleep(function);"
	"CREATE INDEX IF NOT EXISTS call_f ON call(function);"
	"CREATE INDEX IF NOT EXISTS registration_tu ON registration(tu);";

unsigned long long fnv1a(unsigned long long h, const void *p, size_t len)
{
	const unsigned char *s = p;

	while (len--)
		h = (h ^ *s++) * 1099511628211ull;
	return h;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

sqlite3 *db_open(const char *path, char *err, size_t errlen)
{
	sqlite3 *db;
	char *version;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		 "PRAGMA foreign_keys=ON;") || exec(db, schema)) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	version = db_get_meta(db, "schema");
	if (version && strcmp(version, SCHEMA_VERSION)) {
		snprintf(err, errlen, "%s: schema version %s, this rtcheck writes %s (remove it)",
			 path, version, SCHEMA_VERSION);
		free(version);
		sqlite3_close(db);
		return NULL;
	}
	free(version);
	db_set_meta(db, "schema", SCHEMA_VERSION);
	return db;
}

void db_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int db_set_meta(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, value ? "INSERT OR REPLACE INTO meta VALUES(?1, ?2)" :
			       "DELETE FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The first column of the first row of sql with text parameter a, malloc'ed. */
static char *query_text(sqlite3 *db, const char *sql, const char *a)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

char *db_get_meta(sqlite3 *db, const char *key)
{
	return query_text(db, "SELECT value FROM meta WHERE key = ?1", key);
}

char *db_tu_output(sqlite3 *db, const char *rel, enum tu_output kind)
{
	static const char *const sql[] = {
		[TU_JSONL] = "SELECT findings_jsonl FROM tu WHERE path = ?1",
		[TU_TEXT] = "SELECT findings_text FROM tu WHERE path = ?1",
		[TU_SARIF] = "SELECT findings_sarif FROM tu WHERE path = ?1",
	};

	return query_text(db, sql[kind], rel);
}

/*
 * The content hash of a file the TU read, as 16 hex digits in out: from the
 * file table while its mtime and size are those recorded, else read again.
 * "" when it cannot be read (the key then never matches).
 */
/*
 * This run's hash of each file, by path: a TU reads ~600 headers and most of
 * them are every TU's, so each is looked up (stat, file table) once per run.
 */
struct memo_slot {
	char *path;
	char hash[17];
};
static struct memo_slot *memo;
static size_t memo_cap, memo_n;

static struct memo_slot *memo_find(const char *path)
{
	size_t i;

	if ((memo_n + 1) * 2 > memo_cap) {
		struct memo_slot *old = memo;
		size_t old_cap = memo_cap;

		memo_cap = memo_cap ? memo_cap * 2 : 4096;
		memo = calloc(memo_cap, sizeof(*memo));
		if (!memo) {
			fputs("rtcheck: error: out of memory\n", stderr);
			exit(EXIT_INTERNAL);
		}
		for (i = 0; i < old_cap; i++) {
			struct memo_slot *to;

			if (!old[i].path)
				continue;
			for (to = &memo[fnv1a(FNV_OFFSET, old[i].path, strlen(old[i].path)) &
					(memo_cap - 1)];
			     to->path; to = to + 1 == memo + memo_cap ? memo : to + 1)
				;
			*to = old[i];
		}
		free(old);
	}
	for (i = fnv1a(FNV_OFFSET, path, strlen(path)) & (memo_cap - 1); memo[i].path;
	     i = (i + 1) & (memo_cap - 1))
		if (!strcmp(memo[i].path, path))
			return &memo[i];
	return &memo[i];	/* the empty slot where it goes */
}

static void file_hash_uncached(struct sweep *sw, const char *path, char out[17]);

static void file_hash(struct sweep *sw, const char *path, char out[17])
{
	struct memo_slot *m = memo_find(path);

	if (!m->path) {
		file_hash_uncached(sw, path, m->hash);
		m->path = xstrdup(path);
		memo_n++;
	}
	memcpy(out, m->hash, 17);
}

static void file_hash_uncached(struct sweep *sw, const char *path, char out[17])
{
	char abs[PATH_MAX * 2];
	struct stat st;
	sqlite3_stmt *q;
	size_t len;
	char *text;

	out[0] = '\0';
	if (path[0] == '/')
		snprintf(abs, sizeof(abs), "%s", path);
	else
		snprintf(abs, sizeof(abs), "%s/%s", sw->kb.src, path);
	if (stat(abs, &st))
		return;
	if (sqlite3_prepare_v2(sw->db, "SELECT hash FROM file WHERE path = ?1 AND mtime = ?2"
			       " AND size = ?3", -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
	sqlite3_bind_int64(q, 3, st.st_size);
	if (sqlite3_step(q) == SQLITE_ROW) {
		snprintf(out, 17, "%s", (const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
		return;
	}
	sqlite3_finalize(q);
	text = read_file(abs, &len);
	if (!text)
		return;
	snprintf(out, 17, "%016llx", fnv1a(FNV_OFFSET, text, len));
	free(text);
	if (sqlite3_prepare_v2(sw->db, "INSERT OR REPLACE INTO file VALUES(?1, ?2, ?3, ?4)", -1,
			       &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
	sqlite3_bind_int64(q, 3, st.st_size);
	sqlite3_bind_text(q, 4, out, -1, SQLITE_STATIC);
	sqlite3_step(q);
	sqlite3_finalize(q);
}

/* The TU's key from its command and the files it read (newline-separated). */
void db_tu_key(struct sweep *sw, const struct tu *tu, const char *includes, char out[17])
{
	unsigned long long h = fnv1a(FNV_OFFSET, sw->tool_id, strlen(sw->tool_id));
	const char *p = includes;
	size_t i;

	if (sw->rules)
		h = fnv1a(h, sw->rules, strlen(sw->rules));
	if (tu->command)
		h = fnv1a(h, tu->command, strlen(tu->command));
	for (i = 0; i < tu->nargs; i++)
		h = fnv1a(h, tu->args[i], strlen(tu->args[i]) + 1);
	while (p && *p) {
		char path[PATH_MAX], hash[17];
		size_t n = strcspn(p, "\n");

		snprintf(path, sizeof(path), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		file_hash(sw, path, hash);
		if (!hash[0]) {
			snprintf(out, 17, "unreadable");
			return;
		}
		h = fnv1a(h, path, n + 1);
		h = fnv1a(h, hash, 16);
	}
	snprintf(out, 17, "%016llx", h);
}

size_t db_mark_cached(struct sweep *sw, struct tu_list *list)
{
	sqlite3_stmt *q;
	size_t i, n = 0;

	if (sqlite3_prepare_v2(sw->db, "SELECT key, includes, seconds, retried, nfindings"
			       " FROM tu WHERE path = ?1 AND state = 'ok'", -1, &q, NULL) != SQLITE_OK)
		return 0;
	exec(sw->db, "BEGIN");
	for (i = 0; i < list->n; i++) {
		struct tu *tu = &list->v[i];
		char key[17];

		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, tu->rel, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_ROW || !sqlite3_column_text(q, 0))
			continue;
		db_tu_key(sw, tu, (const char *)sqlite3_column_text(q, 1), key);
		if (strcmp(key, (const char *)sqlite3_column_text(q, 0)))
			continue;
		tu->state = TU_OK;
		tu->cached = 1;
		tu->seconds = sqlite3_column_double(q, 2);
		tu->retried = sqlite3_column_int(q, 3);
		tu->nfindings = sqlite3_column_int(q, 4);
		n++;
	}
	exec(sw->db, "COMMIT");
	sqlite3_finalize(q);
	return n;
}

/* Runs sql with the row id offsets :tuoff and :foff bound; 0 or -1. */
static int exec_off(sqlite3 *db, const char *sql, long long tuoff, long long foff)
{
	sqlite3_stmt *st;
	int rc, i;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if ((i = sqlite3_bind_parameter_index(st, ":tuoff")))
		sqlite3_bind_int64(st, i, tuoff);
	if ((i = sqlite3_bind_parameter_index(st, ":foff")))
		sqlite3_bind_int64(st, i, foff);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static long long max_id(sqlite3 *db, const char *table)
{
	char sql[128];
	sqlite3_stmt *st;
	long long v = 0;

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM %s", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Row ids of the shard are moved past ours, so its references stay right. */
static const char *const merge_sql[] = {
	"DELETE FROM tu WHERE path IN (SELECT path FROM shard.tu)",
	"INSERT INTO tu SELECT id + :tuoff, path, key, state, seconds, retried, reason,"
	" stderr_tail, nfindings, findings_jsonl, findings_text, findings_sarif, includes"
	" FROM shard.tu",
	"INSERT INTO function SELECT id + :foff, tu + :tuoff, name, file, line, static, init"
	" FROM shard.function",
	"INSERT INTO entry SELECT function + :foff, kind, note FROM shard.entry",
	"INSERT INTO sleep SELECT function + :foff, site_function, op, why, file, line, depth,"
	" unless, needs, last_ref FROM shard.sleep",
	"INSERT INTO call SELECT function + :foff, callee, local, file, line, held, atomic,"
	" atomic_file, atomic_line, atomic_note, serialised, bh_file, bh_line, bh_note, released,"
	" unless, atomic_facts, needs, args, last_ref FROM shard.call",
	"INSERT INTO percpu_free SELECT function + :foff, object, use_function, file, line, note,"
	" calls, needs"
	" FROM shard.percpu_free",
	"INSERT INTO registration SELECT tu + :tuoff, function, kind, note, file, line"
	" FROM shard.registration",
	"INSERT OR IGNORE INTO file SELECT * FROM shard.file",
};

int db_merge(sqlite3 *db, char *const shards[], size_t n, char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		char *mine, *theirs;
		long long tuoff = max_id(db, "tu"), foff = max_id(db, "function");
		sqlite3_stmt *st;
		int bad = 0;

		if (access(shards[i], R_OK))
			return snprintf(err, errlen, "%s: %s", shards[i], strerror(errno)), -1;
		if (sqlite3_prepare_v2(db, "ATTACH ?1 AS shard", -1, &st, NULL) != SQLITE_OK)
			goto sqlerr;
		sqlite3_bind_text(st, 1, shards[i], -1, SQLITE_STATIC);
		bad = sqlite3_step(st) != SQLITE_DONE;
		sqlite3_finalize(st);
		if (bad)
			goto sqlerr;
		/* Shards of one sweep: the same tree, tool and rules. */
		theirs = query_text(db, "SELECT value FROM shard.meta WHERE key = ?1", "sweep");
		mine = db_get_meta(db, "sweep");
		if (!theirs || (mine && strcmp(mine, theirs))) {
			snprintf(err, errlen, "%s: %s", shards[i], theirs ?
				 "a shard of another sweep (tree, tool or rules differ)" :
				 "not an rtcheck sweep database");
			free(mine);
			free(theirs);
			exec(db, "DETACH shard");
			return -1;
		}
		if (!mine)
			db_set_meta(db, "sweep", theirs);
		free(mine);
		free(theirs);
		exec(db, "BEGIN");
		for (j = 0; j < sizeof(merge_sql) / sizeof(*merge_sql) && !bad; j++)
			bad = exec_off(db, merge_sql[j], tuoff, foff);
		if (bad || exec(db, "COMMIT")) {
			snprintf(err, errlen, "%s: %s", shards[i], sqlite3_errmsg(db));
			exec(db, "ROLLBACK");
			exec(db, "DETACH shard");
			return -1;
		}
		exec(db, "DETACH shard");
	}
	return 0;
sqlerr:
	snprintf(err, errlen, "%s: %s", shards[i], sqlite3_errmsg(db));
	return -1;
}

int db_list_tus(sqlite3 *db, const char *src, struct tu_list *list, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	list->origin = "the merged shard databases";
	if (sqlite3_prepare_v2(db, "SELECT path, state, seconds, retried, reason, stderr_tail,"
			       " nfindings FROM tu ORDER BY path", -1, &st, NULL) != SQLITE_OK)
		return snprintf(err, errlen, "%s", sqlite3_errmsg(db)), -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *rel = (const char *)sqlite3_column_text(st, 0);
		const char *tail = (const char *)sqlite3_column_text(st, 5);
		char file[PATH_MAX * 2];
		struct tu *tu;

		if (list->n == list->cap) {
			list->cap = list->cap ? list->cap * 2 : 256;
			list->v = realloc(list->v, list->cap * sizeof(*list->v));
			if (!list->v)
				return snprintf(err, errlen, "out of memory"), -1;
		}
		tu = &list->v[list->n++];
		memset(tu, 0, sizeof(*tu));
		snprintf(file, sizeof(file), rel[0] == '/' ? "%s%s" : "%s/%s", rel[0] == '/' ? "" : src,
			 rel);
		tu->file = xstrdup(file);
		tu->rel = tu->file + strlen(file) - strlen(rel);
		tu->directory = xstrdup(src);
		tu->name = xstrdup("");
		tu->state = strcmp((const char *)sqlite3_column_text(st, 1), "ok") ? TU_FAILED : TU_OK;
		tu->cached = 1;
		tu->seconds = sqlite3_column_double(st, 2);
		tu->retried = sqlite3_column_int(st, 3);
		snprintf(tu->reason, sizeof(tu->reason), "%s",
			 sqlite3_column_text(st, 4) ? (const char *)sqlite3_column_text(st, 4) : "");
		tu->stderr_tail = tail ? xstrdup(tail) : NULL;
		tu->nfindings = sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	return 0;
}
