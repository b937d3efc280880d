#!/bin/sh
# Regenerates docs/screenshot.png (the README's picture): the demo clip
# (viewer/make-demo.py: the public-domain astronaut photo with a swaying head
# and a drifting pulse) played in a loop for about 70 s under Xvfb at
# 1280x800, so that the 60 s history plots are full, then saved.
#   B=build sh viewer/screenshot.sh [OUT.png]      (needs xvfb-run, python3-skimage)
set -eu
B=${B:-build}
out=${1:-docs/screenshot.png}
clip="$B/demo/astronaut-demo.y4m"
if [ ! -f "$clip" ]; then
    mkdir -p "$B/demo"
    ${PYTHON:-/usr/bin/python3} viewer/make-demo.py "$clip"
fi
xvfb-run -a -s "-screen 0 1280x800x24" "$B/smartmirror" --no-config --video "$clip" --loop \
    --size 1280x800 --history 60s --no-qtable --frames "${SM_SHOT_FRAMES:-1000}" --screenshot "$out"
# our PNG writer stores pixels uncompressed (engine/image): deflate the IDAT
# data (Python's standard zlib) so the picture in the repository stays small
${PYTHON:-/usr/bin/python3} - "$out" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", path + ": not a PNG"
pos, chunks, idat = 8, [], b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    pos += 12 + n
    if kind == b"IDAT":
        idat += body
    else:
        chunks.append((kind, body))
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
raw = zlib.decompress(idat)
outb = b"\x89PNG\r\n\x1a\n" + chunk(*chunks[0]) + chunk(b"IDAT", zlib.compress(raw, 9))
outb += b"".join(chunk(k, b) for k, b in chunks[1:])
open(path + ".tmp", "wb").write(outb)
import os
os.replace(path + ".tmp", path)
print("screenshot: %s, %d bytes" % (path, len(outb)))
PY
