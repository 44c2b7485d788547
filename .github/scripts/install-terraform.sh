#!/usr/bin/env bash
# Installs the Terraform CLI this repository is tested with into $RUNNER_TEMP/terraform (or $1) and
# adds it to GITHUB_PATH. Downloads the release zip and refuses it unless its SHA-256 matches the one
# pinned here: no third-party setup action, and the version changes only with this file.
#
# To move to another version: take the linux_amd64 line from
# https://releases.hashicorp.com/terraform/<version>/terraform_<version>_SHA256SUMS after checking
# that file's signature (terraform_<version>_SHA256SUMS.sig, HashiCorp's release key), and update
# both values below.
set -euo pipefail

version=1.11.4
sha256=1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc # terraform_1.11.4_linux_amd64.zip

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-terraform.sh pins the linux_amd64 build only; this runner is $(uname -s)-$(uname -m)." >&2
  exit 1
fi

dest="${1:-${RUNNER_TEMP:?RUNNER_TEMP is not set: pass a destination directory}/terraform}"
mkdir -p "$dest"
zip="$dest/terraform_${version}_linux_amd64.zip"
# TERRAFORM_RELEASES_URL only exists so that a test can serve a zip from a file:// URL; the
# checksum below is what makes any source safe.
base_url="${TERRAFORM_RELEASES_URL:-https://releases.hashicorp.com/terraform}"
curl --fail --silent --show-error --location --retry 3 --output "$zip" \
  "$base_url/${version}/terraform_${version}_linux_amd64.zip"
if ! echo "$sha256  $zip" | sha256sum --check --strict --status -; then
  rm -f "$zip"
  echo "terraform_${version}_linux_amd64.zip does not have the pinned SHA-256 $sha256; refusing it." >&2
  exit 1
fi
unzip -o -q "$zip" terraform -d "$dest"
rm -f "$zip"
"$dest/terraform" version
if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest" >> "$GITHUB_PATH"; fi
