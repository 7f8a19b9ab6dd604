#!/usr/bin/env bash
# Installs the Debian/Ubuntu programs reelforge runs: ffmpeg/ffprobe (assembly), espeak-ng (offline
# voice), DejaVu fonts (subtitles and drawn pictures, with Cyrillic) and redis-server (the test suite
# and the distributed queue). Does nothing when they are all present.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || need+=(fonts-dejavu-core)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup: ffmpeg, espeak-ng, fonts and redis-server are installed."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup: missing ${need[*]}; run as root: apt-get update && apt-get install -y ${need[*]}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: this is not a Debian/Ubuntu system; install ${need[*]} with your package manager." >&2
  exit 1
fi

echo "setup: installing ${need[*]} ..."
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "setup: done."
