// SPDX-License-Identifier: GPL-2.0
/*
 * The stages of a sweep around the runs: the facts database and what is
 * still valid in it, the shard this run takes, the cross-TU propagation.
 */
#include "db.h"
#include "errors.h"
#include "propagate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What a stored result depends on besides the TU: the checker binary. */
static void tool_identity(struct sweep *sw)
{
	struct stat st;

	if (stat(sw->tool, &st))
		memset(&st, 0, sizeof(st));
	snprintf(sw->tool_id, sizeof(sw->tool_id), "%lld.%09ld:%lld", (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec, (long long)st.st_size);
}

int sweep_open_db(struct sweep *sw, const char *path, char *err, size_t errlen)
{
	char ident[PATH_MAX * 3];

	tool_identity(sw);
	sw->db = db_open(path, err, errlen);
	if (!sw->db)
		return -1;
	/* Shards of one sweep agree on this; sweep merge checks it. */
	snprintf(ident, sizeof(ident), "src=%s build=%s tool=%s rules=%s", sw->kb.src,
		 sw->kb.build, sw->tool_id, sw->rules ? sw->rules : "all");
	db_set_meta(sw->db, "sweep", ident);
	return 0;
}

/* Keeps the TUs of shard I of N: a hash of the path, so the split does not
 * depend on which other TUs there are. */
void sweep_take_shard(const struct sweep *sw, struct tu_list *list)
{
	size_t i, n = 0;

	if (sw->nshards <= 1)
		return;
	for (i = 0; i < list->n; i++) {
		struct tu *tu = &list->v[i];

		if (fnv1a(FNV_OFFSET, tu->rel, strlen(tu->rel)) % sw->nshards ==
		    (unsigned long long)sw->shard)
			list->v[n++] = *tu;
		else
			tus_free_one(tu);
	}
	list->n = n;
}

int sweep_cross_tu(struct sweep *sw, const struct tu_list *list, char *err, size_t errlen)
{
	struct xtu_stats stats;
	sqlite3_stmt *st;
	size_t i;

	if (sqlite3_exec(sw->db, "DROP TABLE IF EXISTS temp.scope;"
			 "CREATE TEMP TABLE scope(path TEXT PRIMARY KEY); BEGIN", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(sw->db, "INSERT OR IGNORE INTO scope VALUES(?1)", -1, &st, NULL)) {
		snprintf(err, errlen, "facts database: %s", sqlite3_errmsg(sw->db));
		return -1;
	}
	for (i = 0; i < list->n; i++) {
		sqlite3_bind_text(st, 1, list->v[i].rel, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	/* rtcheck check --facts: the contexts and callees of every TU stored. */
	if (sw->all_contexts &&
	    sqlite3_exec(sw->db, "INSERT OR IGNORE INTO scope SELECT path FROM tu WHERE state = 'ok'",
			 NULL, NULL, NULL)) {
		snprintf(err, errlen, "facts database: %s", sqlite3_errmsg(sw->db));
		sqlite3_exec(sw->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	sqlite3_exec(sw->db, "COMMIT", NULL, NULL, NULL);
	if (xtu_propagate(sw->db, sw->rules, &stats, err, errlen))
		return -1;
	sw->nxfindings = stats.findings;
	snprintf(sw->xtu_summary, sizeof(sw->xtu_summary), "%zu functions, %zu calls, %zu rounds,"
		 " %zu findings in %.2f s", stats.functions, stats.calls, stats.rounds,
		 stats.findings, stats.seconds);
	return 0;
}
