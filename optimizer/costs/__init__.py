"""Cost, time and emission kernels (numba) over the compiled network arrays.

Each kernel has a slow reference twin in :mod:`optimizer.costs.reference`, which the tests
compare against it (also with ``NUMBA_DISABLE_JIT=1``).
"""
