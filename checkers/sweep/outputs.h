/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The whole-sweep SARIF log (docs/sweep.md, Outputs), written after
 * write_reports(): it merges the TUs' OUT/tu/NAME.sarif. 0, or -1 with err
 * when the file cannot be written.
 */
#ifndef RTCHECK_SWEEP_OUTPUTS_H
#define RTCHECK_SWEEP_OUTPUTS_H

#include "sweep.h"

/* sarif.c: OUT/rtcheck.sarif */
int write_sweep_sarif(const struct sweep *sw, const struct tu_list *list, char *err,
		      size_t errlen);

#endif
