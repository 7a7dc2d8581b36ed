#!/bin/sh
# Every relative link in README.md and docs/*.md names a file inside the repository (an
# implementer reading docs/cvmkb-1.md from a checkout or an archive must be able to follow it).
# Links to http(s) and mailto, and pure #anchors, are not checked. Usage: links.sh SOURCE_ROOT
set -eu
root=$(cd "$1" && pwd -P)
checked=0
failed=0
for doc in "$root/README.md" "$root"/docs/*.md; do
    dir=$(dirname "$doc")
    # [text](target) and [text](target "title"); one link per output line.
    for target in $(grep -o '\](\([^)]*\))' "$doc" | sed -e 's/^](//' -e 's/)$//' -e 's/ .*//'); do
        case "$target" in
        http://* | https://* | mailto:* | '#'*) continue ;;
        esac
        path=${target%%#*}
        checked=$((checked + 1))
        resolved=$(cd "$dir" && realpath -m "$path")
        case "$resolved" in
        "$root"/*) ;;
        *)
            echo "FAIL ${doc#"$root"/}: link '$target' leaves the repository"
            failed=$((failed + 1))
            continue
            ;;
        esac
        if [ ! -e "$resolved" ]; then
            echo "FAIL ${doc#"$root"/}: link '$target' names no file"
            failed=$((failed + 1))
        fi
    done
done
echo "$checked links checked, $failed failed"
[ "$checked" -gt 0 ] && [ "$failed" -eq 0 ]
