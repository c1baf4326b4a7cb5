#!/bin/bash
# Fetches the kernel package that Debian's linux-image-amd64 currently points
# to and unpacks it under .cache/kernel/<package-version>/. Prints that
# directory. Works offline when a kernel is already cached.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=$PWD/.cache/kernel
mkdir -p "$CACHE"

resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

pkg=$(resolve || true)
if [ -z "$pkg" ]; then
	apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(resolve || true)
fi

if [ -z "$pkg" ]; then
	# offline: use the newest cached kernel
	dir=$(ls -d "$CACHE"/*/ 2>/dev/null | sort -V | tail -1)
	if [ -z "$dir" ]; then
		echo "fetch-kernel: cannot resolve linux-image-amd64 and nothing cached" >&2
		exit 1
	fi
	echo "${dir%/}"
	exit 0
fi

ver=$(apt-cache show "$pkg" | awk '/^Version:/ { print $2; exit }')
dir="$CACHE/${pkg}_${ver}"
if [ ! -f "$dir/.complete" ]; then
	rm -rf "$dir" && mkdir -p "$dir"
	if ! (cd "$dir" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1); then
		rm -rf "$dir"
		if [ -n "${KEEL_FETCH_RETRIED:-}" ]; then
			echo "fetch-kernel: cannot download $pkg=$ver" >&2
			exit 1
		fi
		# stale package lists may name a version the archive no longer has
		apt-get update -qq >/dev/null 2>&1 || true
		KEEL_FETCH_RETRIED=1 exec "$0"
	fi
	deb=$(ls "$dir"/*.deb)
	dpkg-deb -x "$deb" "$dir/root"
	echo "$pkg" >"$dir/package"
	echo "$ver" >"$dir/version"
	rm -f "$deb"
	touch "$dir/.complete"
fi
echo "$dir"
