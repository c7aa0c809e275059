"""Small servers that answer as each chain's public RPC documentation shows, for the chain checks."""
