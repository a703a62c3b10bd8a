#!/usr/bin/env bash
# The main job on bundled data: the seed's convolution problems from the shell.
set -euo pipefail
ck=${1:-build/convkit}
here=$(cd "$(dirname "$0")/.." && pwd)
echo "== convkit --version"
"$ck" --version
