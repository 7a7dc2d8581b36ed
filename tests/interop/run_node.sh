#!/bin/sh
# Runs a Node.js interop script: `run_node.sh SCRIPT ARGS...`. Without node, the test is skipped
# (exit 77), except under CI=true, where a missing node is a failure; the scripts themselves do
# the same for missing npm packages (node_modules at the repository root, `npm ci`).
if ! command -v node >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "run_node.sh: node is not installed: failing under CI" >&2
    exit 1
  fi
  echo "run_node.sh: node is not installed: skipped" >&2
  exit 77
fi
exec node "$@"
