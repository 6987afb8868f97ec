"""The lane width (``linalgkit._simd.WIDTH``, 16 with AVX-512, else 8) changes no answer: the other width, set by
``LINALGKIT_LANE_WIDTH`` in a fresh interpreter, gives the same bits for AI and BW pairs and AI pairwise distances."""

import os
import subprocess
import sys

import numpy as np
import pytest

from linalgkit import spd
from linalgkit._simd import WIDTH
from linalgkit._simd._checks import WIDTH_VARIABLE

_SCRIPT = """
import sys
import numpy as np
from tests.spd.test_lane_width import _results
np.save(sys.argv[1], _results())
"""


def _results():
    rng = np.random.default_rng(7)
    Q = np.linalg.qr(rng.standard_normal((200, 22, 22)))[0]
    X = (Q * np.logspace(0, 6, 22)) @ np.swapaxes(Q, -1, -2)
    X = (X + np.swapaxes(X, -1, -2)) / 2
    return np.concatenate([spd.pairwise_distances(X[:60]).ravel(), spd.distance(X[:140], X[60:]),
                           spd.distance(X[:140], X[60:], metric="bures_wasserstein")])


def _run(tmp_path, env):
    out = tmp_path / "results.npy"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([sys.executable, "-c", _SCRIPT, str(out)], env=env, cwd=root, check=True, capture_output=True)
    return np.load(out)


def test_other_width_same_bits(tmp_path):
    other = 16 if WIDTH == 8 else 8
    np.testing.assert_array_equal(_run(tmp_path, dict(os.environ, **{WIDTH_VARIABLE: str(other)})), _results())


def test_bad_width_names_the_variable(tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as info:
        _run(tmp_path, dict(os.environ, **{WIDTH_VARIABLE: "12"}))
    assert WIDTH_VARIABLE in info.value.stderr.decode() and "8 or 16" in info.value.stderr.decode()
