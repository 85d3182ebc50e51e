"""Grader for the PyTorch course: a pytest plugin, check helpers, data loaders and the `grader` CLI."""

__version__ = "0.1.0"
