"""Fixity: streamed hashing under an I/O budget, audits of stored copies, and repair."""
