// SPDX-License-Identifier: GPL-2.0
/*
 * One rtcheck-clang run over a set of TUs, with kbuild's exact flags, its
 * JSON report read back for the driver's filters. When the text to check is
 * not the build's source tree (a change's new versions extracted from git, a
 * git tree other than the build's sources), the compile command is the
 * build's, with the TU's path and every include directory and -include file
 * of the source tree looked up in those layers first.
 */
#include "presubmit.h"
#include "errors.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* The file rel is checked from: the first layer that has it, else src. */
static void layered(const struct kbuild *kb, const struct layers *ly, const char *rel,
		    char *out, size_t len)
{
	int i;

	for (i = 0; i < ly->n; i++) {
		snprintf(out, len, "%s/%s", ly->dir[i], rel);
		if (is_file(out))
			return;
	}
	snprintf(out, len, "%s/%s", kb->src, rel);
}

struct buf {
	char *s;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 2 > b->cap) {
		b->cap = 2 * (b->n + n) + 256;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			fputs("rtcheck: error: out of memory\n", stderr);
			exit(EXIT_INTERNAL);
		}
	}
	if (b->n)
		b->s[b->n++] = ' ';
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* The build's command for file (kb->src/rel) with the layers in front. */
static char *overlay_command(const struct kbuild *kb, const struct layers *ly, const char *cmd,
			     const char *file, const char *checked)
{
	size_t slen = strlen(kb->src), n;
	const char *p = cmd, *prev = "";
	size_t prevlen = 0;
	struct buf b = { 0 };
	char path[PATH_MAX * 2];
	int i;

	while (*p) {
		const char *t = p;
		char q = 0;

		while (*p && (q || *p != ' ')) {
			if (q && *p == q)
				q = 0;
			else if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			p++;
		}
		n = p - t;
		while (*p == ' ')
			p++;
		if (!n)
			continue;
		if (n == strlen(file) && !strncmp(t, file, n)) {
			put(&b, checked, strlen(checked));
		} else if (n > slen + 2 && !strncmp(t, "-I", 2) && !strncmp(t + 2, kb->src, slen) &&
			   t[2 + slen] == '/') {
			for (i = 0; i < ly->n; i++) {
				snprintf(path, sizeof(path), "%s%.*s", ly->dir[i],
					 (int)(n - 2 - slen), t + 2 + slen);
				if (is_dir(path)) {
					snprintf(path, sizeof(path), "-I%s%.*s", ly->dir[i],
						 (int)(n - 2 - slen), t + 2 + slen);
					put(&b, path, strlen(path));
				}
			}
			put(&b, t, n);
		} else if (prevlen == 8 && !strncmp(prev, "-include", 8) && n > slen &&
			   !strncmp(t, kb->src, slen) && t[slen] == '/') {
			for (i = 0; i < ly->n; i++) {
				snprintf(path, sizeof(path), "%s%.*s", ly->dir[i], (int)(n - slen),
					 t + slen);
				if (is_file(path))
					break;
			}
			if (i < ly->n)
				put(&b, path, strlen(path));
			else
				put(&b, t, n);
		} else {
			put(&b, t, n);
		}
		prev = t;
		prevlen = n;
	}
	return b.s ? b.s : strdup("");
}

/* Rewrites dir/compile_commands.json for the layers; the checked paths in checked[]. */
static int overlay_db(const struct kbuild *kb, const struct layers *ly, const char *dir,
		      char ***checked, int *nchecked, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t len, i, n = 0;
	char *text;
	json_t *db;
	FILE *out;
	int bad = 0;

	snprintf(path, sizeof(path), "%s/compile_commands.json", dir);
	text = slurp_file(path, &len);
	db = text ? json_loadb(text, len, JSON_DECODE_ANY, NULL) : NULL;
	free(text);
	if (!json_is_array(db)) {
		json_decref(db);
		return failf(err, errlen, "%s: unreadable", path);
	}
	*checked = calloc(json_array_size(db) + 1, sizeof(**checked));
	out = fopen(path, "w");
	if (!*checked || !out) {
		json_decref(db);
		return failf(err, errlen, "%s: %s", path, strerror(errno));
	}
	fputs("[\n", out);
	for (i = 0; i < json_array_size(db) && !bad; i++) {
		const json_t *e = json_array_get(db, i);
		const char *d = json_string_value(json_object_get(e, "directory"));
		const char *file = json_string_value(json_object_get(e, "file"));
		const char *cmd = json_string_value(json_object_get(e, "command"));
		char text_of[PATH_MAX], *c;
		json_t *o;

		if (!d || !file || !cmd)
			continue;
		layered(kb, ly, file + strlen(kb->src) + 1, text_of, sizeof(text_of));
		c = overlay_command(kb, ly, cmd, file, text_of);
		/* {"directory": ..., "file": ..., "command": ...}, one a line */
		o = json_pack("{s:s, s:s, s:s}", "directory", d, "file", text_of, "command", c);
		free(c);
		if (!o) {
			fclose(out);
			json_decref(db);
			return failf(err, errlen, "%s: its path is not UTF-8", text_of);
		}
		fputs(n++ ? ",\n " : " ", out);
		bad = json_dumpf(o, out, JSON_PRESERVE_ORDER);
		json_decref(o);
		(*checked)[(*nchecked)++] = strdup(text_of);
	}
	fputs("\n]\n", out);
	json_decref(db);
	if (fclose(out) || bad)
		return failf(err, errlen, "%s: write error", path);
	return 0;
}

