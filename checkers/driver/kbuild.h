/* SPDX-License-Identifier: GPL-2.0 */
/* What rtcheck needs to know of a configured kernel build directory. */
#ifndef RTCHECK_KBUILD_H
#define RTCHECK_KBUILD_H

#include <limits.h>
#include <stddef.h>

struct kbuild {
	char build[PATH_MAX];	/* O= directory (== src for in-tree builds) */
	char src[PATH_MAX];	/* kernel source root */
	char llvm[16];		/* LLVM= value ("-16") for clang-built trees, else "" */
	int reuse_records;	/* kbuild_compile_commands(): see there */
};

/* Fills kb for a configured build directory; 0 or -1 with a message in err. */
int kbuild_locate(const char *dir, struct kbuild *kb, char *err, size_t errlen);

/*
 * Writes a compile_commands.json for the given source files (absolute paths
 * inside kb->src) into out_dir, with the exact flags kbuild uses for them:
 * one "make dir/file.i" for all files, then kbuild's .file.i.cmd records.
 * A file kbuild cannot handle is reported on stderr, counted in *failed and
 * set to NULL in files. Returns the number of commands written, or -1 with a
 * message in err. With kb->reuse_records, a .file.i.cmd record newer than
 * .config, auto.conf and the file's Makefile/Kbuild stands for its make run
 * (what makes a one-file check cost one parse, not a kbuild start).
 */
int kbuild_compile_commands(const struct kbuild *kb, char *files[], int nfiles,
			    const char *out_dir, int *failed, char *err, size_t errlen);

/*
 * The .c files (relative to kb->src) whose kbuild records (.file.o.cmd,
 * .file.i.cmd in the build dir) list one of headers (relative to kb->src)
 * among their dependencies, nearest first (foo.c for foo.h, then by shared
 * directories); *users is malloc'd. Returns how many, or -1.
 */
int kbuild_header_users(const struct kbuild *kb, char *const headers[], int nheaders,
			char ***users);

#endif
