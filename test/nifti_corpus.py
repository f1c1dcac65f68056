"""The NIfTI-1 corpus of test/nifti-corpus.test.ts, and what nibabel reads from each file.

Usage: /usr/bin/python3 nifti_corpus.py DIR (nibabel 5.0, numpy 1.24). Writes DIR/NAME.nii or
DIR/NAME.nii.gz per variant, built with nibabel and then, for the broken ones, patched byte by byte;
loads each with nib.load, and for each file nibabel reads writes DIR/NAME.npy: get_fdata() (float64)
with its axes reversed, so that its C order is dltheory's [..., z, y, x]. Prints one JSON list:
{name, group, file, field} and either {shape, affine, dtype, scaled, logged} (logged: the header
fields nibabel logged a fix-up or warning for, once each) or {error: nibabel's exception}. `field`
is the header field an error must name (set on the variants built to be broken).
"""
import gzip
import json
import logging
import os
import struct
import sys
import warnings

import nibabel as nib
import numpy as np
from nibabel import imageglobals

warnings.filterwarnings('ignore', 'Using large vector Freesurfer hack')  # nibabel saving freesurfer-vector

OUT = sys.argv[1]
AFFINE = np.array([[0.9, 0.1, 0, -20], [0, 1.1, 0.2, 15.5], [0.05, 0, 2.5, -7], [0, 0, 0, 1]])
ROTATION = np.array([[0, -1.5, 0, 3], [0.8, 0, 0, -4], [0, 0, -2, 1], [0, 0, 0, 1]])  # a quarter turn and a mirror: qfac −1
CODES = ['u1', 'i1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f4', 'f8']
# nibabel's log and warning messages, by the header field each is about.
FIELDS = [('sizeof_hdr', 'sizeof_hdr'), ('bitpix', 'bitpix'), ('pixdim[1,2,3]', 'pixdim[1,2,3]'), ('pixdim[0]', 'pixdim[0]'),
          ('vox offset', 'vox_offset'), ('qform_code', 'qform_code'), ('sform_code', 'sform_code'), ('Extension size', 'extension'),
          ('data code', 'datatype')]


def values(code, shape=(4, 3, 2)):
    """Values spanning the type: its extremes, around 0 and 2^53, NaN, ±inf, −0 and subnormals for floats."""
    dt = np.dtype(code)
    n = int(np.prod(shape))
    rng = np.random.default_rng(len(code) * 100 + dt.itemsize)
    if dt.kind == 'f':
        special = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dt).max, -np.finfo(dt).max, np.finfo(dt).smallest_subnormal, 1 / 3]
        rest = rng.standard_normal(n - len(special)) * 1e3
        return np.array(special + list(rest), dtype=dt).reshape(shape)
    info = np.iinfo(dt)
    special = [info.min, info.max, 0, 1, info.max - 1]
    if dt.itemsize == 8:
        special += [2**53 + 1, 2**62 + 2**10 + 1, info.max - 2**10]
    rest = rng.integers(info.min, info.max, n - len(special), dtype=dt, endpoint=True)
    return np.array(special + list(rest), dtype=dt).reshape(shape)


def image(data, endian='<', sform=True, extension=None):
    """The bytes of a .nii nibabel writes for `data` (its dtype kept): qform ROTATION (code 1), sform AFFINE (code 2) if `sform`."""
    header = nib.Nifti1Header(endianness=endian)
    header.set_qform(ROTATION, code=1)
    if sform:
        header.set_sform(AFFINE, code=2)
    # No affine argument: nibabel would then reset the codes to its defaults.
    img = nib.Nifti1Image(data, None, header=header, dtype=data.dtype)
    if extension is not None:
        img.header.extensions.append(nib.nifti1.Nifti1Extension('comment', extension))
    return bytearray(img.to_bytes())


def patch(b, offset, fmt, *vals):
    """Overwrites header bytes in the file's byte order (told by sizeof_hdr, still 348) unless `fmt` names one."""
    endian = '' if fmt[0] in '<>' else '<' if struct.unpack_from('<i', b, 0)[0] == 348 else '>'
    struct.pack_into(endian + fmt, b, offset, *vals)
    return b


def ellipsoid(n=16):
    z, y, x = np.mgrid[:n, :n, :n]
    return (((x - 7.5) / 6) ** 2 + ((y - 8) / 4) ** 2 + ((z - 6.5) / 3.5) ** 2 <= 1).astype(np.uint8).transpose()


VARIANTS = []  # (group, name, file, bytes, field)


def add(group, name, b, gz=False, cut=0, field=None):
    """A variant: the bytes `b`, gzipped if `gz`, less their last `cut` bytes."""
    b = gzip.compress(bytes(b), mtime=0) if gz else bytes(b)
    VARIANTS.append((group, name, name + ('.nii.gz' if gz else '.nii'), b[: len(b) - cut], field))


