#!/usr/bin/env bash
# The release pipeline's deploy step (deploy/pipeline/app-release.yml): `turnout deploy` of one
# image into the idle color, measured with the guard's triggers (the `guard:` section of
# $TURNOUT_CONFIG), then Turnout's exit code mapped to the job's result, a step summary and
# step outputs. Runs the same on a laptop: without GitHub's variables it prints the summary.
#
#   deploy.sh APP IMAGE [extra `turnout deploy` options...]
#
# Environment (all optional):
#   TURNOUT            the command (default: turnout); e.g. "turnout --demo" to try it
#   TURNOUT_NAMESPACE  the app's namespace (-n)
#   TURNOUT_STRATEGY   canary (default) or instant
#   TURNOUT_STEPS      canary weights, e.g. 10,50,100 (default: the app's plan)
#   TURNOUT_ANALYSIS   passing verdicts needed at each step (default: Turnout's, 60s)
#   COMMIT_TIME        the commit's time, for the lead time (e.g. git show -s --format=%cI)
#   TURNOUT_REASON     for the audit trail (default: the workflow run's URL when in Actions)
#
# Exit: 0 promoted; 20 rolled back; 21 aborted; 22 failed (run `turnout resume APP` if the
# summary says restoring failed); anything else is Turnout's own code, nothing was deployed.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: deploy.sh APP IMAGE [turnout deploy options...]" >&2
  exit 2
fi
app=$1 image=$2
shift 2

read -r -a turnout_cmd <<< "${TURNOUT:-turnout}"
if [ -n "${TURNOUT_NAMESPACE:-}" ]; then turnout_cmd+=(-n "$TURNOUT_NAMESPACE"); fi
args=(deploy "$app" --image "$image" --strategy "${TURNOUT_STRATEGY:-canary}" --yes -o json)
if [ -n "${TURNOUT_STEPS:-}" ]; then args+=(--steps "$TURNOUT_STEPS"); fi
if [ -n "${TURNOUT_ANALYSIS:-}" ]; then args+=(--analysis "$TURNOUT_ANALYSIS"); fi
if [ -n "${COMMIT_TIME:-}" ]; then args+=(--commit-time "$COMMIT_TIME"); fi
reason=${TURNOUT_REASON:-}
if [ -z "$reason" ] && [ -n "${GITHUB_RUN_ID:-}" ]; then
  reason="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID}"
fi
if [ -n "$reason" ]; then args+=(--reason "$reason"); fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Progress (stderr) streams to the log as it happens and is kept for the summary.
set +e
"${turnout_cmd[@]}" "${args[@]}" "$@" > "$work/release.json" 2> >(tee "$work/stderr" >&2)
code=$?
set -e
wait  # the tee above, so that $work/stderr is complete

python3 - "$code" "$app" "$image" "$work/release.json" "$work/stderr" > "$work/summary.md" <<'PY'
"""Render the step summary from `turnout deploy -o json` (or from stderr when it refused)."""
import json
import sys

code, app, image, release_path, stderr_path = int(sys.argv[1]), *sys.argv[2:]
MEANINGS = {0: "promoted", 20: "rolled back", 21: "aborted by an operator", 22: "failed",
            2: "invalid input", 3: "configuration error", 4: "not found", 5: "conflict",
            6: "forbidden", 7: "read-only", 8: "unavailable", 9: "locked by another operator"}


def cell(value: object) -> str:
    """One table cell: outside text can neither break the table nor become markup."""
    text = "" if value is None else str(value)
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


try:
    release = json.load(open(release_path))
except (OSError, ValueError):
    release = None
icon = "✅" if code == 0 else "❌"
print(f"## {icon} Deploy of {cell(app)}: {MEANINGS.get(code, 'error')} (exit {code})\n")
if release is None:
    lines = [line for line in open(stderr_path).read().splitlines() if line.strip()]
    print("Turnout refused before deploying anything; the cluster is unchanged.\n")
    print(f"Image: {cell(image)}  \nError: {cell(lines[-1] if lines else 'no output')}")
    sys.exit(0)
rows = [("App", f"{release['namespace']}/{release['app']}"), ("Image", release["image"]),
        ("Version", f"{release.get('previous_version')} → {release['version']}"),
        ("Colors", f"{release.get('from_color')} → {release.get('to_color')}"),
        ("Outcome", release["outcome"]), ("Stage", release.get("stage")),
        ("Duration", f"{release.get('duration_seconds')} s")]
if release.get("reason"):
    rows.append(("Reason", release["reason"]))
print("| | |\n|---|---|")
for name, value in rows:
    print(f"| {name} | {cell(value)} |")
failing = [v for v in release.get("verdicts", []) if v["outcome"] == "fail"]
if failing:
    print("\n### Failing triggers\n\n| Trigger | Color | Value | Threshold | Source |\n|---|---|---|---|---|")
    for v in failing:
        print(f"| {cell(v['signal'])} | {cell(v['color'])} | {cell(v['value'])} | "
              f"{cell(v['threshold'])} | {cell(v['source'])} |")
if code == 22:
    print(f"\nIf restoring failed, run `turnout resume {cell(app)}`.")
PY

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$work/summary.md" >> "$GITHUB_STEP_SUMMARY"
else cat "$work/summary.md"; fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  outcome=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["outcome"])' \
            "$work/release.json" 2>/dev/null || echo "refused")
  { echo "exit-code=$code"; echo "outcome=$outcome"; } >> "$GITHUB_OUTPUT"
fi
case $code in
  0) ;;
  20) echo "::error title=Rolled back::$app: the new version failed a check; the old color serves all traffic" ;;
  21) echo "::error title=Aborted::$app: an operator aborted the deploy" ;;
  22) echo "::error title=Failed::$app: Turnout could not carry the deploy out; see the summary" ;;
  *) echo "::error title=Not deployed::$app: turnout exited $code before deploying" ;;
esac
exit "$code"
