"""Generative and graph CF backbones that only ProEx and PtE train: LightGCN, SimGCL, Mult-VAE
and L-DiffRec (ProEx's four) and DreamRec (PtE's). They live beside the methods that use them;
the ID baselines that evaluate compares every method against stay in ``profilerec.recsys``."""
