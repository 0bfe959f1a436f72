"""Where generation and embedding run: the one resumable generation engine and its runners.

``generation`` (planned batches -> atomic part files -> ``{key: text}``, with the local
runner) is what the profile stage and ProEx's chains run on; ``ray_profile`` (a
``BatchRunner`` over a Ray actor pool) and ``ray_embed`` (a Ray-backed ``Embedder``) need
the ``ray`` extra; nothing here imports Ray until it is used.
"""
