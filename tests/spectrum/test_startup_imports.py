"""The detector's start-up shortcuts give scipy's own answers, and the replay path stays free of
the slow imports they replace (``scipy.stats``, ``scipy.signal``, ``scipy.special``, ``scipy.fft``) and the
``scipy.linalg`` numba would load; the program asks for one BLAS thread and skips the exit's garbage
collection."""

from __future__ import annotations

import gc
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import scipy.special
import scipy.stats

from spectrum.detect.cfar_alpha_table import table_arguments
from spectrum.detect.gamma_functions import gammaincc, gammaincc_inv, trigamma
from spectrum.detect.narrowband_cfar import (ALPHA_TABLE, _pfa_integral, alpha_key, os_cfar_alpha,
                                             solve_os_cfar_alpha)
from spectrum.detect.sk_stats import _pearson3_isf, sk_moments
from spectrum.detect.spectral_frontend import analysis_window

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("fft_size", [16, 256, 1024, 2048, 4096])
def test_hann_window_is_scipys_bit_for_bit(fft_size):
    expected = scipy.signal.get_window("hann", fft_size, fftbins=True).astype(np.float32)
    assert np.array_equal(analysis_window("hann", fft_size), expected)
    assert np.array_equal(analysis_window("blackman", fft_size),
                          scipy.signal.get_window("blackman", fft_size, fftbins=True).astype(np.float32))


@pytest.mark.parametrize("frames", [4, 8, 32, 128, 1024])
@pytest.mark.parametrize("false_alarm", [0.1, 1e-3, 1e-6])
def test_pearson3_quantile_matches_scipy_stats(frames, false_alarm):
    mean, variance, skewness = sk_moments(frames)
    expected = scipy.stats.pearson3(skewness, loc=mean, scale=math.sqrt(variance)).isf(false_alarm)
    assert _pearson3_isf(false_alarm, mean, variance, skewness) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("looks", [2, 4, 16])
def test_cfar_integral_matches_scipy_stats_beta(looks):
    import scipy.integrate
    import scipy.special

    cells, rank, alpha = 32, 24, 3.0
    order = scipy.stats.beta(rank, cells - rank + 1)
    expected, _ = scipy.integrate.quad(
        lambda u: scipy.special.gammaincc(looks, alpha * scipy.special.gammaincinv(looks, u)) * order.pdf(u),
        0.0, 1.0, points=[rank / (cells + 1)], epsabs=0.0, epsrel=1e-9, limit=400)
    assert _pfa_integral(alpha, cells, rank, looks) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("x", [0.1, 0.5, 1.0, 3.5, 9.99, 10.0, 64.0, 1024.0, 1e5])
def test_trigamma_matches_scipy(x):
    assert trigamma(x) == pytest.approx(float(scipy.special.polygamma(1, x)), rel=1e-12)


@pytest.mark.parametrize("a", [0.05, 0.5, 1.0, 2.19, 41.6, 1000.0, 1e5])
@pytest.mark.parametrize("p", [0.49, 0.1, 1e-3, 1e-6, 1e-9, 1e-12])
def test_gamma_quantile_matches_scipy(a, p):
    x = gammaincc_inv(a, p)
    assert x == pytest.approx(float(scipy.special.gammainccinv(a, p)), rel=1e-10)
    assert gammaincc(a, x) == pytest.approx(p, rel=1e-9)


def test_gamma_functions_refuse_what_they_cannot_answer():
    for bad in ((0.0, 0.1), (1.0, 0.0), (1.0, 1.0), (-1.0, 0.5)):
        with pytest.raises(ValueError):
            gammaincc_inv(*bad)
    with pytest.raises(ValueError):
        trigamma(0.0)


# modules a replay must not load: each costs a tenth of a second or more of its start-up
SLOW_MODULES = ("scipy.stats", "scipy.signal", "scipy.special", "scipy.fft",
                "scipy.linalg",  # numba's BLAS check loads scipy.linalg.cython_blas alone (kernels/__init__.py)
                "scipy.integrate", "scipy.optimize")  # the CFAR's α comes from its table (cfar_alpha.json)


def _modules_after(code: str, *args: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the SLOW_MODULES it left in sys.modules."""
    probe = f"import sys\n{code}\nprint(sorted(m for m in {SLOW_MODULES!r} if m in sys.modules))"
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    if "NUMBA_CACHE_DIR" in os.environ:
        env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
    out = subprocess.run([sys.executable, "-c", probe, *args], cwd=REPO, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return eval(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("scene, seconds", [("clean_quiet", 0.1), ("clean_pmr", 2.0)])  # 2 s: a baseline is learned
def test_replay_does_not_import_slow_modules(scenario_capture, scene, seconds):
    # a whole replay: the kernels run, so numba loads its implementations (and checks for BLAS)
    meta = scenario_capture(scene, seconds)
    assert _modules_after("from spectrum.cli import main\nmain(['replay', sys.argv[1], '--json'])", str(meta)) == []


def test_scipy_linalg_still_imports_after_the_kernels():
    code = ("import numpy as np, kernels, scipy.linalg\n"
            "assert scipy.linalg.solve(np.eye(2), np.ones(2)).tolist() == [1.0, 1.0]\n"
            "from scipy.linalg import cython_blas\n"
            "assert 'dgemm' in cython_blas.__pyx_capi__")
    assert _modules_after(code) == ["scipy.linalg"]


def test_cfar_alpha_table_holds_the_solved_alphas():
    table = json.loads(ALPHA_TABLE.read_text())["alpha"]
    arguments = table_arguments()
    # the default detector's arguments at the usual rates: regenerate the table when they change
    assert sorted(table) == sorted(alpha_key(*args) for args in arguments)
    for args in arguments:
        assert table[alpha_key(*args)] == pytest.approx(solve_os_cfar_alpha(*args), rel=1e-10), args
        assert os_cfar_alpha(*args) == table[alpha_key(*args)]


def test_only_the_program_skips_the_exit_collection(monkeypatch, capsys):
    from spectrum.cli import main

    # run in-process with arguments (as the tests do), main leaves the heap alone ...
    assert main(["simulate", "--list"]) == 0
    assert gc.get_freeze_count() == 0
    # ... as the program it freezes it, so the exit's garbage collections skip numba's objects
    monkeypatch.setattr(sys, "argv", ["spectrum", "simulate", "--list"])
    try:
        assert main() == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("given, expected", [({}, "1"), ({"OMP_NUM_THREADS": "4"}, "None"),
                                             ({"OPENBLAS_NUM_THREADS": "2"}, "2")])
def test_the_cli_asks_for_one_blas_thread_unless_told(given, expected):
    # one BLAS thread: OpenBLAS then starts no thread pool with NumPy (start-up)
    code = "import os, spectrum.cli; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **given}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected
