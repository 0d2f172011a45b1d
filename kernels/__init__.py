"""The numba kernels of the front end and the detector.

Importing the package loads SciPy's BLAS table on its own first (see ``_load_cython_blas``).
"""

from __future__ import annotations

import sys


def _load_cython_blas() -> None:
    """Load ``scipy.linalg.cython_blas`` without the ``scipy.linalg`` package around it.

    numba's first compile or cache load in a process imports ``numba.np.arraymath``, which checks
    that BLAS is there with ``import scipy.linalg.cython_blas``. That import first runs
    ``scipy.linalg``'s ``__init__``, which loads all of ``scipy.linalg`` and SciPy's array-API
    layer: 0.2-0.4 s of every replay's start-up, for BLAS no kernel calls. The extension module
    needs none of it, so it is loaded here from its file and registered under its name: numba's
    check (and its ``np.dot``, should a kernel ever use it) finds it, and ``import scipy.linalg``
    later works as before. One difference remains: after a plain ``import scipy.linalg``, the
    attribute ``scipy.linalg.cython_blas`` is missing (``from scipy.linalg import cython_blas``
    and ``importlib.import_module`` find it).
    """
    import importlib.machinery
    import importlib.util
    import os

    name = "scipy.linalg.cython_blas"
    if name in sys.modules or "scipy.linalg" in sys.modules:
        return
    try:
        import scipy
    except ImportError:
        return  # numba then reports "no BLAS", as it would have
    folder = os.path.join(os.path.dirname(scipy.__file__), "linalg")
    paths = [os.path.join(folder, "cython_blas" + s) for s in importlib.machinery.EXTENSION_SUFFIXES]
    path = next((p for p in paths if os.path.exists(p)), None)
    if path is None:
        return  # an unusual SciPy layout: numba imports it the usual way
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ImportError:
        del sys.modules[name]  # numba imports it the usual way


_load_cython_blas()
