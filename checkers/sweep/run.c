// SPDX-License-Identifier: GPL-2.0
/*
 * The workers: one rtcheck-clang process per TU, --jobs of them at a time,
 * each in its own process group with a wall-time limit (the group is killed)
 * and an address-space limit (RLIMIT_AS, set in the child). A TU that
 * crashes, times out or does not compile is recorded and the sweep goes on.
 */
#include "sweep.h"
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAIL_LINES 3

static void on_sigchld(int sig)
{
	(void)sig;	/* only there so that SIGCHLD is not discarded */
}

static void tu_path(const struct sweep *sw, const struct tu *tu, const char *ext, char *buf,
		    size_t len)
{
	snprintf(buf, len, "%s/tu/%s%s", sw->out, tu->name, ext);
}

/*
 * The TU's compiler arguments for "rtcheck-clang ... -- ARGS", run in the
 * command's directory: without the compiler and with the source file last.
 * (With -p OUT every checker would parse the whole tree's 8 MB
 * compile_commands.json: 50 ms a TU.) Freed by the caller, argv and words.
 */
static char **compiler_args(const struct tu *tu, size_t *n)
{
	size_t cap = 64, i, last_c = (size_t)-1, len = tu->command ? strlen(tu->command) + 1 : 0;
	char **words = xmalloc(cap * sizeof(*words));
	const char *s = tu->command;
	char *buf = len ? xmalloc(len) : NULL;

	*n = 0;
	for (i = 0;; i++) {
		const char *w;

		if (tu->command) {
			if (!shell_word(&s, buf, len))
				break;
			w = buf;
		} else if (i < tu->nargs) {
			w = tu->args[i];
		} else {
			break;
		}
		if (*n + 2 > cap)
			words = realloc(words, (cap *= 2) * sizeof(*words));
		if (!words) {
			fputs("rtcheck: error: out of memory\n", stderr);
			exit(EXIT_INTERNAL);
		}
		words[(*n)++] = xstrdup(w);
	}
	free(buf);
	/* The source: the last .c word that is no option's value. */
	for (i = 1; i < *n; i++) {
		size_t l = strlen(words[i]);

		if (words[i][0] != '-' && l > 2 && !strcmp(words[i] + l - 2, ".c") &&
		    strcmp(words[i - 1], "-o") && strcmp(words[i - 1], "-include") &&
		    strcmp(words[i - 1], "-MF"))
			last_c = i;
	}
	if (*n)
		free(words[0]);	/* the compiler: rtcheck-clang is clang-16 */
	for (i = 1; i < *n; i++)
		if (i == last_c)
			free(words[i]);
		else
			words[i - 1 - (last_c < i)] = words[i];
	*n = *n ? *n - 1 - (last_c != (size_t)-1) : 0;
	words[(*n)++] = xstrdup(tu->file);
	return words;
}

