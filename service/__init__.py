"""Services that the page, the JSON API and the hardening layer all use: the per-racer cache
(``races``), what the browser receives (``compact``) and the share-link codec (``share``).

They sit below every web layer: nothing here imports Dash callback code, layouts or ``web``,
so ``layouts`` and ``web`` import from here and never back up from ``callbacks``.
"""
