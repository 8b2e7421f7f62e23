"""Shared pytest setup.

Its presence at the top of the ``tests`` package makes pytest put the repository root on
``sys.path``, so test modules share helpers as ``tests.strategies`` (Hypothesis strategies built
from the question bank) and ``tests.helpers``. Keep it small: fixtures that only one module uses
belong in that module.
"""
