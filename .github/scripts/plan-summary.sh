#!/usr/bin/env bash
# Usage: plan-summary.sh <stack> <file with `terraform show -no-color tfplan` output>
# Prints Markdown for a job summary: the stack, terraform's one-line verdict ("Plan: 3 to add, 1 to
# change, 0 to destroy." or "No changes."), and the plan itself folded below it, cut at
# PLAN_SUMMARY_LIMIT bytes (default 200000: two stacks stay inside GitHub's 1 MiB per-step limit).
set -euo pipefail

stack=${1:?usage: plan-summary.sh <stack> <plan.txt>}
plan=${2:?usage: plan-summary.sh <stack> <plan.txt>}
limit=${PLAN_SUMMARY_LIMIT:-200000}

verdict=$(grep -E '^(Plan: [0-9]+ to add|No changes\.)' "$plan" | head -n 1 || true)
size=$(wc -c < "$plan")

echo "### \`$stack\`"
echo
echo "**${verdict:-No summary line found: read the plan below.}**"
echo
echo "<details><summary>terraform plan</summary>"
echo
echo '```'
head -c "$limit" "$plan"
if [ "$size" -gt "$limit" ]; then
  echo
  echo "… cut at $limit of $size bytes; the whole plan is in the job log."
fi
echo '```'
echo
echo "</details>"
echo
