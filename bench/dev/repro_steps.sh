#!/usr/bin/env bash
# One process per run-option set (a kernel fault is sticky): bench/dev/repro_steps.mjs for each argument.
# usage: bash bench/dev/repro_steps.sh SHAPE 'RUN_JSON' ['RUN_JSON' ...]
shape=$1; shift
for r in "$@"; do timeout -s KILL 90 node bench/dev/repro_steps.mjs "$r" "$shape"; done
