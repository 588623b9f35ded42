"""Anatomy of a network: what each layer outputs and holds, traced without real compute."""

from cnnzoo.anatomy.trace import LayerRecord, trace

__all__ = ["LayerRecord", "trace"]