def num(v):
    return f'{v:g}'


for code in CODES:
    add('datatypes', f'dtype-{code}', image(values(code)))
    add('datatypes', f'dtype-{code}-be', image(values(code), '>'))

for code, slope, inter in [('u1', 1, 0), ('u1', 2, -3), ('i2', 2, -3), ('f4', 2, -3), ('i2', 0, 5), ('i2', np.nan, np.nan), ('f4', np.inf, 0),
                           ('i2', np.nan, 3), ('i2', -np.inf, np.inf), ('f4', -0.5, 0.25), ('u8', 2, -3), ('i4', 1e-3, 0), ('i8', 1, 0.5),
                           ('f8', 3, 0), ('u2', 1, -100)]:
    add('scaling', f'scl-{code}-{num(slope)}-{num(inter)}', patch(image(values(code)), 112, 'ff', slope, inter))
    if code == 'i2' and slope == 2:
        add('scaling', f'scl-{code}-{num(slope)}-{num(inter)}-be', patch(image(values(code), '>'), 112, 'ff', slope, inter))
for slope, inter in [(2, np.nan), (1, np.inf), (-2, -np.inf)]:
    add('errors', f'scl-i2-{num(slope)}-{num(inter)}', patch(image(values('i2')), 112, 'ff', slope, inter), field='scl_inter')

bug = image(ellipsoid())
add('bug', 'ellipsoid', bug)
add('bug', 'ellipsoid-nan', patch(bytearray(bug), 112, 'ff', np.nan, np.nan))

add('layout', 'gzip-u1', image(values('u1')), gz=True)
add('layout', 'gzip-f4-be', image(values('f4'), '>'), gz=True)
add('layout', 'gzip-scl-i2-be', patch(image(values('i2'), '>'), 112, 'ff', 0.5, 7), gz=True)
add('layout', '4d-f4', image(values('f4', (3, 2, 2, 3))))
add('layout', '4d-i2-be', image(values('i2', (3, 2, 2, 3)), '>'), gz=True)
add('layout', '5d-u2', image(values('u2', (2, 2, 1, 2, 3))))
add('layout', '2d-i4', image(values('i4', (5, 3))))
add('layout', '1d-f8', image(values('f8', (9,))))
add('layout', 'extension', image(values('i2'), extension=b'a comment of some length' * 3))
add('layout', 'extension-be', image(values('f4'), '>', extension=b'x' * 40), gz=True)
add('layout', 'dim0-empty', patch(image(values('u1')), 40, 'h', 0))
add('layout', 'size0-empty', patch(image(values('u1')), 42, 'h', 0))
add('layout', 'freesurfer-vector', image(np.arange(40000, dtype=np.int32).reshape(40000, 1, 1)))
add('layout', 'freesurfer-ico7', image((np.arange(163842) % 251).astype(np.uint8).reshape(163842, 1, 1)))
add('layout', 'affine-qform', image(values('i2'), sform=False))
add('layout', 'affine-qform-be', image(values('i2'), '>', sform=False))
add('layout', 'affine-base', patch(image(values('i2')), 252, 'hh', 0, 0))
add('layout', 'affine-base-2d', patch(image(values('i2', (5, 3))), 252, 'hh', 0, 0))
# (0.6, 0.8, 0): b² + c² just above 1 in float32, within nibabel's threshold, so w = 0.
add('layout', 'affine-qform-w0', patch(patch(image(values('i2'), sform=False), 256, 'fff', 0.6, 0.8000001, 0), 252, 'hh', 1, 0))

add('fixups', 'bitpix', patch(image(values('i2')), 72, 'h', 8))
add('fixups', 'qfac-0', patch(image(values('i2'), sform=False), 76, 'f', 0))
add('fixups', 'qfac-half', patch(image(values('i2'), sform=False), 76, 'f', 0.5))
add('fixups', 'pixdim-zero-negative', patch(image(values('i2'), sform=False), 80, 'fff', 0, -2, 3))
add('fixups', 'pixdim-zero-base', patch(image(values('i2')), 80, 'f', 0))
add('fixups', 'qform_code-7', patch(image(values('i2'), sform=False), 252, 'h', 7))
add('fixups', 'sform_code--1', patch(image(values('i2')), 254, 'h', -1))
add('fixups', 'sizeof_hdr-100', patch(image(values('u1')), 0, 'i', 100))
add('fixups', 'sizeof_hdr-540', patch(image(values('u1')), 0, 'i', 540))
moved = image(values('f4'))
add('fixups', 'vox_offset-360', patch(moved[:352] + bytes(8) + moved[352:], 108, 'f', 360))
add('fixups', 'vox_offset-352.5', patch(image(values('f4')), 108, 'f', 352.5))
add('fixups', 'vox_offset-0', patch(image(values('u1')), 108, 'f', 0))
odd = image(values('i2'), extension=b'y' * 30)  # a 48-byte record whose esize claims 40
add('fixups', 'extension-esize-40', patch(odd, 352, 'i', 40))
every = patch(image(values('i2', (3, 2, 2, 3)), '>', sform=False), 72, 'h', 32)
for offset, fmt, v in [(76, 'f', 0), (84, 'f', -1.5), (252, 'h', 9), (254, 'h', 99), (0, 'i', 0)]:
    patch(every, offset, fmt, v)
