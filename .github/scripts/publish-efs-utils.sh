#!/usr/bin/env bash
# Run by release.yml.
#   publish-efs-utils.sh status   writes done=true to GITHUB_OUTPUT when the version in
#                                 packages/efs-utils/package.json is on npm and has its GitHub release
#   publish-efs-utils.sh publish  packs the package with pnpm (the tarball packages/repo-checks tests),
#                                 publishes that tarball with npm and provenance unless the version is
#                                 on npm already, then creates the tag and GitHub release if missing
# Needs GH_TOKEN; GITHUB_REPOSITORY and GITHUB_SHA come from Actions. Safe to re-run.
set -euo pipefail

mode=${1:?usage: publish-efs-utils.sh status|publish}
package_dir=packages/efs-utils
# npm >= 11.5.1 does trusted publishing (OIDC); Node.js 22 ships npm 10.
npm_version=11.21.2

name=$(node -p "require('./$package_dir/package.json').name")
version=$(node -p "require('./$package_dir/package.json').version")
tag="$name@$version"

on_npm() {
  local out
  # A version that does not exist prints nothing; a package that does not exist fails with E404.
  if out=$(npm view "$name@$version" version 2>&1); then
    [ "$out" = "$version" ]
  elif grep -q E404 <<<"$out"; then
    return 1
  else
    echo "$out" >&2
    echo "npm view $name@$version failed; not guessing whether it is published." >&2
    exit 1
  fi
}

released() {
  gh release view "$tag" --repo "$GITHUB_REPOSITORY" >/dev/null 2>&1
}

case "$mode" in
  status)
    if on_npm && released; then
      echo "$tag is on npm and released on GitHub: nothing to do."
      echo "done=true" >> "$GITHUB_OUTPUT"
    else
      echo "$tag still has to be published or released."
      echo "done=false" >> "$GITHUB_OUTPUT"
    fi
    ;;
  publish)
    if on_npm; then
      echo "$tag is on npm already."
    else
      # npm refuses provenance unless package.json names the repository the build ran in.
      repository=$(node -p "const r = require('./$package_dir/package.json').repository; (typeof r === 'string' ? r : r?.url) ?? ''")
      case "${repository,,}" in
        *"github.com/${GITHUB_REPOSITORY,,}"*) ;;
        *)
          echo "::error::$package_dir/package.json needs \"repository\": {\"type\": \"git\", \"url\": \"git+https://github.com/$GITHUB_REPOSITORY.git\", \"directory\": \"$package_dir\"} (npm checks it against the provenance)."
          exit 1
          ;;
      esac
      npm install --global --no-audit --no-fund --loglevel=error "npm@$npm_version"
      pack_dir="${RUNNER_TEMP:?}/pack"
      rm -rf "$pack_dir"
      pnpm --filter @lambda-efs/efs-utils pack --pack-destination "$pack_dir"
      tarball=$(ls "$pack_dir"/*.tgz)
      if [ -n "${NPM_TOKEN:-}" ]; then
        # A token for the first publish only; npm prefers OIDC when a trusted publisher is set up.
        # The file names the variable (npm expands it), so the token is never written to disk.
        # shellcheck disable=SC2016
        printf '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n' > "$RUNNER_TEMP/npmrc"
        export NPM_CONFIG_USERCONFIG="$RUNNER_TEMP/npmrc"
      fi
      dist_tag=latest
      case "$version" in *-*) dist_tag=next ;; esac
      npm publish "$tarball" --access public --provenance --tag "$dist_tag"
    fi
    if released; then
      echo "GitHub release $tag exists."
    else
      notes=$(mktemp)
      # The CHANGELOG section of this version: from its "## <version>" heading to the next one.
      awk -v heading="## $version" '$0 == heading {inside = 1; next} /^## / {inside = 0} inside {print}' \
        "$package_dir/CHANGELOG.md" > "$notes" 2>/dev/null || true
      [ -s "$notes" ] || echo "Published to npm as $tag." > "$notes"
      prerelease=()
      case "$version" in *-*) prerelease=(--prerelease) ;; esac
      gh release create "$tag" --repo "$GITHUB_REPOSITORY" --target "$GITHUB_SHA" --title "$tag" \
        --notes-file "$notes" "${prerelease[@]}"
    fi
    ;;
  *)
    echo "usage: publish-efs-utils.sh status|publish" >&2
    exit 2
    ;;
esac
