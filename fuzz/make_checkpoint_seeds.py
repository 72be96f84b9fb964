#!/usr/bin/env python3
"""Writes the seeds of fuzz/corpus/checkpoint/: small checkpoint files in format 1
(engine/io/checkpoint_file.hpp) with the standard library only. Run from the repository root:
python3 fuzz/make_checkpoint_seeds.py"""
import os
import struct

C = "fuzz/corpus/checkpoint"
MASK = (1 << 64) - 1


def fnv1a64(b):
    """FNV-1a over 8-byte little-endian words, then the tail bytes (fnv1a64 in C++)."""
    h = 0xcbf29ce484222325
    n = len(b) - len(b) % 8
    for i in range(0, n, 8):
        h = ((h ^ struct.unpack_from("<Q", b, i)[0]) * 0x100000001b3) & MASK
    for c in b[n:]:
        h = ((h ^ c) * 0x100000001b3) & MASK
    return h


def checkpoint(text, f64, f32):
    out = bytearray(b"CFCKPT\r\n")
    out += struct.pack("<IIQ", 1, 0x01020304, len(text) + len(f64) + len(f32))
    for name, v in sorted(text.items()):
        out += struct.pack("<IIQ", 0, len(name), len(v)) + name.encode() + v.encode()
    for name, v in sorted(f64.items()):
        out += struct.pack("<IIQ", 1, len(name), len(v)) + name.encode() + struct.pack(f"<{len(v)}d", *v)
    for name, v in sorted(f32.items()):
        out += struct.pack("<IIQ", 2, len(name), len(v)) + name.encode() + struct.pack(f"<{len(v)}f", *v)
    out += struct.pack("<Q", fnv1a64(bytes(out)))
    return bytes(out)


header = ("backend=OpenMP\nbone.active_voxels=8\nbone.blocks=1\nbone.checksum=0123456789abcdef\n"
          "bone.dims=8x8x8\nbone.voxel_mm=1\nbone.voxels=512\ncheckpoint_interval_s=60\n"
          "cementflow_version=0.1.0\nscene_file=/tmp/s.json\nscene_hash=fedcba9876543210\n"
          "scene_name=seed\n")
state = ("injected_m3=1.5000000000000001e-07\nnext_output_s=4\nnext_step=3\np_inj=412345.5\n"
         "row_due=1\nsteps=3\nt=3\nwall_time_s=0.25\n")
scene = '{"schema": 1, "name": "seed"}'
os.makedirs(C, exist_ok=True)
with open(f"{C}/minimal.cfck", "wb") as f:
    f.write(checkpoint({"header": header, "state": state, "scene": scene},
                       {"saturation": [0.0, 0.5, 1.0], "timeline": [0, 0, 0.4, 0.02]},
                       {"arrival": [-1.0, 2.5]}))
with open(f"{C}/header_only.cfck", "wb") as f:
    f.write(checkpoint({"header": header, "state": state}, {}, {}))