static int wait_tool(pid_t pid, const char *tool)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return die(EXIT_INTERNAL, "cannot run %s", tool);
	if (WIFSIGNALED(status))
		return die(EXIT_INTERNAL, "rtcheck-clang was killed by signal %d", WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return die(EXIT_INTERNAL, "cannot run %s", tool);
	return WEXITSTATUS(status);
}

static void remove_in(const char *dir, const char *name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

int analyse(const struct kbuild *kb, char *const rel[], int nrel, const struct layers *ly,
	    const char *tool, const char *rules, struct findings *fs)
{
	char tmpdir[] = "/tmp/rtcheck.XXXXXX", err[1024], report[PATH_MAX + 32];
	char root_opt[PATH_MAX + 8], rules_opt[512], out_opt[PATH_MAX + 16];
	char **files = calloc(nrel + 1, sizeof(*files)), **owned = calloc(nrel + 1, sizeof(*owned));
	char **checked = NULL, **cargv = NULL;
	int i, n = 0, failed = 0, written, status = EXIT_OK, nchecked = 0, cargc = 0, st;
	pid_t pid;

	if (!files || !owned)
		return die(EXIT_INTERNAL, "out of memory");
	for (i = 0; i < nrel; i++) {
		owned[n] = files[n] = malloc(PATH_MAX);
		if (!files[n])
			return die(EXIT_INTERNAL, "out of memory");
		snprintf(files[n++], PATH_MAX, "%s/%s", kb->src, rel[i]);
	}
	if (!mkdtemp(tmpdir))
		return die(EXIT_INTERNAL, "cannot create a temporary directory: %s", strerror(errno));
	written = kbuild_compile_commands(kb, files, n, tmpdir, &failed, err, sizeof(err));
	if (written < 0) {
		status = die(EXIT_INTERNAL, "%s", err);
		goto out;
	}
	if (failed)
		status = EXIT_INPUT;
	if (!written)
		goto out;
	if (ly->n) {
		if (overlay_db(kb, ly, tmpdir, &checked, &nchecked, err, sizeof(err))) {
			status = die(EXIT_INTERNAL, "%s", err);
			goto out;
		}
	}
	cargv = calloc(n + nchecked + 12, sizeof(*cargv));
	if (!cargv) {
		status = die(EXIT_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(report, sizeof(report), "%s/findings.json", tmpdir);
	snprintf(out_opt, sizeof(out_opt), "--output=%s", report);
	snprintf(root_opt, sizeof(root_opt), "--root=%s", kb->src);
	cargv[cargc++] = (char *)tool;
	cargv[cargc++] = "--format=json";
	cargv[cargc++] = out_opt;
	cargv[cargc++] = root_opt;
	if (rules) {
		snprintf(rules_opt, sizeof(rules_opt), "--rules=%s", rules);
		cargv[cargc++] = rules_opt;
	}
	cargv[cargc++] = "-p";
	cargv[cargc++] = tmpdir;
	if (ly->n)
		for (i = 0; i < nchecked; i++)
			cargv[cargc++] = checked[i];
	else
		for (i = 0; i < n; i++)
			if (files[i])	/* kbuild could not give a command: already reported */
				cargv[cargc++] = files[i];
	pid = fork();
	if (pid == 0) {
		execv(tool, cargv);
		_exit(127);
	}
	st = wait_tool(pid, tool);
	if (st > status)
		status = st;
	if (status != EXIT_INTERNAL) {
		if (findings_load(fs, report, err, sizeof(err)))
			status = die(EXIT_INTERNAL, "%s", err);
		else
			findings_strip_prefixes(fs, ly->dir, ly->n);
	}
out:
	remove_in(tmpdir, "compile_commands.json");
	remove_in(tmpdir, "kbuild.log");
	remove_in(tmpdir, "findings.json");
	rmdir(tmpdir);
	for (i = 0; i < n; i++)
		free(owned[i]);	/* kbuild_compile_commands() clears some of files[] */
	free(owned);
	for (i = 0; i < nchecked; i++)
		free(checked[i]);
	free(files);
	free(checked);
	free(cargv);
	return status;
}
