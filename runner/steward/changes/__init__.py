"""Change management: the target's kept state, what changed since it and whether it breaks consumers, and lint
of what changed."""
