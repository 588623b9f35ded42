"""Networks drawn as their papers draw them, built from the anatomy trace of any module.

This first part gives the structure a drawing is made from (:func:`structure.structure`): the
module tree in call order, the papers' labels, repeated blocks collapsed. The rendering comes
next (issue 15).
"""
