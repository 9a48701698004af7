"""Regenerate tests/vectors/shuffle.json: known answers for the shuffle and the decryption
proofs of mixed ciphertexts.

    python tests/vectors/generate_shuffle.py          # rewrite shuffle.json
    python tests/vectors/generate_shuffle.py --check  # exit 1 if it would change

Everything is deterministic, as in generate.py: every secret, nonce and proof randomness
is ``hash_to_scalar(b"verivote/test-vectors", label)`` for a fixed label, and the mix and
the proofs go through the private twins (``_mix``, ``_prove_shuffle``,
``_prove_decryption``) that take their randomness as arguments.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from verivote import elgamal
from verivote.groups import get_group
from verivote.groups.base import Group, Scalar
from verivote.proofs import shuffle as sh
from verivote.proofs import shuffle_decryption as sd

HERE = Path(__file__).resolve().parent
LABEL = b"verivote/test-vectors"
CONTEXT = b"verivote/test/shuffle"
# (group, rows N, width w, permutation): small, modp4096 smaller still.
CASES = (
    ("ed25519", 3, 2, (2, 0, 1)),
    ("modp4096", 2, 2, (1, 0)),
    ("ristretto255", 3, 2, (2, 0, 1)),
)


def sc(group: Group, label: str) -> Scalar:
    return group.hash_to_scalar(LABEL, label.encode())


def stream(group: Group, prefix: str) -> Iterator[Scalar]:
    i = 0
    while True:
        yield sc(group, f"{prefix}-{i}")
        i += 1


def case(name: str, n: int, width: int, permutation: tuple[int, ...]) -> dict[str, Any]:
    group = get_group(name)
    secret = sc(group, "shuffle-key")
    public = group.generator**secret
    messages = [[(3 * i + k) % 5 for k in range(width)] for i in range(n)]
    inputs = [
        tuple(
            elgamal.encrypt_with_nonce(public, m, sc(group, f"shuffle-input-{i}-{k}"))
            for k, m in enumerate(row)
        )
        for i, row in enumerate(messages)
    ]
    witness = sh.ShuffleSecret(
        permutation,
        tuple(
            tuple(sc(group, f"shuffle-reencrypt-{i}-{k}") for k in range(width)) for i in range(n)
        ),
    )
    outputs = sh._mix(public, inputs, witness)
    proof = sh._prove_shuffle(public, inputs, outputs, witness, CONTEXT, stream(group, "shuffle-w"))
    sh.check_shuffle(public, inputs, outputs, proof, CONTEXT)
    share_secret = sc(group, "shuffle-share-key")
    share, dproof = sd._prove_decryption(
        share_secret, outputs[0][0].alpha, CONTEXT, sc(group, "shuffle-share-nonce")
    )
    sd.check_decryption(group.generator**share_secret, outputs[0][0].alpha, share, dproof, CONTEXT)
    return {
        "context": CONTEXT.hex(),
        "secret_key": secret.hex(),
        "public_key": public.hex(),
        "messages": messages,
        "input_nonce_labels": "shuffle-input-{i}-{k}",
        "inputs": [[ct.to_dict() for ct in row] for row in inputs],
        "permutation": list(permutation),
        "reencryption_nonces": [[r.hex() for r in row] for row in witness.nonces],
        "proof_randomness_labels": "shuffle-w-{0,1,2,…} in the order of _prove_shuffle",
        "generators": [h.hex() for h in sh.shuffle_generators(group, CONTEXT, n)],
        "outputs": [[ct.to_dict() for ct in row] for row in outputs],
        "proof": proof.to_dict(),
        "decryption": {
            "share_secret": share_secret.hex(),
            "share_key": (group.generator**share_secret).hex(),
            "alpha": outputs[0][0].alpha.hex(),
            "nonce": sc(group, "shuffle-share-nonce").hex(),
            "share": share.hex(),
            "proof": dproof.to_dict(),
        },
    }


def build() -> dict[str, Any]:
    return {
        "description": "verivote shuffle and mixed-decryption known answers; see "
        "tests/vectors/generate_shuffle.py",
        "label": LABEL.decode(),
        "groups": {name: case(name, n, w, perm) for name, n, w, perm in CASES},
    }


def render(content: Any) -> str:
    return json.dumps(content, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def main(argv: list[str]) -> int:
    path = HERE / "shuffle.json"
    text = render(build())
    if "--check" in argv:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print("stale: shuffle.json")
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
