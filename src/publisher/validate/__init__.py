"""Validators: EPUBCheck, DAISY Ace, media overlays, tags, DAISY 2.02, audiobook packages, feeds.

`run.check_paths` (what `publisher check` calls) finds the outputs and runs the checks that fit:
`tools` (EPUBCheck and Ace), `overlays`, `daisy`, `audiobook` (with `schema`), `feeds` and
`audio`; each returns a `report.Report`. The arrows go one way: run → checks → report."""
