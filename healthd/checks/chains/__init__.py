"""Chain-aware sync checks: one module per chain, plus what they share (calls, quorum, verdict)."""
