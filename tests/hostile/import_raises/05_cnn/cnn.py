"""Raises while it is imported."""

import torch

raise RuntimeError("my module needs a GPU cluster")
