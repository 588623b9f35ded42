"""Networks drawn as their papers draw them, built from the anatomy trace of any module.

:func:`draw` gives a :class:`Diagram` (SVG; inline in Jupyter); :mod:`cnnzoo.diagram.structure`
the parts a drawing is made of: the module tree in call order, the papers' labels, repeated
blocks collapsed.
"""

from cnnzoo.diagram.figure import Diagram, draw, draw_side_by_side

__all__ = ["Diagram", "draw", "draw_side_by_side"]