static pid_t spawn(const struct sweep *sw, struct tu *tu, const sigset_t *mask)
{
	char output[PATH_MAX + 32], also[PATH_MAX + 32], root[PATH_MAX + 8], rules[512];
	char sarif[PATH_MAX + 32];	/* for OUT/rtcheck.sarif (sarif.c) */
	char txt[PATH_MAX], jsonl[PATH_MAX], errf[PATH_MAX], facts[PATH_MAX], factsarg[PATH_MAX + 16];
	size_t nwords, i, argc = 0;
	char **words = compiler_args(tu, &nwords), **argv = xmalloc((nwords + 16) * sizeof(*argv));
	pid_t pid;

	tu_path(sw, tu, ".txt", txt, sizeof(txt));
	tu_path(sw, tu, ".jsonl", jsonl, sizeof(jsonl));
	tu_path(sw, tu, ".err", errf, sizeof(errf));
	tu_path(sw, tu, ".facts", facts, sizeof(facts));
	/* No stale result of an earlier sweep may pass for this one's. */
	unlink(txt);
	unlink(jsonl);
	unlink(errf);
	unlink(facts);
	snprintf(factsarg, sizeof(factsarg), "--facts=%s", facts);
	snprintf(output, sizeof(output), "--output=%s", txt);
	snprintf(also, sizeof(also), "--also=jsonl:%s", jsonl);
	snprintf(sarif, sizeof(sarif), "--also=sarif:%s/tu/%s.sarif", sw->out, tu->name);
	snprintf(root, sizeof(root), "--root=%s", sw->kb.src);
	argv[argc++] = (char *)sw->tool;
	argv[argc++] = "--format=text";
	argv[argc++] = output;
	argv[argc++] = also;
	argv[argc++] = sarif;
	argv[argc++] = root;
	argv[argc++] = factsarg;
	if (sw->rules) {
		snprintf(rules, sizeof(rules), "--rules=%s", sw->rules);
		argv[argc++] = rules;
	}
	argv[argc++] = "--";
	for (i = 0; i < nwords; i++)
		argv[argc++] = words[i];
	argv[argc] = NULL;

	pid = fork();
	if (pid == 0) {
		int fd;

		setpgid(0, 0);
		if (sw->mem_mb) {
			struct rlimit rl;

			rl.rlim_cur = rl.rlim_max = (rlim_t)sw->mem_mb << 20;
			setrlimit(RLIMIT_AS, &rl);
		}
		fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, mask, NULL);
		if (chdir(tu->directory)) {
			fprintf(stderr, "rtcheck: error: %s: %s\n", tu->directory, strerror(errno));
			_exit(127);
		}
		execv(argv[0], argv);
		fprintf(stderr, "rtcheck: error: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);	/* also here: no race with killpg() */
	for (i = 0; i < nwords; i++)
		free(words[i]);
	free(words);
	free(argv);
	return pid;
}

/* The last TAIL_LINES non-empty lines of a file, joined by '\n', or NULL. */
static char *tail_lines(const char *path)
{
	size_t len, i, n = 0;
	char *text = read_file(path, &len), *start = NULL;

	if (!text)
		return NULL;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	for (i = len; i > 0; i--) {
		if (text[i - 1] == '\n' && text[i] != '\n' && ++n == TAIL_LINES) {
			start = text + i;
			break;
		}
	}
	if (!len) {
		free(text);
		return NULL;
	}
	start = xstrdup(start ? start : text);
	free(text);
	return start;
}

static int count_lines(const char *path)
{
	size_t len, i;
	char *text = read_file(path, &len);
	int n = 0;

	if (!text)
		return -1;
	for (i = 0; i < len; i++)
		n += text[i] == '\n' && (i == 0 || text[i - 1] != '\n');
	if (len && text[len - 1] != '\n')
		n++;
	free(text);
	return n;
}

static void failed(struct tu *tu, const char *fmt, ...)
{
	va_list ap;

	tu->state = TU_FAILED;
	va_start(ap, fmt);
	vsnprintf(tu->reason, sizeof(tu->reason), fmt, ap);
	va_end(ap);
}

static void finish(struct sweep *sw, struct tu *tu, int status, double now)
{
	char errf[PATH_MAX], jsonl[PATH_MAX], dberr[256];
	int code;

	tu->seconds = now - tu->start;
	tu->pid = 0;
	tu_path(sw, tu, ".err", errf, sizeof(errf));
	tu_path(sw, tu, ".jsonl", jsonl, sizeof(jsonl));
	tu->stderr_tail = tail_lines(errf);
	if (tu->timed_out) {
		failed(tu, "timeout: killed after %g s", sw->timeout);
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		failed(tu, "crashed: signal %d (%s)%s", sig, strsignal(sig),
		       sw->mem_mb && tu->stderr_tail && (strstr(tu->stderr_tail, "alloc") ||
						    strstr(tu->stderr_tail, "memory"))
		       ? ", out of memory under --mem-mb" : "");
	} else if ((code = WEXITSTATUS(status)) == EXIT_OK) {
		tu->nfindings = count_lines(jsonl);
		if (tu->nfindings < 0)
			failed(tu, "no report: %s is missing", jsonl);
		else
			tu->state = TU_OK;
	} else if (code == EXIT_INPUT) {
		failed(tu, "exit 3: input error (does not compile)");
	} else if (code == EXIT_INTERNAL) {
		failed(tu, "exit 4: internal error");
	} else if (code == 127) {
		failed(tu, "exit 127: cannot run %s", sw->tool);
	} else {
		failed(tu, "exit %d", code);
	}
	if (!tu->stderr_tail)
		unlink(errf);	/* nothing said */
	/* Committed now: a sweep killed later still has this TU. */
	if (sw->db && db_store_tu(sw, tu, dberr, sizeof(dberr)) && tu->state == TU_OK) {
		failed(tu, "%s", dberr);
		db_store_tu(sw, tu, dberr, sizeof(dberr));
	}
}

static void fmt_duration(char *buf, size_t len, double s)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void progress(double started, size_t done, size_t total, long findings, size_t nfailed,
		     double now)
{
	double elapsed = now - started, rate = elapsed > 0 ? done / elapsed : 0;
	char eta[32] = "-:--";

	if (done && rate > 0)
		fmt_duration(eta, sizeof(eta), (total - done) / rate);
	fprintf(stderr, "\r\033[K[%zu/%zu] %.2f TU/s, ETA %s, %ld finding%s, %zu failed",
		done, total, rate, eta, findings, findings == 1 ? "" : "s", nfailed);
	fflush(stderr);
}

static int by_size_desc(const void *a, const void *b)
{
	const struct tu *x = *(struct tu *const *)a, *y = *(struct tu *const *)b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return strcmp(x->rel, y->rel);
}

static void kill_all(struct tu_list *list, size_t *running)
{
	size_t i;
	int status;

	for (i = 0; i < list->n; i++) {
		struct tu *tu = &list->v[i];

		if (tu->state != TU_RUNNING)
			continue;
		killpg(tu->pid, SIGKILL);
		waitpid(tu->pid, &status, 0);
		tu->state = TU_PENDING;	/* not analysed */
		tu->pid = 0;
		(*running)--;
	}
}

int run_tus(struct sweep *sw, struct tu_list *list, char *err, size_t errlen)
{
	double started = now_seconds();
	struct tu **queue = xmalloc(list->n * sizeof(*queue));
	size_t next = 0, running = 0, done = 0, nfailed = 0, nqueue = 0, i;
	int tty = isatty(2), ret = 0;
	struct sigaction sa, old_sa;
	sigset_t set, old_mask;
	double last_shown = 0;
	long findings = 0;

	/* Biggest sources first: the long TUs do not come last and alone. */
	for (i = 0; i < list->n; i++)
		if (list->v[i].state == TU_PENDING)
			queue[nqueue++] = &list->v[i];
	if (nqueue > 1)
		qsort(queue, nqueue, sizeof(*queue), by_size_desc);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, &old_sa);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old_mask);

	while (done < nqueue) {
		struct timespec wait = { 0, 250 * 1000 * 1000 };
		double now;
		pid_t pid;
		int sig, status;

		while (running < (size_t)sw->jobs && next < nqueue) {
			struct tu *tu = queue[next];

			tu->start = now_seconds();
			tu->pid = spawn(sw, tu, &old_mask);
			if (tu->pid < 0) {
				snprintf(err, errlen, "fork: %s", strerror(errno));
				ret = -1;
				break;
			}
			tu->state = TU_RUNNING;
			next++;
			running++;
		}
		if (ret < 0) {
			kill_all(list, &running);
			break;
		}

		sig = sigtimedwait(&set, NULL, &wait);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			sw->interrupted = sig;
			kill_all(list, &running);
			break;
		}
		now = now_seconds();
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < list->n; i++) {
				struct tu *tu = &list->v[i];

				if (tu->state != TU_RUNNING || tu->pid != pid)
					continue;
				finish(sw, tu, status, now);
				running--;
				done++;
				if (tu->state == TU_OK)
					findings += tu->nfindings;
				else
					nfailed++;
				break;
			}
		}
		for (i = 0; sw->timeout > 0 && i < list->n; i++) {
			struct tu *tu = &list->v[i];

			if (tu->state == TU_RUNNING && !tu->timed_out &&
			    now - tu->start >= sw->timeout) {
				tu->timed_out = 1;
				killpg(tu->pid, SIGKILL);	/* reaped above, next round */
			}
		}
		if (tty && (now - last_shown >= 0.5 || done == nqueue)) {
			progress(started, done, nqueue, findings, nfailed, now);
			last_shown = now;
		}
	}
	if (tty)
		fputs("\r\033[K", stderr);

	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGCHLD, &old_sa, NULL);
	free(queue);
	return ret;
}
