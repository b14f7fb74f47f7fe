#!/usr/bin/env bash
# Install a Debian package unless a file it provides is there already (installing needs root).
# Usage: scripts/debian-package.sh PACKAGE FILE
set -euo pipefail
package=$1
file=$2

if [ -e "$file" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "$file is missing: install Debian's $package (as root)" >&2
  exit 2
fi
apt-get update -qq && apt-get install -y -qq "$package" >/dev/null
