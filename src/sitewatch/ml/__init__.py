"""Training side of the learned change method (``siamese``).

Only :mod:`~.model`, :mod:`~.training` and :mod:`~.export` import torch (the ``ml``
extra); :mod:`~.oscd` (data loading) and :mod:`~.evaluation` (onnxruntime metrics) do not,
so ``sitewatch model eval`` and other tools can use them without torch installed.
"""
