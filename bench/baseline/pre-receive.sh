#!/usr/bin/env bash
# The baseline of bench/baseline.mjs (issue 7): claim and lease checks written the way common
# blog posts write them, a bash pre-receive that calls git and jq per file. Written by us, for the
# benchmark only; it is not part of agent-hooks and knows only what the benchmark needs:
#   - JSON lock files in current_tasks/ on refs/heads/main, with agent, started, ttl, files;
#   - globs of the forms dir/**, dir/*.ext and dir/f1?.ext (turned into regexes by jq).
# Rules: a new lock file must name the pusher (-o agent=<id>, else the committer); a push may not
# change a path leased by another agent's unexpired claim.
set -u
claims=refs/heads/main
zero=0000000000000000000000000000000000000000
now=$(date +%s)
status=0

pusher=""
for ((i = 0; i < ${GIT_PUSH_OPTION_COUNT:-0}; i++)); do
  option="GIT_PUSH_OPTION_$i"
  case "${!option}" in agent=*) pusher="${!option#agent=}" ;; esac
done

# Every active lease, one JSON line per claim: one git show and one jq per lock file.
leases=$(mktemp)
trap 'rm -f "$leases"' EXIT
for lock in $(git ls-tree --name-only "$claims" current_tasks/); do
  case "$lock" in *.json) ;; *) continue ;; esac
  git show "$claims:$lock" | jq -c --arg task "$(basename "$lock" .json)" \
    '{task: $task, agent, expires: ((.started | fromdateiso8601) + (.ttl // 7200)), files: (.files // [])}' >>"$leases"
done

while read -r old new ref; do
  [ "$new" = "$zero" ] && continue
  [ -z "$pusher" ] && pusher=$(git log -1 --format=%cn "$new")
  if [ "$old" = "$zero" ]; then range=("$new" --not "$claims"); else range=("$old..$new"); fi

  # Lock files this push adds or changes on the claims ref: one git show and one jq each.
  if [ "$ref" = "$claims" ]; then
    for lock in $(git diff --name-only "$old" "$new" -- current_tasks/); do
      agent=$(git show "$new:$lock" 2>/dev/null | jq -r '.agent // empty') || continue
      if [ -n "$agent" ] && [ "$agent" != "$pusher" ]; then
        echo "ERROR: $ref: $lock claims for $agent, but the pusher is $pusher"
        status=1
      fi
    done
  fi

  # Every changed path against every lease: one jq per path.
  for path in $(git log --format= --name-only "${range[@]}" | sort -u); do
    holder=$(jq -r --arg path "$path" --arg me "$pusher" --argjson now "$now" '
      select(.agent != $me and .expires > $now)
      | select(any(.files[]; . as $glob | $path | test("^" + ($glob
          | gsub("\\."; "\\.") | gsub("\\*\\*"; "\u0001") | gsub("\\*"; "[^/]*")
          | gsub("\\?"; "[^/]") | gsub("\u0001"; ".*")) + "$")))
      | "\(.agent) (task \(.task))"' "$leases" | head -n 1)
    if [ -n "$holder" ]; then
      echo "ERROR: $ref: $path is leased by $holder"
      status=1
    fi
  done
done
exit $status
