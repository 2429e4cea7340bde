#!/bin/sh
# rtcheck as kbuild's checker:  make C=1 CHECK=/abs/path/run-check.sh [targets]
# kbuild runs "$(CHECK) $(CHECKFLAGS) $(c_flags) file.c" in the build dir.
#   RTCHECK_FORMAT=json|sarif + RTCHECK_OUT=DIR  also write DIR/<path_of_file>.json|.sarif
#   RTCHECK_SPARSE=1   run sparse with the same arguments first (C=1 loses nothing)
#   RTCHECK_WERROR=1   fail the build on findings (and on files rtcheck cannot parse)
# Findings go to stderr, like the compiler's. Exit 0 unless RTCHECK_WERROR=1.
here=$(cd "$(dirname "$0")" && pwd)
"$here/rtcheck" --version >/dev/null || exit 4	# builds rtcheck-clang when needed

if [ "${RTCHECK_SPARSE:-0}" = 1 ]; then
	sparse "$@"	# sparse's verdict is its own: it never hides or fails ours
fi

for src; do :; done
set -- --format=text -- "$@"	# options are prepended below, before "--"
if [ -n "${RTCHECK_OUT:-}" ]; then
	fmt=${RTCHECK_FORMAT:-json}
	rel=${src#"${srctree:-}"/}
	mkdir -p "$RTCHECK_OUT" || exit 3
	set -- "--also=$fmt:$RTCHECK_OUT/$(printf %s "$rel" | tr / _).$fmt" "$@"
fi
[ "${RTCHECK_WERROR:-0}" = 1 ] && set -- --werror "$@"

"$here/build/rtcheck-clang" "$@" 1>&2
status=$?
[ "${RTCHECK_WERROR:-0}" = 1 ] && exit $status
[ $status -ge 2 ] && [ $status -ne 3 ] && exit $status	# usage or internal error
exit 0
