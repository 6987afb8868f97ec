"""The Lanes and Mask types, their loads and stores, and their operators (see :mod:`linalgkit._simd`)."""

import operator
import os

from llvmlite import binding, ir
from numba import config, types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model

from . import _checks



def _width():
    """16 lanes where Numba compiles for AVX-512, else 8: two vector registers of float64 per value either way.

    Sixteen float64 lanes on AVX2 take four of its sixteen registers per value, and the QL rotations of
    the SPD kernels (five live values) spill: AI pairwise distances of 500 x 500 matrices of 22 x 22 take
    0.78 of the 16-lane time with 8 lanes (0.75 to 0.95 in three runs on a shared 2-core AMD EPYC, AVX2;
    ``ablation_lane_width`` of ``benchmarks/spd.py``); the answers of every lane are the same at both widths.
    Numba caches kernels per CPU feature set, so a cached kernel always has the width of the CPU it runs on.
    :data:`~._checks.WIDTH_VARIABLE` overrides it (ablations and tests), and the kernels then compile uncached.
    """
    override = os.environ.get(_checks.WIDTH_VARIABLE)
    if override:
        if override not in ("8", "16"):
            raise ValueError(f"{_checks.WIDTH_VARIABLE} must be 8 or 16, got {override!r}; unset it for the default")
        return int(override)
    features = config.CPU_FEATURES or binding.get_host_cpu_features().flatten()
    return 16 if "+avx512f" in features.split(",") else 8


WIDTH = _width()
"""Problems per Lanes value (:func:`_width`): 16 with AVX-512, 8 otherwise."""

_FLAGS = ("contract",)
_INDEX = ir.IntType(32)


class Lanes(types.Type):
    """Numba type of :data:`WIDTH` numbers of one dtype, one per lane."""

    def __init__(self, dtype):
        self.dtype = dtype
        super().__init__(name=f"Lanes({dtype})")


class Mask(types.Type):
    """Numba type of :data:`WIDTH` booleans, one per lane."""

    def __init__(self):
        super().__init__(name="Mask")


_MASK = Mask()


@register_model(Lanes)
class _LanesModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(dmm.lookup(fe_type.dtype).get_value_type(), WIDTH))


@register_model(Mask)
class _MaskModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(ir.IntType(1), WIDTH))


def _lanes_of(*typs):
    """The Lanes type among the operand types, None when there is none."""
    return next((t for t in typs if isinstance(t, Lanes)), None)


def _is_operand(typ):
    return isinstance(typ, (Lanes, types.Number))


def _vector(context, builder, typ, value, lanes):
    """``value`` as a vector of ``lanes``: itself, or a scalar cast to the lane dtype and broadcast."""
    if isinstance(typ, Lanes):
        return value
    scalar = context.cast(builder, value, typ, lanes.dtype)
    vector_type = ir.VectorType(scalar.type, WIDTH)
    single = builder.insert_element(ir.Constant(vector_type, ir.Undefined), scalar, ir.Constant(_INDEX, 0))
    return builder.shuffle_vector(single, ir.Constant(vector_type, ir.Undefined),
                                  ir.Constant(ir.VectorType(_INDEX, WIDTH), [0] * WIDTH))


def _row_pointer(context, builder, array_type, array, row, col):
    """Pointer to ``array[row, col:col + WIDTH]`` as a vector pointer.

    No bounds or wraparound checks, unless the caller is compiled inside :func:`~._checks.bounds_checked`:
    then ``0 <= row < shape[0]`` and ``0 <= col``, ``col + WIDTH <= shape[1]`` are tested and an
    IndexError raised when they fail.
    """
    view = context.make_array(array_type)(context, builder, array)
    if _checks.enabled:
        _check_bounds(context, builder, view, row, col)
    item = cgutils.get_item_pointer(context, builder, array_type, view, [row, col], wraparound=False)
    return builder.bitcast(item, ir.VectorType(context.get_value_type(array_type.dtype), WIDTH).as_pointer())


def _check_bounds(context, builder, view, row, col):
    rows, cols = cgutils.unpack_tuple(builder, view.shape, count=2)
    row, col = (builder.sext(x, rows.type) if x.type.width < rows.type.width else x for x in (row, col))
    last = builder.add(col, ir.Constant(rows.type, WIDTH - 1))
    outside = builder.or_(builder.icmp_unsigned(">=", row, rows),
                          builder.or_(builder.icmp_unsigned(">=", col, cols), builder.icmp_unsigned(">=", last, cols)))
    with cgutils.if_unlikely(builder, outside):
        context.call_conv.return_user_exc(builder, IndexError, (f"lane row or columns out of bounds "
                                                                f"(a load or store of {WIDTH} lanes)",))


