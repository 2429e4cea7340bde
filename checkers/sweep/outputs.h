/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The whole-sweep SARIF log and HTML page (docs/sweep.md, Outputs). Both run
 * after write_reports(): the SARIF log merges the TUs' OUT/tu/NAME.sarif, the
 * page reads OUT/findings.json. 0, or -1 with err when a file cannot be
 * written (or findings.json read).
 */
#ifndef RTCHECK_SWEEP_OUTPUTS_H
#define RTCHECK_SWEEP_OUTPUTS_H

#include "sweep.h"

/* sarif.c: OUT/rtcheck.sarif */
int write_sweep_sarif(const struct sweep *sw, const struct tu_list *list, char *err,
		      size_t errlen);

/* html.c: OUT/report.html */
int write_sweep_html(const struct sweep *sw, const struct tu_list *list, char *err,
		     size_t errlen);

/* html_assets.c: the page's inline stylesheet and script. */
extern const char sweep_html_style[];
extern const char sweep_html_script[];

#endif
