#!/usr/bin/env bash
# The quickstart's main job: install dependencies, build gitdisc, and run it on
# the example fleet in examples/fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo "+ gitdisc validate --path examples/fleet"
./build/bin/gitdisc validate --path examples/fleet
