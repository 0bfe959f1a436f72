"""Engines that run the profile and embed stages somewhere other than this process.

``ray_profile`` (a ``BatchRunner`` over a Ray actor pool) and ``ray_embed`` (a Ray-backed
``Embedder``) need the ``ray`` extra; nothing here imports Ray until it is used.
"""
