"""Independent reference for the TFLite converter tests (run by gen_tflite_models.sh).

    tflite_flatref.py MODEL.tflite NODES.txt OUTPREFIX

Reads the .tflite with its own minimal FlatBuffer walker (nothing shared with
tools/tflite.c) and writes
  OUTPREFIX.ref.idx / .ref.bin  every constant tensor: name, dtype, shape and its
                                values (FLOAT16 widened to float32 by numpy,
                                INT32 as is), in tensor order
  OUTPREFIX.ops.txt             one canonical line per operator, made from the
                                reference listing NODES.txt (shared/reference/
                                face_models_nodes), plus PAD amounts read from the
                                paddings constant by this walker
The C test prints its .smw graph metadata in the same canonical form and compares.
"""
import json
import re
import struct
import sys

import numpy as np

TYPES = {0: 'f32', 1: 'f16', 2: 'i32'}


class Flat:
    def __init__(self, data):
        self.b = data

    def u32(self, p):
        return struct.unpack_from('<I', self.b, p)[0]

    def i32(self, p):
        return struct.unpack_from('<i', self.b, p)[0]

    def u16(self, p):
        return struct.unpack_from('<H', self.b, p)[0]

    def field(self, t, i):
        vt = t - self.i32(t)
        if 4 + 2 * i >= self.u16(vt):
            return None
        o = self.u16(vt + 4 + 2 * i)
        return t + o if o else None

    def deref(self, p):
        return p + self.u32(p)

    def vector(self, t, i):
        p = self.field(t, i)
        if p is None:
            return None, 0
        v = self.deref(p)
        return v + 4, self.u32(v)

    def tables(self, t, i):
        start, n = self.vector(t, i)
        return [self.deref(start + 4 * k) for k in range(n)]

    def ints(self, t, i):
        start, n = self.vector(t, i)
        return list(struct.unpack_from('<%di' % n, self.b, start)) if n else []

    def string(self, t, i):
        start, n = self.vector(t, i)
        return self.b[start:start + n].decode() if start is not None else ''

    def scalar(self, t, i, fmt, default):
        p = self.field(t, i)
        return default if p is None else struct.unpack_from('<' + fmt, self.b, p)[0]


def canon(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return '%.9g' % v
    if isinstance(v, list):
        return '[' + ','.join(canon(x) for x in v) + ']'
    return str(v)


def main():
    model, nodes, prefix = sys.argv[1:4]
    fb = Flat(open(model, 'rb').read())
    assert fb.b[4:8] == b'TFL3'
    root = fb.u32(0)
    buffers = fb.tables(root, 4)
    sg = fb.tables(root, 2)[0]
    tensors = fb.tables(sg, 0)
    consts = {}
    idx = open(prefix + '.ref.idx', 'w')
    with open(prefix + '.ref.bin', 'wb') as out:
        for k, t in enumerate(tensors):
            name = fb.string(t, 3)
            shape = fb.ints(t, 0)
            ttype = fb.scalar(t, 1, 'b', 0)
            bidx = fb.scalar(t, 2, 'I', 0)
            start, n = fb.vector(buffers[bidx], 0)
            if not n:
                continue
            raw = fb.b[start:start + n]
            if ttype == 1:
                vals = np.frombuffer(raw, dtype='<f2').astype(np.float32)
            elif ttype == 0:
                vals = np.frombuffer(raw, dtype='<f4')
            elif ttype == 2:
                vals = np.frombuffer(raw, dtype='<i4')
            else:
                raise SystemExit('%s: tensor %s has type %d' % (model, name, ttype))
            assert vals.size == int(np.prod(shape)), name
            consts[name] = vals
            dt = 'i32' if ttype == 2 else 'f32'
            idx.write('%s\t%s\t%s\t%d\t%d\n' % (name, dt, ','.join(map(str, shape)),
                                                 out.tell(), vals.size))
            out.write(vals.astype('<i4' if dt == 'i32' else '<f4').tobytes())
    idx.close()

    # operators, from the reference listing
    line_re = re.compile(r'^\s*\[\s*(\d+)\]\s+(\S+)\s+(.*?) -> (.*?)(?: (\{.*\}))?\s*$')
    tens_re = re.compile(r'([^\s,][^,]*?)\[([-0-9, ]*)\](?:\(c\))?(?:, |$)')
    ops = []
    for line in open(nodes):
        m = line_re.match(line)
        if not m:
            continue
        num, op, ins, outs, opts = m.groups()
        ins_l = [x.group(1) for x in tens_re.finditer(ins)]
        outs_m = list(tens_re.finditer(outs))
        d = json.loads(opts) if opts else {}
        if op == 'PAD':
            pads = consts[ins_l[1]]
            d['pads'] = [int(x) for x in pads]
        if op == 'STRIDED_SLICE':
            for key, name in zip(('begin', 'end', 'strides'), ins_l[1:4]):
                d[key] = [int(x) for x in consts[name]]
        parts = [num, op, 'in=' + ','.join(ins_l),
                 'out=' + ','.join(x.group(1) for x in outs_m),
                 'shape=' + ';'.join('x'.join(s.strip() for s in x.group(2).split(','))
                                     for x in outs_m)]
        parts += ['%s=%s' % (k, canon(d[k])) for k in sorted(d)]
        ops.append(' '.join(parts))
    with open(prefix + '.ops.txt', 'w') as f:
        f.write('\n'.join(ops) + '\n')
    print('%s: %d constant tensors, %d operators' % (model, len(consts), len(ops)))


if __name__ == '__main__':
    main()