@intrinsic
def load(typingctx, A, row, col):
    """``A[row, col:col + WIDTH]`` of a C-contiguous 2-D array as a Lanes value (the caller keeps it in bounds)."""
    def codegen(context, builder, sig, args):
        pointer = _row_pointer(context, builder, sig.args[0], args[0], args[1], args[2])
        return builder.load(pointer, align=sig.args[0].dtype.bitwidth // 8)

    return Lanes(A.dtype)(A, row, col), codegen


@intrinsic
def store(typingctx, A, row, col, x):
    """``A[row, col:col + WIDTH] = x``."""
    def codegen(context, builder, sig, args):
        pointer = _row_pointer(context, builder, sig.args[0], args[0], args[1], args[2])
        builder.store(args[3], pointer, align=sig.args[0].dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.none(A, row, col, x), codegen


@intrinsic
def splat(typingctx, A, value):
    """``value`` in every lane, with the dtype of the array ``A``."""
    lanes = Lanes(A.dtype)

    def codegen(context, builder, sig, args):
        return _vector(context, builder, sig.args[1], args[1], lanes)

    return lanes(A, value), codegen


@intrinsic
def select(typingctx, mask, a, b):
    """``a`` where ``mask`` holds, else ``b`` (either may be a scalar, not both)."""
    lanes = _lanes_of(a, b)

    def codegen(context, builder, sig, args):
        x, y = (_vector(context, builder, t, v, lanes) for t, v in zip(sig.args[1:], args[1:]))
        return builder.select(args[0], x, y)

    return lanes(mask, a, b), codegen


def _elementwise(name):
    """An intrinsic applying the LLVM intrinsic ``llvm.<name>`` to every lane."""
    @intrinsic
    def apply(typingctx, x):
        def codegen(context, builder, sig, args):
            vector_type = args[0].type
            suffix = f"v{WIDTH}f{sig.args[0].dtype.bitwidth}"
            function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector_type, [vector_type]),
                                                      f"llvm.{name}.{suffix}")
            return builder.call(function, [args[0]])

        return x(x), codegen

    return apply


sqrt = _elementwise("sqrt")
fabs = _elementwise("fabs")
log = _elementwise("log")


@intrinsic
def any_lane(typingctx, mask):
    """Whether ``mask`` holds in at least one lane."""
    def codegen(context, builder, sig, args):
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(1), [args[0].type]), f"llvm.vector.reduce.or.v{WIDTH}i1")
        return builder.call(function, [args[0]])

    return types.boolean(mask), codegen


@intrinsic
def max_lane(typingctx, x):
    """The largest lane of ``x`` (NaN lanes are skipped unless the first lane is NaN)."""
    def codegen(context, builder, sig, args):
        best = builder.extract_element(args[0], ir.Constant(_INDEX, 0))
        for k in range(1, WIDTH):
            item = builder.extract_element(args[0], ir.Constant(_INDEX, k))
            best = builder.select(builder.fcmp_ordered(">", item, best), item, best)
        return best

    return x.dtype(x), codegen


def _on_vectors(emit, mask=False):
    """An intrinsic ``(a, b) -> emit(builder, x, y)`` on the two operands as vectors; a Mask when ``mask``."""
    @intrinsic
    def apply(typingctx, a, b):
        lanes = _lanes_of(a, b)

        def codegen(context, builder, sig, args):
            x, y = (_vector(context, builder, t, v, lanes) for t, v in zip(sig.args, args))
            return emit(builder, x, y)

        return (_MASK if mask else lanes)(a, b), codegen

    return apply


def _arithmetic(method):
    return _on_vectors(lambda builder, x, y: getattr(builder, method)(x, y, flags=_FLAGS))


def _comparison(predicate):
    compare = "fcmp_unordered" if predicate == "!=" else "fcmp_ordered"
    return _on_vectors(lambda builder, x, y: getattr(builder, compare)(predicate, x, y), mask=True)


def _mask_binary(method):
    @intrinsic
    def apply(typingctx, a, b):
        def codegen(context, builder, sig, args):
            return getattr(builder, method)(args[0], args[1])

        return _MASK(a, b), codegen

    return apply


@intrinsic
def _negate(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.fneg(args[0], flags=_FLAGS)

    return x(x), codegen


@intrinsic
def _invert(typingctx, mask):
    def codegen(context, builder, sig, args):
        return builder.not_(args[0])

    return _MASK(mask), codegen


def _register_binary(op, implementation, accepts):
    @overload(op)
    def _overload(a, b):
        if accepts(a, b):
            return lambda a, b: implementation(a, b)


def _lanes_operands(a, b):
    return _lanes_of(a, b) is not None and _is_operand(a) and _is_operand(b)


def _masks(a, b):
    return isinstance(a, Mask) and isinstance(b, Mask)


for _op, _method in ((operator.add, "fadd"), (operator.sub, "fsub"), (operator.mul, "fmul"),
                     (operator.truediv, "fdiv")):
    _register_binary(_op, _arithmetic(_method), _lanes_operands)
for _op, _predicate in ((operator.lt, "<"), (operator.le, "<="), (operator.gt, ">"), (operator.ge, ">="),
                        (operator.eq, "=="), (operator.ne, "!=")):
    _register_binary(_op, _comparison(_predicate), _lanes_operands)
for _op, _method in ((operator.and_, "and_"), (operator.or_, "or_")):
    _register_binary(_op, _mask_binary(_method), _masks)


@overload(operator.neg)
def _overload_neg(x):
    if isinstance(x, Lanes):
        return lambda x: _negate(x)


@overload(operator.invert)
def _overload_invert(mask):
    if isinstance(mask, Mask):
        return lambda mask: _invert(mask)