add('fixups', 'all-be', every, gz=True)

# Files nibabel reads and dltheory rejects by design: NIfTI-2, a pair's header magic "ni1", complex data.
add('unsupported', 'nifti2', nib.Nifti2Image(values('i2'), AFFINE).to_bytes(), field='NIfTI-2')
add('unsupported', 'magic-ni1', patch(image(values('u1')), 344, '4s', b'ni1\0'), field='magic')
add('unsupported', 'datatype-complex64', patch(image(values('f8')), 70, 'hh', 32, 64), field='datatype')
add('errors', 'magic', patch(image(values('u1')), 344, '4s', b'ab1\0'), field='magic')
for code, name, bitpix in [(3, 'unknown', 8), (0, 'none', 8), (1536, 'float128', 128), (2048, 'complex256', 256), (128, 'rgb', 24)]:
    b = patch(image(values('u1')), 70, 'hh', code, bitpix)
    add('errors', f'datatype-{name}', b + bytes(24 * bitpix // 8), field='datatype')
for v in [100, 0.5, -16, np.nan, np.inf]:
    add('errors', f'vox_offset-{num(v)}', patch(image(values('u1')), 108, 'f', v), field='vox_offset')
add('errors', 'dim-negative', patch(image(values('u1')), 44, 'h', -3), field='dim')
add('errors', 'freesurfer-glmin-0', patch(image(np.arange(40000, dtype=np.int32).reshape(40000, 1, 1)), 144, 'i', 0), field='glmin')
add('errors', 'quaternion', patch(image(values('i2'), sform=False), 256, 'fff', 0.9, 0.9, 0), field='quatern_b')
add('errors', 'truncated', image(values('i2')), cut=1, field='dim')
add('errors', 'truncated-gzip', image(values('i2')), gz=True, cut=30, field='gzip')
add('errors', 'short', image(values('u1'))[:300], field='header')
add('errors', 'extension-past-end', patch(image(values('i2'), extension=b'z' * 24), 352, 'i', 4096), field='extension')
add('errors', 'extension-esize-0', patch(image(values('i2'), extension=b'z' * 24), 352, 'i', 0), field='extension')
# The byte order comes from dim[0], sizeof_hdr breaking ties: a little-endian file with dim[0] 8, or with
# dim[0] 0 and sizeof_hdr 348 big-endian, reads big-endian, and its vox_offset is then garbage.
add('errors', 'byte-order-dim0-8', patch(image(values('u1')), 40, 'h', 8), field='vox_offset')
add('errors', 'byte-order-dim0-0', patch(patch(image(values('u1')), 40, 'h', 0), 0, '>i', 348), field='vox_offset')


class Fields(logging.Handler):
    """Collects the header fields of nibabel's log messages."""

    def __init__(self):
        super().__init__(level=1)
        self.fields = []

    def emit(self, record):
        self.note(record.getMessage())

    def note(self, message):
        field = next((f for key, f in FIELDS if key in message), message)
        if field not in self.fields:
            self.fields.append(field)


fields = Fields()
imageglobals.logger.handlers = [fields]
imageglobals.logger.setLevel(1)
imageglobals.logger.propagate = False
records = []
for group, name, file, b, field in VARIANTS:
    path = os.path.join(OUT, file)
    with open(path, 'wb') as f:
        f.write(b)
    fields.fields = []
    record = {'name': name, 'group': group, 'file': file, 'field': field}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            img = nib.load(path)
            data = img.get_fdata()
            np.save(os.path.join(OUT, name + '.npy'), np.ascontiguousarray(data.transpose()))
            record.update(shape=list(img.shape), affine=img.affine.tolist(), dtype=img.get_data_dtype().name,
                          scaled=(img.dataobj.slope, img.dataobj.inter) != (1, 0))
        except Exception as e:  # what nibabel raises is the expectation
            record['error'] = f'{type(e).__name__}: {e}'.split('\n')[0]
    for w in caught:  # nibabel's own warnings, not numpy's overflow in scaling
        if issubclass(w.category, UserWarning):
            fields.note(str(w.message))
    record['logged'] = fields.fields
    records.append(record)
print(json.dumps(records, allow_nan=False))
