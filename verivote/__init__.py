"""verivote: end-to-end verifiable elections.

Votes are encrypted on the voter's side with exponential ElGamal and proven well formed;
every entry goes on an append-only bulletin board; trustees decrypt the homomorphic tally
k-of-n with proofs; and an independent verifier checks the whole published record.
"""

__version__ = "0.1.0"
