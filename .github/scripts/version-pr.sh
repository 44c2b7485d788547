#!/usr/bin/env bash
# Run by release.yml after `pnpm changeset version`: commits the version bump and CHANGELOG to the
# branch changeset-release/main, force-pushes it, and opens (or updates) the "Version packages" pull
# request into the current branch. Needs GH_TOKEN and a checkout whose credentials can push.
set -euo pipefail

branch=changeset-release/main
base=${GITHUB_REF_NAME:-main}
title='Version packages'
package_dir=packages/efs-utils

if [ -z "$(git status --porcelain)" ]; then
  echo "changeset version changed nothing: no pull request to open."
  exit 0
fi

name=$(node -p "require('./$package_dir/package.json').name")
version=$(node -p "require('./$package_dir/package.json').version")
body=$(mktemp)
{
  echo "Merging this pull request publishes the version below to npm (.github/workflows/release.yml)."
  echo "Add more changesets to main to include more changes; this pull request follows them."
  echo
  echo "## $name@$version"
  echo
  # The newest CHANGELOG section: the lines between the first two "## " headings.
  awk '/^## /{section++; next} section==1{print}' "$package_dir/CHANGELOG.md"
} > "$body"

git config user.name 'github-actions[bot]'
git config user.email '41898282+github-actions[bot]@users.noreply.github.com'
git switch --force-create "$branch"
git add --all
git commit --quiet --message "$title"
git push --force origin "$branch"

number=$(gh pr list --head "$branch" --base "$base" --state open --json number --jq '.[0].number // empty')
if [ -n "$number" ]; then
  gh pr edit "$number" --title "$title" --body-file "$body"
  echo "Updated pull request #$number."
else
  gh pr create --head "$branch" --base "$base" --title "$title" --body-file "$body"
fi
