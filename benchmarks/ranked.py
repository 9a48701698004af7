"""A ranked election end to end, timed phase by phase: ``python benchmarks/ranked.py``.

The election of ``verivote demo --ranked`` (a leader ranked by the alternative vote, four
candidates and four ranks, plus a referendum; three categories; three trustees, threshold
2) with ``--voters`` electors, about 80 % of whom vote. Each phase is timed on its own:
voting (devices encrypt, the board's rule book checks), each mix (the trustee shuffles and
proves; the board checks), each decryption of the mixed ballots (prove; check), the ranked
result (recombination, discrete logs, the counts; the board recomputes them), then the
independent verifier over the exported record. Prints Markdown; progress on stderr.

    python benchmarks/ranked.py --voters 2500 --group ed25519
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from verivote.demo_ranked import ranked_election, vote
from verivote.election import ceremony, decryption
from verivote.election.mixing import make_mix
from verivote.election.ranked_result import (
    decrypt_rows,
    make_mix_decryption,
    make_ranked_result_body,
)
from verivote.verify.record import verify_record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--group", default="ed25519")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows: list[tuple[str, float, str]] = []

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    start = time.perf_counter()
    sim = ranked_election(args.voters, args.group, args.seed)
    sim.run_ceremony()
    sim.publish_roll()
    rows.append(("set-up (ceremony, roll)", time.perf_counter() - start, ""))
    t = time.perf_counter()
    cast = vote(sim, log)
    sim.close()
    st, m = sim.board.state, sim.manifest
    n = len(cast)
    rows.append(("voting: encrypt + board check", time.perf_counter() - t, f"{n} counted"))
    t = time.perf_counter()
    encrypted = st.expected_tally()
    sim.board.post(sim.organiser, "tally", encrypted.to_dict())
    shares = {
        i: ceremony.combined_secret_share(sim.received[i], qualified=st.qualified) for i in (1, 2)
    }
    for i in (1, 2):
        body = decryption.make_decryption(m, encrypted, i, shares[i])
        sim.board.post(sim.trustees[i - 1].signer, "decryption", body)
    rows.append(("tally and its decryptions (referendum)", time.perf_counter() - t, ""))
    assert st.ranked is not None
    mix = st.ranked.mixes()["leader"]
    width = m.contest("leader").ranks
    total_rows = sum(len(r) for _, r in mix.groups)
    note = f"{total_rows} rows × {width} in {len(mix.groups)} groups"
    for i in (1, 2):
        t = time.perf_counter()
        body, _ = make_mix(m, sim.joint_key, "leader", i, mix.groups)
        rows.append((f"mix {i}: shuffle + prove", time.perf_counter() - t, note))
        t = time.perf_counter()
        sim.board.post(sim.trustees[i - 1].signer, "mix", body)
        rows.append((f"mix {i}: check", time.perf_counter() - t, note))
        log(f"mix {i} done")
    for i in (1, 2):
        t = time.perf_counter()
        body = make_mix_decryption(m, mix, i, shares[i])
        rows.append((f"decryption {i}: prove", time.perf_counter() - t, ""))
        t = time.perf_counter()
        sim.board.post(sim.trustees[i - 1].signer, "mix_decryption", body)
        rows.append((f"decryption {i}: check", time.perf_counter() - t, ""))
    t = time.perf_counter()
    values = decrypt_rows(m, mix, st.ranked.shares["leader"])
    result = make_ranked_result_body(m, mix, values, [1, 2])
    rows.append(("ranked result: combine + count", time.perf_counter() - t, ""))
    t = time.perf_counter()
    sim.board.post(sim.organiser, "ranked_result", result)
    rows.append(("ranked result: board recomputes", time.perf_counter() - t, ""))
    counts = decryption.combine(m, encrypted, st.decryptions, m.threshold)
    added = st.close_counts()["added"]
    body = decryption.make_result_body(m, encrypted, counts, [1, 2], [3], added)
    sim.board.post(sim.organiser, "result", body)
    with tempfile.TemporaryDirectory() as tmp:
        sim.board.export(Path(tmp))
        t = time.perf_counter()
        report = verify_record(Path(tmp))
        rows.append(("verify the whole record", time.perf_counter() - t, ""))
    total = time.perf_counter() - start
    rows.append(("**end to end**", total, "VALID" if report.valid else "INVALID"))
    print(f"Ranked election, {args.group}, {args.voters} electors, {n} counted ballots\n")
    print("| phase | s | ms per counted ballot | |")
    print("|---|---:|---:|---|")
    for name, seconds, extra in rows:
        print(f"| {name} | {seconds:.1f} | {1000 * seconds / n:.2f} | {extra} |")
    return 0 if report.valid else 1


if __name__ == "__main__":
    sys.exit(main())
