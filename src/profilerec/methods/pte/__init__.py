"""PtE (profile-then-embed): bidirectional user/item profiles refined in a loop, candidates
selected with a group-relative (GRPO) reward, embeddings fed into SASRec / DreamRec."""
