"""The audit log: append-only entries, hash chain, Merkle tree, signed checkpoints."""
