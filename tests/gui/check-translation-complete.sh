#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Fails when a catalogue misses a string of the sources or has an unfinished entry: lupdate
# refreshes a copy of the .ts from the sources, and lrelease counts what is still unfinished.
# Usage: check-translation-complete.sh LUPDATE LRELEASE FILE.ts SOURCE...
set -eu
lupdate=$1 lrelease=$2 ts=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$ts" "$dir/check.ts"
"$lupdate" -no-obsolete -locations none "$@" -ts "$dir/check.ts"
out=$("$lrelease" "$dir/check.ts" -qm "$dir/check.qm")
echo "$out"
# An empty entry is "untranslated" to lrelease, one with text but not marked done "unfinished".
if echo "$out" | grep -q untranslated || ! echo "$out" | grep -Eq '\([0-9]+ finished and 0 unfinished\)'; then
    echo "$ts: unfinished or missing entries; run the update_translations target and translate them" >&2
    exit 1
fi
